package format

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"
)

// Upper bounds of the size of what fmt and encoding/json write, computed
// before they are called so that an oversized value is refused before it is
// allocated. The bounds are generous (a bound may be several times the
// real size) but never below it; TestBounds checks them against fmt and
// encoding/json.

// maxFmtNum is more than fmt accepts as a width or precision (it stops
// near 1e7).
const maxFmtNum = 1 << 24

// spec is one verb of a format: its rune, flags, width and precision
// (-1 when absent).
type spec struct {
	verb         rune
	sharp, space bool
	wid, prec    int64
	erroring     bool // inside %!d(…), where fmt calls no String method
}

// printfBound bounds len(fmt.Sprintf(format, args...)).
func printfBound(b *budget, format string, args []any) (int64, error) {
	w := &walker{b: b, limit: b.left()}
	w.n = int64(len(format))
	// An explicit argument index ("%[2]d") or a width or precision from an
	// argument ("%*d") makes it hard to follow which argument a verb writes:
	// then each verb is bounded by the largest argument.
	loose := strings.ContainsAny(format, "[*")
	var starMax int64
	if loose {
		for _, a := range args {
			if n, ok := intArg(a); ok {
				starMax = max(starMax, min(abs(n), maxFmtNum))
			}
		}
	}
	argNum := 0
	used := false
	for i := 0; i < len(format) && !w.over(); {
		if format[i] != '%' {
			i++
			continue
		}
		i++
		s := spec{wid: -1, prec: -1}
	flags:
		for ; i < len(format); i++ {
			switch format[i] {
			case '#':
				s.sharp = true
			case ' ':
				s.space = true
			case '0', '+', '-':
			default:
				break flags
			}
		}
		// As fmt reads them: [index] width .precision [index] verb, where
		// width and precision are digits or "*" (from an argument).
		i = skipIndex(format, i)
		if i < len(format) && format[i] == '*' {
			s.wid, i = starMax, i+1
		} else {
			s.wid, i = parseNum(format, i)
		}
		if i+1 < len(format) && format[i] == '.' {
			i = skipIndex(format, i+1)
			if i < len(format) && format[i] == '*' {
				s.prec, i = starMax, i+1
			} else {
				s.prec, i = parseNum(format, i)
				s.prec = max(s.prec, 0)
			}
		}
		i = skipIndex(format, i)
		if i >= len(format) {
			w.n += 16 // %!(NOVERB)
			break
		}
		verb, size := utf8.DecodeRuneInString(format[i:])
		i += size
		s.verb = verb
		w.n += 32 // an error such as %!d(MISSING) or %!(BADWIDTH)
		if verb == '%' {
			continue
		}
		used = true
		if loose {
			var most int64
			for _, a := range args {
				v := &walker{b: b, limit: w.limit}
				v.fmt(reflect.ValueOf(a), s, 0)
				if v.err != nil {
					return 0, v.err
				}
				most = max(most, v.n)
			}
			w.n += most
			continue
		}
		if argNum < len(args) {
			w.fmt(reflect.ValueOf(args[argNum]), s, 0)
			argNum++
		}
	}
	if !loose || !used {
		// %!(EXTRA type=value, …)
		for _, a := range args[min(argNum, len(args)):] {
			w.fmt(reflect.ValueOf(a), spec{verb: 'v', wid: -1, prec: -1}, 0)
			w.n += 64
		}
	}
	if w.err != nil {
		return 0, w.err
	}
	return w.n, nil
}

// sprintBound bounds len(fmt.Sprint(args...)) and of fmt.Sprintln less one.
func sprintBound(b *budget, args []any) (int64, error) {
	w := &walker{b: b, limit: b.left()}
	for _, a := range args {
		w.fmt(reflect.ValueOf(a), spec{verb: 'v', wid: -1, prec: -1}, 0)
		w.n++ // a space between operands
	}
	return w.n, w.err
}

