package format

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"text/template"
	"time"

	"github.com/herald-hq/herald"
)

// MaxTemplateMemory is the memory budget of one render of format template:
// 4 MiB. Every value a template function produces (printf, print, json,
// join, upper, default, index, a method such as Format…) counts against it
// with its size in bytes, cumulatively over the render; a function that
// would produce a value larger than what is left fails before it
// allocates. It is 16 times the default ingest.max_body_bytes, so a
// template may write or transform the whole data of any event several
// times, and small enough that runaway templates on every delivery worker
// at once hold a bounded amount: delivery.workers × 4 MiB of values (1 GiB
// with the default 256 workers), plus the transient buffers of fmt and
// encoding/json behind them. A render that needs more fails permanently
// (see Permanent).
const MaxTemplateMemory = 4 << 20

var errTemplateMemory = fmt.Errorf("rendering needs more than %d MiB of memory", MaxTemplateMemory>>20)

// errTemplateSteps is the error of a render stopped by budget.maxSteps,
// a limit only tests and fuzzing set.
var errTemplateSteps = errors.New("rendering took more steps than allowed")

// budget is the memory and time allowance of one render. It is used by one
// goroutine (text/template executes sequentially).
type budget struct {
	limit    int64     // bytes that may be charged; MaxTemplateMemory
	used     int64     // bytes charged so far, net of releases
	peak     int64     // the highest used has been
	steps    int64     // function calls, range iterations and template calls
	maxSteps int64     // 0: no limit (the default); tests and fuzzing set one
	deadline time.Time // rendering fails once now() is after it
	now      func() time.Time
}

// renderLimits are the limits of one render; defaultLimits are the
// documented ones, tests pass others.
type renderLimits struct {
	memory   int64
	timeout  time.Duration
	output   int
	maxSteps int64
	now      func() time.Time
}

func defaultLimits() renderLimits {
	return renderLimits{memory: MaxTemplateMemory, timeout: TemplateTimeout, output: MaxTemplateOutput, now: time.Now}
}

func newBudget(l renderLimits) *budget {
	now := l.now
	if now == nil {
		now = time.Now
	}
	return &budget{limit: l.memory, maxSteps: l.maxSteps, now: now, deadline: now().Add(l.timeout)}
}

// step counts one unit of work and checks the deadline. Every function of
// the template calls it first, as does every range iteration and template
// call (see instrument).
func (b *budget) step() error {
	b.steps++
	if b.maxSteps > 0 && b.steps > b.maxSteps {
		return errTemplateSteps
	}
	return b.checkTime()
}

func (b *budget) checkTime() error {
	if b.now().After(b.deadline) {
		return errTemplateTimeout
	}
	return nil
}

// reserve charges n bytes, or fails with errTemplateMemory, charging
// nothing, when fewer than n are left. Functions reserve an upper bound of
// what they will allocate before they allocate it, and release what they
// did not use.
func (b *budget) reserve(n int64) error {
	if n < 0 || n > b.limit-b.used {
		return errTemplateMemory
	}
	b.used += n
	b.peak = max(b.peak, b.used)
	return nil
}

// release gives back n bytes of a reservation that were not used.
func (b *budget) release(n int64) {
	if n > 0 {
		b.used -= n
	}
}

// left is how many bytes may still be charged.
func (b *budget) left() int64 { return b.limit - b.used }

// Fixed charges of values whose size does not depend on their input.
const (
	// valueCost is charged for a value that is not a string (a number, a
	// list or map passed through, a time).
	valueCost = 16
	// entryCost is what a function allocates besides its result for each
	// element of a list or map it walks (a slice of parts, sorted keys).
	entryCost = 48
)

// chargeValue charges a value a function passes through or produces
// without a bound reserved for it: its length if it is a string, valueCost
// otherwise. Values passed through share memory with their source; charging
// them anyway keeps the count simple and safe.
func (b *budget) chargeValue(v reflect.Value) error {
	for v.IsValid() && v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	if v.IsValid() && v.Kind() == reflect.String {
		return b.reserve(int64(v.Len()))
	}
	return b.reserve(valueCost)
}

// produce reserves bound bytes, calls f and keeps only the length of its
// string result charged.
func (b *budget) produce(bound int64, f func() (string, error)) (string, error) {
	if err := b.reserve(bound); err != nil {
		return "", err
	}
	s, err := f()
	if int64(len(s)) > bound {
		// A bound that was wrong: keep the count honest and stop.
		b.used += int64(len(s)) - bound
		return "", fmt.Errorf("internal error: output of %d bytes over its bound of %d", len(s), bound)
	}
	b.release(bound - int64(len(s)))
	return s, err
}