// skipIndex skips an argument index ("[2]") at format[i:], or the "[" of
// one that does not end.
func skipIndex(format string, i int) int {
	if i >= len(format) || format[i] != '[' {
		return i
	}
	if j := strings.IndexByte(format[i:], ']'); j >= 0 {
		return i + j + 1
	}
	return i + 1
}

// parseNum reads a decimal number at format[i:], -1 when there is none;
// beyond maxFmtNum it stays at maxFmtNum.
func parseNum(format string, i int) (int64, int) {
	n := int64(-1)
	for ; i < len(format) && format[i] >= '0' && format[i] <= '9'; i++ {
		n = min(max(n, 0)*10+int64(format[i]-'0'), maxFmtNum)
	}
	return n, i
}

func intArg(a any) (int64, bool) {
	v := reflect.ValueOf(a)
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return int64(min(v.Uint(), maxFmtNum)), true
	}
	return 0, false
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// walker sums a bound over a value, stopping as soon as it passes limit
// (the rest of the budget): a value too large is refused without being
// walked to its end.
type walker struct {
	b     *budget
	limit int64
	n     int64 // the bound so far
	extra int64 // memory the writer needs besides its output
	nodes int
	nest  int // the depth of the walk
	err   error
}

func (w *walker) over() bool {
	if w.err == nil && w.n+w.extra > w.limit {
		w.err = errTemplateMemory
	}
	return w.err != nil
}

// visit counts one node and checks the deadline now and then; it reports
// whether the walk should stop.
func (w *walker) visit() bool {
	w.nodes++
	if w.nodes%1024 == 0 && w.err == nil {
		if err := w.b.checkTime(); err != nil {
			w.err = err
		}
	}
	return w.over()
}

// maxDepth bounds the nesting the walkers follow; deeper values are
// refused. encoding/json decodes at most 10000 levels.
const maxDepth = 10000

var (
	timeType     = reflect.TypeFor[time.Time]()
	durationType = reflect.TypeFor[time.Duration]()
	monthType    = reflect.TypeFor[time.Month]()
	weekdayType  = reflect.TypeFor[time.Weekday]()
	locationType = reflect.TypeFor[time.Location]()
	numberType   = reflect.TypeFor[json.Number]()
	rawType      = reflect.TypeFor[json.RawMessage]()

	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// stringerBounds are the types of the template data (and of the values
// its functions return) whose String, Error, Format or GoString method fmt
// calls, with a bound of what they write. Values of other types with such
// methods are refused: their size cannot be known before they are written.
// TestTemplateDataTypes keeps this list complete.
var stringerBounds = map[reflect.Type]int64{
	timeType:                        128, // "2006-01-02 15:04:05.999999999 -0700 MST", or GoString's time.Date(…)
	durationType:                    32,
	monthType:                       16,
	weekdayType:                     16,
	reflect.PointerTo(locationType): 64,
}

var (
	stringerType   = reflect.TypeFor[fmt.Stringer]()
	errorType      = reflect.TypeFor[error]()
	formatterType  = reflect.TypeFor[fmt.Formatter]()
	goStringerType = reflect.TypeFor[fmt.GoStringer]()
)

func hasFmtMethods(t reflect.Type) bool {
	return t.Implements(stringerType) || t.Implements(errorType) || t.Implements(formatterType) || t.Implements(goStringerType)
}

// fmt adds a bound of what fmt writes for v with s at depth.
func (w *walker) fmt(v reflect.Value, s spec, depth int) {
	if w.visit() {
		return
	}
	w.nest++
	defer func() { w.nest-- }()
	if w.nest > maxDepth {
		w.err = errTemplateMemory
		return
	}
	if !v.IsValid() {
		w.n += 24 + max(s.wid, 0) // <nil>, %!d(<nil>)
		return
	}
	t := v.Kind()
	if t == reflect.Pointer && depth == 0 && !v.IsNil() && !(s.verb == 'p') {
		switch v.Elem().Kind() {
		case reflect.Struct, reflect.Map, reflect.Slice, reflect.Array:
			if s.erroring || !strings.ContainsRune("vsxXq", s.verb) || !hasFmtMethods(v.Type()) {
				w.n++ // &{…}
				w.fmt(v.Elem(), s, depth+1)
				return
			}
		}
	}
	switch t {
	case reflect.Struct, reflect.Map, reflect.Slice, reflect.Array, reflect.Interface:
		// The verb applies to the elements.
	default:
		w.n += max(s.wid, 0) // padding, at most the width
		if !validVerb(v, s.verb) {
			// %!d(string=…): the value written with %v, without its
			// String method.
			w.n += 16 + int64(len(v.Type().String()))
			s.verb, s.erroring = 'v', true
		}
	}
	w.value(v, s, depth)
}

// value adds a bound of v itself (fmt adds the padding and the error
// wrapper).
func (w *walker) value(v reflect.Value, s spec, depth int) {
	t := v.Type()
	if !s.erroring && v.Kind() != reflect.Interface && strings.ContainsRune("vsxXq", s.verb) && hasFmtMethods(t) {
		// fmt writes what the String (or Error, GoString) method returns;
		// with another verb, the value itself.
		if t == numberType {
			w.str(int64(v.Len()), s)
			return
		}
		bound, ok := stringerBounds[t]
		if !ok && t.Kind() == reflect.Pointer {
			bound, ok = stringerBounds[t.Elem()]
		}
		if !ok {
			w.err = fmt.Errorf("cannot bound the size of a %s", t)
			return
		}
		w.str(bound, s)
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		w.n += 5
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		w.n += intBound(t.Bits(), s)
	case reflect.Float32, reflect.Float64:
		w.n += floatBound(s)
	case reflect.Complex64, reflect.Complex128:
		w.n += 2*floatBound(s) + 3
	case reflect.String:
		w.str(int64(v.Len()), s)
	case reflect.Interface:
		if v.IsNil() {
			w.n += 24 + max(s.wid, 0) + int64(len(t.String())) // <nil>, or interface {}(nil) for %#v
			return
		}
		w.fmt(v.Elem(), s, depth+1)
	case reflect.Pointer:
		w.n += 24 + int64(len(t.String())) // 0xc000012345, or (*T)(0xc000012345) for %#v
		if !v.IsNil() && s.erroring {
			// %!s(*T=&{…}): written again from the top level.
			w.fmt(v.Elem(), s, 0)
		}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && strings.ContainsRune("sqxX", s.verb) {
			w.n += max(s.wid, 0)
			w.str(int64(v.Len()), s) // written as a string
			return
		}
		w.n += 4 + int64(len(t.String()))
		for i := range v.Len() {
			w.n += 2 // ", "
			if w.fmt(v.Index(i), s, depth+1); w.err != nil {
				return
			}
		}
	case reflect.Map:
		w.n += 4 + int64(len(t.String()))
		it := v.MapRange()
		for it.Next() {
			w.n += 3
			if w.fmt(it.Key(), s, depth+1); w.err != nil {
				return
			}
			if w.fmt(it.Value(), s, depth+1); w.err != nil {
				return
			}
		}
		w.extra += int64(v.Len()) * entryCost // fmt sorts the keys
	case reflect.Struct:
		w.n += 4 + int64(len(t.String()))
		for i := range v.NumField() {
			w.n += int64(len(t.Field(i).Name)) + 3
			if w.fmt(v.Field(i), s, depth+1); w.err != nil {
				return
			}
		}
	default: // chan, func, unsafe pointer: an address
		w.n += 24 + int64(len(t.String()))
	}
}

// validVerb reports whether fmt writes v with verb without an error
// wrapper such as %!d(string=…).
func validVerb(v reflect.Value, verb rune) bool {
	if verb == 'v' {
		return true
	}
	if !v.IsValid() {
		return false
	}
	var verbs string
	switch v.Kind() {
	case reflect.Bool:
		verbs = "t"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		verbs = "bcdoOqxXU"
	case reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		verbs = "beEfFgGxX"
	case reflect.String, reflect.Slice, reflect.Array:
		verbs = "sqxX"
	case reflect.Pointer, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		verbs = "pbdoxX"
	}
	return strings.ContainsRune(verbs, verb)
}

// str adds a bound for a string (or a value written as one) of n bytes.
func (w *walker) str(n int64, s spec) {
	if s.prec >= 0 && (s.verb == 's' || s.verb == 'q' || s.verb == 'v' || s.verb == 'x' || s.verb == 'X') {
		n = min(n, utf8.UTFMax*s.prec) // precision counts characters (bytes for x)
	}
	switch {
	case s.verb == 'q' || (s.verb == 'v' && s.sharp):
		w.n += 4*n + 2 // "\x00" for a byte at worst
	case s.verb == 'x' || s.verb == 'X':
		if s.space || s.sharp {
			w.n += 5 * n // "0x61 " a byte
		} else {
			w.n += 2 * n
		}
	default:
		w.n += n
	}
}

// intBound bounds an integer of bits bits written with s: its digits in
// the verb's base (or the precision), a sign and a prefix ("0x"), or a
// quoted character ('\U0010ffff', U+10FFFF '…').
func intBound(bits int, s spec) int64 {
	var digits int64
	switch s.verb {
	case 'd', 'v':
		digits = int64(bits)*31/100 + 1
	case 'o', 'O':
		digits = int64(bits)/3 + 1
	case 'x', 'X':
		digits = int64(bits)/4 + 1
	case 'c':
		digits = utf8.UTFMax
	case 'q', 'U':
		digits = 24
	default:
		digits = int64(bits)
	}
	n := max(digits, s.prec) + 1
	if s.sharp || s.verb == 'O' {
		n += 2
	}
	return n
}

// floatBound bounds a float: %f of 1e308 has 309 digits, and the precision.
func floatBound(s spec) int64 {
	return 330 + max(s.prec, 0)
}

// json adds a bound of what json.Marshal writes for v at depth.
func (w *walker) json(v reflect.Value, depth int) {
	if w.visit() {
		return
	}
	if depth > maxDepth {
		w.err = errTemplateMemory
		return
	}
	if !v.IsValid() {
		w.n += 4 // null
		return
	}
	if k := v.Kind(); k == reflect.Interface || k == reflect.Pointer {
		if v.IsNil() {
			w.n += 4
			return
		}
		w.json(v.Elem(), depth+1)
		return
	}
	t := v.Type()
	switch t {
	case rawType:
		w.n += 6*int64(v.Len()) + 4 // compacted, with <, > and & escaped: "\u003c"
		return
	case numberType:
		w.n += int64(v.Len()) + 4
		return
	case timeType:
		w.n += 48 // "2006-01-02T15:04:05.999999999Z07:00"
		return
	}
	if t.Implements(marshalerType) || t.Implements(textMarshalerType) {
		w.err = fmt.Errorf("cannot bound the size of a %s", t)
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		w.n += 5
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		w.n += 21
	case reflect.Float32, reflect.Float64:
		w.n += 32
	case reflect.String:
		w.n += 6*int64(v.Len()) + 2 // "\u0000" a byte at worst
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			w.n += 4*int64(v.Len())/3 + 8 // base64
			return
		}
		w.n += 2
		for i := range v.Len() {
			w.n++
			if w.json(v.Index(i), depth+1); w.err != nil {
				return
			}
		}
	case reflect.Map:
		w.n += 2
		it := v.MapRange()
		for it.Next() {
			w.n += 2
			if k := it.Key(); k.Kind() == reflect.String {
				w.n += 6*int64(k.Len()) + 2
			} else {
				w.n += 32 // a number as a quoted key
			}
			if w.json(it.Value(), depth+1); w.err != nil {
				return
			}
		}
		w.extra += int64(v.Len()) * entryCost // json sorts the keys
	case reflect.Struct:
		w.n += 2
		for i := range v.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name := f.Name
			if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag != "" {
				name = tag
			}
			w.n += 6*int64(len(name)) + 4
			if w.json(v.Field(i), depth+1); w.err != nil {
				return
			}
		}
	default: // chan, func, complex: json.Marshal fails
		w.n += 4
	}
}