// funcs returns the function set of format template bound to b; see
// TemplateData. It replaces text/template's builtins that allocate
// (print, printf, println, html, js, urlquery) by versions that reserve
// their output first.
func (b *budget) funcs() template.FuncMap {
	return template.FuncMap{
		tickFunc:   func() (string, error) { return "", b.step() },
		chargeFunc: b.chargeResult,
		rangeFunc:  b.chargeRange,
		methodFunc: b.callMethod,
		"printf":   b.printf,
		"print":    func(args ...any) (string, error) { return b.sprint(false, args) },
		"println":  func(args ...any) (string, error) { return b.sprint(true, args) },
		"html": func(args ...any) (string, error) {
			return b.escape(args, 5, template.HTMLEscapeString) // '"' → "&#34;"
		},
		"js": func(args ...any) (string, error) {
			return b.escape(args, 6, template.JSEscapeString) // '<' → "\u003C"
		},
		"urlquery": func(args ...any) (string, error) {
			return b.escape(args, 3, func(s string) string { return template.URLQueryEscaper(s) }) // ' ' → "%20"
		},
		"json": func(v any) (string, error) {
			if err := b.step(); err != nil {
				return "", err
			}
			return b.marshal(v)
		},
		"quote": func(v any) (string, error) {
			if err := b.step(); err != nil {
				return "", err
			}
			s, err := b.text(v)
			if err != nil {
				return "", err
			}
			return b.produce(6*int64(len(s))+2, func() (string, error) {
				q, _ := json.Marshal(s) // a string always marshals
				return string(q), nil
			})
		},
		"upper": func(v any) (string, error) { return b.mapCase(v, strings.ToUpper) },
		"lower": func(v any) (string, error) { return b.mapCase(v, strings.ToLower) },
		"default": func(def, v any) (any, error) {
			if err := b.step(); err != nil {
				return nil, err
			}
			if isEmpty(v) {
				v = def
			}
			return v, b.chargeValue(reflect.ValueOf(v))
		},
		"join":     b.join,
		"truncate": b.truncate,
		"formatTime": func(layout string, v any) (string, error) {
			if err := b.step(); err != nil {
				return "", err
			}
			switch v.(type) {
			case time.Time, *time.Time, herald.Time:
			default:
				s, err := b.text(v) // the string formatTime parses
				if err != nil {
					return "", err
				}
				v = s
			}
			var s string
			var err error
			out, rerr := b.produce(timeFormatBound(layout), func() (string, error) {
				s, err = formatTime(layout, v)
				return s, nil
			})
			if rerr != nil {
				return "", rerr
			}
			return out, err
		},
		"get": func(v any, path string) (any, error) {
			if err := b.step(); err != nil {
				return nil, err
			}
			if m, ok := v.(map[string]string); ok {
				if err := b.reserve(int64(len(m)) * entryCost); err != nil { // normalize copies it
					return nil, err
				}
			}
			x, _ := lookupPath(normalize(v), path)
			return x, b.chargeValue(reflect.ValueOf(x))
		},
	}
}

// chargeFunc follows each call of a builtin that passes values through
// without allocating (index, slice, len): it checks the deadline and
// charges the result (see chargeValue).
const chargeFunc = "_heraldCharge"

func (b *budget) chargeResult(v reflect.Value) (reflect.Value, error) {
	if err := b.step(); err != nil {
		return v, err
	}
	return v, b.chargeValue(v)
}

// rangeFunc ends the pipeline of every range: text/template sorts the keys
// of a map before it ranges over it, which rangeFunc charges (entryCost a
// key) along with a step.
const rangeFunc = "_heraldRange"

func (b *budget) chargeRange(v reflect.Value) (reflect.Value, error) {
	if err := b.step(); err != nil {
		return v, err
	}
	u := v
	for u.IsValid() && u.Kind() == reflect.Interface {
		u = u.Elem()
	}
	if u.IsValid() && u.Kind() == reflect.Map {
		return v, b.reserve(int64(u.Len()) * entryCost)
	}
	return v, b.reserve(valueCost)
}

func (b *budget) printf(format string, args ...any) (string, error) {
	if err := b.step(); err != nil {
		return "", err
	}
	bound, err := printfBound(b, format, args)
	if err != nil {
		return "", err
	}
	return b.produce(bound, func() (string, error) { return fmt.Sprintf(format, args...), nil })
}

// sprint is print (fmt.Sprint) and, with ln, println.
func (b *budget) sprint(ln bool, args []any) (string, error) {
	if err := b.step(); err != nil {
		return "", err
	}
	bound, err := sprintBound(b, args)
	if err != nil {
		return "", err
	}
	if ln {
		bound++
	}
	return b.produce(bound, func() (string, error) {
		if ln {
			return fmt.Sprintln(args...), nil
		}
		return fmt.Sprint(args...), nil
	})
}

// escape is html, js and urlquery: their argument as text (text/template's
// rule: a lone string as is, anything else as fmt.Sprint writes it after
// printable) with escape applied, which writes at most factor bytes for
// each byte.
func (b *budget) escape(args []any, factor int64, escape func(string) string) (string, error) {
	if err := b.step(); err != nil {
		return "", err
	}
	s, ok := "", false
	if len(args) == 1 {
		s, ok = args[0].(string)
	}
	if !ok {
		for i, a := range args {
			if p, ok := printable(reflect.ValueOf(a)); ok {
				args[i] = p
			}
		}
		bound, err := sprintBound(b, args)
		if err != nil {
			return "", err
		}
		if s, err = b.produce(bound, func() (string, error) { return fmt.Sprint(args...), nil }); err != nil {
			return "", err
		}
	}
	return b.produce(factor*int64(len(s)), func() (string, error) { return escape(s), nil })
}

// printable is what text/template's html, js and urlquery make of an
// argument before fmt.Sprint: a pointer's target, "<no value>" for nil.
func printable(v reflect.Value) (any, bool) {
	if v.Kind() == reflect.Pointer {
		for (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && !v.IsNil() {
			v = v.Elem()
		}
	}
	if !v.IsValid() {
		return "<no value>", true
	}
	if !v.Type().Implements(errorType) && !v.Type().Implements(stringerType) {
		if v.CanAddr() && (reflect.PointerTo(v.Type()).Implements(errorType) || reflect.PointerTo(v.Type()).Implements(stringerType)) {
			v = v.Addr()
		} else if k := v.Kind(); k == reflect.Chan || k == reflect.Func {
			return nil, false
		}
	}
	return v.Interface(), true
}

// mapCase is upper and lower: a case mapping writes at most three bytes for
// each byte (an invalid byte becomes U+FFFD).
func (b *budget) mapCase(v any, f func(string) string) (string, error) {
	if err := b.step(); err != nil {
		return "", err
	}
	s, err := b.text(v)
	if err != nil {
		return "", err
	}
	return b.produce(3*int64(len(s)), func() (string, error) { return f(s), nil })
}

func (b *budget) join(sep string, list any) (string, error) {
	if err := b.step(); err != nil {
		return "", err
	}
	rv := reflect.ValueOf(list)
	if !rv.IsValid() {
		return "", nil
	}
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return "", fmt.Errorf("join: %T is not a list", list)
	}
	n := rv.Len()
	if err := b.reserve(int64(n) * entryCost); err != nil { // the slice of parts
		return "", err
	}
	parts := make([]string, n)
	total := int64(0)
	for i := range parts {
		if i%1024 == 1023 {
			if err := b.checkTime(); err != nil {
				return "", err
			}
		}
		s, err := b.text(rv.Index(i).Interface())
		if err != nil {
			return "", err
		}
		parts[i] = s
		total += int64(len(s))
	}
	if n > 1 {
		total += int64(n-1) * int64(len(sep))
	}
	return b.produce(total, func() (string, error) { return strings.Join(parts, sep), nil })
}

func (b *budget) truncate(n int, v any) (string, error) {
	if err := b.step(); err != nil {
		return "", err
	}
	s, err := b.text(v)
	if err != nil {
		return "", err
	}
	if n < 0 {
		n = 0
	}
	if len(s) > n { // at most n characters need at most 4n bytes: no need to count them all
		i := 0
		for j := range s {
			if i == n {
				s = s[:j]
				break
			}
			i++
		}
	}
	return s, b.reserve(int64(len(s)))
}

// text is toString within the budget: what join, upper, quote… make of a
// value that is not a string.
func (b *budget) text(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case fmt.Stringer:
		return b.sprintOne(v)
	}
	if s, ok := scalarText(v); ok {
		return s, nil
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Map, reflect.Slice, reflect.Array, reflect.Struct:
		s, err := b.marshal(v)
		if err != nil {
			var me *json.UnsupportedTypeError
			if errors.As(err, &me) {
				return "", nil // text() writes such values as ""
			}
		}
		return s, err
	}
	return b.sprintOne(v)
}

func (b *budget) sprintOne(v any) (string, error) {
	bound, err := sprintBound(b, []any{v})
	if err != nil {
		return "", err
	}
	return b.produce(bound, func() (string, error) { return fmt.Sprint(v), nil })
}

// marshal is json.Marshal within the budget.
func (b *budget) marshal(v any) (string, error) {
	w := &walker{b: b, limit: b.left()}
	w.json(reflect.ValueOf(v), 0)
	if w.err != nil {
		return "", w.err
	}
	if err := b.reserve(w.extra); err != nil { // sorting map keys and the like
		return "", err
	}
	var merr error
	s, err := b.produce(w.n, func() (string, error) {
		out, err := json.Marshal(v)
		merr = err
		return string(out), nil
	})
	if err != nil {
		return "", err
	}
	return s, merr
}

// timeFormatBound bounds the length of a time written with layout: each
// element of a layout writes at most four times its own length ("1", the
// month, writes "12"; "2006" a year of up to 13 characters).
func timeFormatBound(layout string) int64 {
	switch layout {
	case "RFC3339", "unix", "unixMilli":
		return 64
	}
	return 4*int64(len(layout)) + 64
}

// methodFunc calls a method of a value of the template data that takes
// arguments: compileTemplate rewrites {{.Timestamp.Format "2006"}} into
// {{_heraldMethod .Timestamp "Format" "2006"}}, so that such calls are
// within the budget too. Only the methods in allowedMethods may be called:
// the others could allocate without bound or change the event.
const methodFunc = "_heraldMethod"

// allowedMethods are the methods with arguments a template may call, by
// receiver type. Their results have a fixed size but for Format's, which
// is bounded by timeFormatBound.
var allowedMethods = map[reflect.Type]map[string]bool{
	reflect.TypeFor[time.Time](): {
		"Add": true, "AddDate": true, "After": true, "Before": true, "Compare": true, "Equal": true,
		"Format": true, "In": true, "Round": true, "Sub": true, "Truncate": true,
	},
}

func (b *budget) callMethod(recv reflect.Value, name string, args ...reflect.Value) (reflect.Value, error) {
	if err := b.step(); err != nil {
		return reflect.Value{}, err
	}
	for recv.IsValid() && (recv.Kind() == reflect.Interface || recv.Kind() == reflect.Pointer) {
		if recv.IsNil() {
			return reflect.Value{}, fmt.Errorf("nil pointer evaluating %s.%s", recv.Type(), name)
		}
		recv = recv.Elem()
	}
	if !recv.IsValid() {
		return reflect.Value{}, fmt.Errorf("nil data; no method %s", name)
	}
	m := recv.MethodByName(name)
	if !m.IsValid() {
		if _, ok := reflect.PointerTo(recv.Type()).MethodByName(name); ok {
			return reflect.Value{}, fmt.Errorf("method %s of %s cannot be called in a template", name, recv.Type())
		}
		return reflect.Value{}, fmt.Errorf("%s has arguments but is not a method of %s", name, recv.Type())
	}
	if !allowedMethods[recv.Type()][name] {
		return reflect.Value{}, fmt.Errorf("method %s of %s cannot be called with arguments in a template", name, recv.Type())
	}
	mt := m.Type()
	if mt.IsVariadic() || mt.NumIn() != len(args) {
		return reflect.Value{}, fmt.Errorf("wrong number of args for %s: want %d got %d", name, mt.NumIn(), len(args))
	}
	in := make([]reflect.Value, len(args))
	for i, a := range args {
		want := mt.In(i)
		for a.IsValid() && a.Kind() == reflect.Interface && !a.IsNil() {
			a = a.Elem()
		}
		switch {
		case !a.IsValid():
			return reflect.Value{}, fmt.Errorf("invalid value; expected %s", want)
		case a.Type().AssignableTo(want):
		case isNumber(a.Kind()) && isNumber(want.Kind()) && a.Type().ConvertibleTo(want):
			a = a.Convert(want)
		default:
			return reflect.Value{}, fmt.Errorf("wrong type for value; expected %s; got %s", want, a.Type())
		}
		in[i] = a
	}
	bound := int64(valueCost)
	if name == "Format" {
		bound = timeFormatBound(in[0].String())
	}
	if err := b.reserve(bound); err != nil {
		return reflect.Value{}, err
	}
	out := m.Call(in)
	if s := out[0]; s.Kind() == reflect.String {
		b.release(bound - int64(s.Len()))
	}
	return out[0], nil
}

func isNumber(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// memoryError is the error of a render over its budget.
func memoryError(at string) *herald.Error {
	return herald.InvalidKey("template", "template.memory", herald.Args{"max": fmt.Sprint(MaxTemplateMemory >> 20), "at": at},
		"%s%v (a value that grows without bound?)", at, errTemplateMemory)
}
