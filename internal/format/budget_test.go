package format

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/herald-hq/herald"
)

// bigEvent has data large enough to blow a budget of 256 KiB: 100,000 "<"
// (6 bytes each in JSON), a list of 5,000 strings of 60 bytes.
func bigEvent() *herald.Event {
	list := make([]string, 5000)
	for i := range list {
		list[i] = fmt.Sprintf("item-%05d-%s", i, strings.Repeat("x", 49))
	}
	data, _ := json.Marshal(map[string]any{"lt": strings.Repeat("<", 100000), "list": list, "s": "abc", "small": []string{"a", "b"}})
	ev := firingEvent()
	ev.Data = data
	return ev
}

// dataOf is what a template sees for ev.
func dataOf(ev *herald.Event) *TemplateData {
	return templateData(webhook(herald.FormatTemplate, "en"), newView(ev))
}

// renderWith renders tmpl for ev (as text) within l.
func renderWith(t *testing.T, tmpl string, ev *herald.Event, l renderLimits) (string, *budget, error) {
	t.Helper()
	return renderData(t, tmpl, dataOf(ev), l)
}

// renderData renders tmpl for data (as text) within l. Renders only read
// data: several may share it.
func renderData(t *testing.T, tmpl string, data *TemplateData, l renderLimits) (string, *budget, error) {
	t.Helper()
	c, err := compileTemplate(tmpl)
	if err != nil {
		t.Fatalf("compile %s: %v", tmpl, err)
	}
	body, b, err := c.executeWith(data, false, l)
	return string(body), b, err
}

func withMemory(n int64) renderLimits {
	l := defaultLimits()
	l.memory = n
	l.timeout = time.Hour // the budget is under test, not a busy machine's clock
	return l
}

func isMemoryError(err error) bool {
	return herald.ErrorField(err) == "template" && strings.Contains(herald.ErrorMessage(err), "more than") &&
		strings.Contains(herald.ErrorMessage(err), "MiB of memory")
}

// Every function of format template counts what it produces: within the
// budget it works as before and its output is charged; a call that would
// produce more than is left fails with the memory error before it
// allocates, and the charge never passes the limit.
func TestBudgetFuncs(t *testing.T) {
	t.Parallel()
	const limit = 256 << 10
	data := dataOf(bigEvent())
	tests := []struct {
		name string
		// fits renders within the limit to want; the budget used is at
		// least minUsed.
		fits    string
		want    string
		minUsed int64
		// over needs more than the limit, or more than overLimit.
		over      string
		overLimit int64
	}{
		{name: "printf", fits: `{{printf "%05d|%s" 42 .Type}}`, want: "00042|alert.firing", minUsed: 18,
			over: `{{printf "%0262145d" 0}}`},
		{name: "printf concatenation", fits: `{{$a := printf "%050000d" 0}}{{len (printf "%s%s" $a $a)}}`, want: "100000", minUsed: 150000,
			over: `{{$a := printf "%050000d" 0}}{{$b := printf "%s%s%s%s%s%s%s%s%s%s%s" $a $a $a $a $a $a $a $a $a $a $a}}`},
		{name: "printf of a list", fits: `{{printf "%v" .Data.small}}`, want: "[a b]", minUsed: 5,
			over: `{{printf "%v" .Data.list}}`},
		{name: "printf width from an argument", fits: `{{printf "%*d" 5 1}}`, want: "    1", minUsed: 5,
			over: `{{printf "%*d%*d" 1000000 1 1000000 1}}`},
		{name: "printf precision", fits: `{{printf "%.3f" 1.0}}`, want: "1.000", minUsed: 5,
			over: `{{printf "%.1000000f%.1000000f" 1.0 1.0}}`},
		{name: "print", fits: `{{print 1 2 "a"}}`, want: "1 2a", minUsed: 4,
			over: `{{$a := printf "%0100000d" 0}}{{print $a $a $a}}`},
		{name: "println", fits: `{{println "a" 1}}`, want: "a 1\n", minUsed: 4,
			over: `{{$a := printf "%0100000d" 0}}{{println $a $a $a}}`},
		{name: "html", fits: `{{html "<a>"}}`, want: "&lt;a&gt;", minUsed: 9, over: `{{html .Data.lt}}`},
		{name: "html as text/template writes it", fits: `{{html .Data.nope}}|{{html 1 "<"}}|{{html .Event.Labels}}`, want: "&lt;no value&gt;|1&lt;|map[alertname:HighCPU app.kubernetes.io/name:node-exporter instance:node-1:9100 job:node severity:critical]", minUsed: 20,
			over: `{{html .Data.lt 1}}`},
		{name: "js", fits: `{{js "<"}}`, want: `\u003C`, minUsed: 6, over: `{{js .Data.lt}}`},
		{name: "urlquery", fits: `{{urlquery "a b"}}`, want: "a+b", minUsed: 3, over: `{{urlquery .Data.lt}}`},
		{name: "json", fits: `{{json .Data.small}}`, want: `["a","b"]`, minUsed: 9, over: `{{json .Data}}`},
		{name: "quote", fits: `{{quote "<"}}`, want: `"\u003c"`, minUsed: 8, over: `{{quote .Data.lt}}`},
		{name: "upper", fits: `{{upper "abc"}}`, want: "ABC", minUsed: 3, over: `{{upper .Data.lt}}`},
		{name: "lower", fits: `{{lower "ABC"}}`, want: "abc", minUsed: 3, over: `{{lower .Data.lt}}`},
		{name: "upper of a list", fits: `{{upper .Data.small}}`, want: `["A","B"]`, minUsed: 18, over: `{{upper .Data.list}}`},
		{name: "default", fits: `{{default "x" .Data.nope}}`, want: "x", minUsed: 1,
			over: `{{$a := default "" .Data.lt}}{{$b := default "" .Data.lt}}{{$c := default "" .Data.lt}}`},
		{name: "join", fits: `{{join "," .Data.small}}`, want: "a,b", minUsed: 3, over: `{{join "," .Data.list}}`},
		{name: "truncate", fits: `{{truncate 2 "abc"}}`, want: "ab", minUsed: 2,
			over: `{{$a := truncate 1000000 .Data.lt}}{{$b := truncate 1000000 .Data.lt}}{{$c := truncate 1000000 .Data.lt}}`},
		{name: "formatTime", fits: `{{formatTime "2006" .Timestamp}}`, want: "2026", minUsed: 4,
			over: `{{formatTime .Data.lt .Timestamp}}`},
		{name: "get", fits: `{{get .Data "s"}}`, want: "abc", minUsed: 3,
			over: `{{$a := get .Data "lt"}}{{$b := get .Data "lt"}}{{$c := get .Data "lt"}}`},
		{name: "index", fits: `{{index .Data "s"}}`, want: "abc", minUsed: 3,
			over: `{{$a := index .Data "lt"}}{{$b := index .Data "lt"}}{{$c := index .Data "lt"}}`},
		{name: "index in a pipeline", fits: `{{"s" | index .Data}}`, want: "abc", minUsed: 3,
			over: `{{$a := "lt" | index .Data}}{{$b := "lt" | index .Data}}{{$c := "lt" | index .Data}}`},
		{name: "slice", fits: `{{slice "abcd" 1 3}}`, want: "bc", minUsed: 2,
			over: `{{$a := slice .Data.lt 0}}{{$b := slice .Data.lt 0}}{{$c := slice .Data.lt 0}}`},
		{name: "len", fits: `{{len .Data.lt}}`, want: "100000", minUsed: valueCost,
			over: `{{range 1000}}{{$n := len $.Data.lt}}{{end}}`, overLimit: 4096},
		{name: "time method", fits: `{{.Timestamp.Format "2006-01"}}`, want: "2026-03", minUsed: 7,
			over: `{{.Timestamp.Format .Data.lt}}`},
		{name: "time method piped", fits: `{{"2006" | .Timestamp.Format}}`, want: "2026", minUsed: 4,
			over: `{{.Data.lt | .Timestamp.Format}}`},
		{name: "time method of a variable", fits: `{{$t := .Timestamp}}{{$t.Format "01"}}`, want: "03", minUsed: 2,
			over: `{{$t := .Timestamp}}{{$t.Format .Data.lt}}`},
		{name: "time method of dot", fits: `{{with .Timestamp}}{{.Format "01"}}{{end}}`, want: "03", minUsed: 2,
			over: `{{with .Timestamp}}{{.Format $.Data.lt}}{{end}}`},
		{name: "time method of a pipeline", fits: `{{(.Timestamp.Add 3600000000000).Format "15"}}`, want: "13", minUsed: 2,
			over: `{{(.Timestamp.Add 0).Format .Data.lt}}`},
		{name: "range over a map", fits: `{{range $k, $v := .Labels}}{{$k}},{{end}}`, want: "alertname,app.kubernetes.io/name,instance,job,severity,", minUsed: 5 * entryCost,
			over: `{{range 10000}}{{range $.Labels}}{{end}}{{end}}`, overLimit: 64 << 10},
		{name: "nested calls", fits: `{{upper (printf "%s" (lower "A"))}}`, want: "A", minUsed: 3,
			over: `{{$a := printf "%060000d" 0}}{{upper (printf "%s%s" $a $a)}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, b, err := renderData(t, tt.fits, data, withMemory(limit))
			if err != nil {
				t.Fatalf("%s: %v", tt.fits, err)
			}
			if tt.want != "" && out != tt.want {
				t.Errorf("%s = %q, want %q", tt.fits, out, tt.want)
			}
			if b.used < tt.minUsed {
				t.Errorf("%s: %d bytes charged, want at least %d", tt.fits, b.used, tt.minUsed)
			}
			over := int64(limit)
			if tt.overLimit > 0 {
				over = tt.overLimit
			}
			_, b, err = renderData(t, tt.over, data, withMemory(over))
			if !isMemoryError(err) {
				t.Fatalf("%s: err = %v, want the memory error", tt.over, err)
			}
			if b.peak > over {
				t.Errorf("%s: %d bytes charged, over the limit of %d", tt.over, b.peak, over)
			}
		})
	}
}

// The chains: each step ten times the last, with no range and no
// output. The first 1 MB fits; the next step is refused before fmt
// allocates its 10 MB.
func TestBudgetPrintfChain(t *testing.T) {
	t.Parallel()
	step := func(from, to string) string {
		return fmt.Sprintf(`{{$%s := printf "%s" %s}}`, to, strings.Repeat("%s", 10), strings.TrimSpace(strings.Repeat("$"+from+" ", 10)))
	}
	three := `{{$a := printf "%01000000d" 0}}` + step("a", "b") + step("b", "c") + `{}`
	short := `{{$a:=printf "%01000000d" 0}}{{$b:=printf "%s%s%s%s%s%s%s%s%s%s" $a $a $a $a $a $a $a $a $a $a}}{{$c:=printf "%s%s%s%s%s%s%s%s%s%s" $b $b $b $b $b $b $b $b $b $b}}{}`
	for _, tmpl := range []string{three, short} {
		start := time.Now()
		err := ValidateTemplate(tmpl, "")
		if !isMemoryError(err) || !strings.Contains(herald.ErrorMessage(err), "line 1, column") {
			t.Fatalf("%s: err = %v, want the memory error with its place", tmpl, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("refusing took %v", d)
		}
	}
}

// The deadline is checked inside a function that runs long, not only at
// range iterations: here the clock passes the deadline while json walks a
// large value, in a template without range.
func TestBudgetDeadlineInsideFunction(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	calls := 0
	l := defaultLimits()
	l.now = func() time.Time {
		calls++
		// 1: the deadline is set; 2: the template starts; 3: json is
		// called. From then on the render is late.
		if calls <= 3 {
			return t0
		}
		return t0.Add(time.Hour)
	}
	_, b, err := renderWith(t, `{{json .Data.list}}`, bigEvent(), l)
	if herald.ErrorField(err) != "template" || !strings.Contains(herald.ErrorMessage(err), "longer than 1s") {
		t.Fatalf("err = %v, want the timeout", err)
	}
	if b.steps != 2 || calls < 4 {
		t.Fatalf("%d steps, %d clock readings: the deadline did not fire inside json", b.steps, calls)
	}

	// Every function call checks it: a render late before any loop fails
	// at its first call.
	calls = 0
	l.now = func() time.Time {
		calls++
		if calls <= 2 {
			return t0
		}
		return t0.Add(time.Hour)
	}
	_, b, err = renderWith(t, `{{upper "a"}}`, firingEvent(), l)
	if !strings.Contains(herald.ErrorMessage(err), "longer than 1s") || b.steps != 2 {
		t.Fatalf("err = %v after %d steps, want the timeout at upper", err, b.steps)
	}
}

// Methods with arguments go through the budget; those that could allocate
// without bound or change the event are refused.
func TestBudgetMethods(t *testing.T) {
	t.Parallel()
	ev := firingEvent()
	ev.OccurredAt = time.Date(2026, 12, 31, 12, 59, 59, 0, time.UTC)
	tests := []struct{ tmpl, want string }{
		// "1" writes the month, "12"; each step doubles: refused long
		// before it gets large.
		{`{{$a := .Timestamp.Format "1"}}` + strings.Repeat(`{{$a = .Timestamp.Format $a}}`, 40) + `{{len $a}}`, "MiB of memory"},
		{`{{.Event.Data.UnmarshalJSON "{}"}}`, "cannot be called in a template"},
		{`{{.Timestamp.AppendFormat .Event.Data "2006"}}`, "cannot be called with arguments"},
		{`{{.Type "x"}}`, "not a method"},
		{`{{.Timestamp.Format 1 2}}`, "wrong number of args"},
	}
	// The memory budget is under test, not the clock: on a busy machine the
	// doubling chain may take longer than TemplateTimeout under -race.
	slow := defaultLimits()
	slow.timeout = time.Hour
	for _, tt := range tests {
		_, _, err := renderWith(t, tt.tmpl, ev, slow)
		if herald.ErrorField(err) != "template" || !strings.Contains(herald.ErrorMessage(err), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.tmpl, err, tt.want)
		}
		if strings.Contains(herald.ErrorMessage(err), "_herald") {
			t.Errorf("%s: the message shows the rewritten template: %v", tt.tmpl, err)
		}
	}
	out, _, err := renderWith(t, `{{.Timestamp.Add 3600000000000 | printf "%v"}}|{{.Timestamp.Before .Timestamp}}|{{(.Timestamp.AddDate 0 0 1).Day}}`, ev, defaultLimits())
	if err != nil || out != "2026-12-31 13:59:59 +0000 UTC|false|1" {
		t.Fatalf("methods: %q, %v", out, err)
	}
}

// An over-budget render from Render is permanent; so are the other errors
// of a template, whatever the event; other errors are not.
func TestPermanent(t *testing.T) {
	t.Parallel()
	w := webhook(herald.FormatTemplate, "en")
	for _, tmpl := range []string{
		`{{$a := printf "%01000000d" 0}}{{printf "%s%s%s%s%s" $a $a $a $a $a}}`,
		`{{range 1000000000}}{{end}}`,
		`{{printf "%070000d" 0}}`,
		`{{json .Data.nope.deeper}}`,
		`{{.Type}}`, // not JSON
		`{{`,
	} {
		w.Template = tmpl
		_, err := Render(w, firingEvent())
		if err == nil || !Permanent(err) {
			t.Errorf("%s: err = %v, Permanent = false", tmpl, err)
		}
		if herald.ErrorCode(err) != herald.EInvalid || herald.ErrorMessage(err) == "internal error" {
			t.Errorf("%s: err = %#v is not the template's error", tmpl, err)
		}
	}
	for _, err := range []error{nil, errors.New("connection refused"), herald.Invalid("url", "bad")} {
		if Permanent(err) {
			t.Errorf("Permanent(%v) = true", err)
		}
	}
}

// The bounds are never below what fmt and encoding/json write.
func TestBounds(t *testing.T) {
	t.Parallel()
	ev := firingEvent()
	data := templateData(webhook(herald.FormatTemplate, "en"), newView(ev))
	args := []any{
		"héllo\x00\xff<\"'\u2028", "", 42, -1 << 63, uint64(math.MaxUint64), uint8(200), 3.14, 1e308, -math.MaxFloat64, 1 + 2i, true, nil,
		[]byte("ab\x00\xff"), []any{1, "a", nil, []any{}, map[string]any{}}, map[string]any{"k": "v", "n": json.Number("12"), "l": []any{true}},
		data, *data, ev, ev.OccurredAt, &ev.OccurredAt, time.Duration(-1 << 63), time.December, time.Wednesday, ev.OccurredAt.Location(),
		json.RawMessage(`{"a":"<&>","b":[1,2]}`), json.Number("-1.5e300"), map[string]string{"a": "b"}, []string{"x", "y"}, [3]int{1, 2, 3},
		struct{ A, b string }{"a", "b"}, new(int), map[int]string{1: "a"},
	}
	verbs := []string{"v", "+v", "#v", "s", "q", "#q", "+q", "x", " x", "# x", "X", "d", "5d", "-8.3f", "e", ".300f", "08b", "o", "O", "#o",
		"c", "U", "#U", "t", "p", "T", "10.2s", "010s", ".0s", "g", "G", "#x", "z", "!", "5.1q", ".5x", "20v", "-20v"}
	b := newBudget(withMemory(1 << 40))
	for _, a := range args {
		for _, v := range verbs {
			for _, f := range []string{"%" + v, "a%" + v + "b%%", "%" + v + "%" + v, "%[1]" + v + "%[1]" + v, "%*" + v, "%.*" + v} {
				as := []any{a}
				if strings.Contains(f, "*") {
					as = []any{7, a}
				}
				got := fmt.Sprintf(f, as...)
				bound, err := printfBound(b, f, as)
				if err != nil || bound < int64(len(got)) {
					t.Errorf("printf %q %T: bound %d (%v) < %d (%.500q)", f, a, bound, err, len(got), got)
				}
			}
		}
		as := []any{a, a, "s", 1}
		got := fmt.Sprintln(as...)
		if bound, err := sprintBound(b, as); err != nil || bound+1 < int64(len(got)) {
			t.Errorf("sprint %#v: bound %d (%v) < %d", a, bound, err, len(got))
		}
		if js, err := json.Marshal(a); err == nil {
			w := &walker{b: b, limit: 1 << 40}
			if w.json(reflect.ValueOf(a), 0); w.err != nil || w.n < int64(len(js)) {
				t.Errorf("json %#v: bound %d (%v) < %d", a, w.n, w.err, len(js))
			}
		}
	}
	for _, layout := range []string{"1", "2006", "Monday January 2 15:04:05.000000000 MST -07:00", time.RFC1123Z, "Z07:00:00 PM pm __2 002"} {
		for _, tm := range []time.Time{ev.OccurredAt, time.Date(-292277022399, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(9999, 9, 29, 12, 0, 0, 0, time.FixedZone("ABCDEFGH", -3600*13))} {
			if got := tm.Format(layout); int64(len(got)) > timeFormatBound(layout) {
				t.Errorf("Format %q of %v: %d bytes, bound %d", layout, tm, len(got), timeFormatBound(layout))
			}
		}
	}
}

// Every type a template can reach whose String, Error or Marshal methods
// fmt or encoding/json call has a bound; a new field of another such type
// must get one (in stringerBounds, or as a known json type).
func TestTemplateDataTypes(t *testing.T) {
	t.Parallel()
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(rt reflect.Type) {
		if seen[rt] {
			return
		}
		seen[rt] = true
		if hasFmtMethods(rt) && rt != numberType {
			_, ok := stringerBounds[rt]
			if !ok && rt.Kind() == reflect.Pointer {
				_, ok = stringerBounds[rt.Elem()]
			}
			if !ok {
				t.Errorf("%s has String, Error or Format methods but no bound in stringerBounds", rt)
			}
		}
		if (rt.Implements(marshalerType) || rt.Implements(textMarshalerType)) && rt != rawType && rt != timeType && rt != reflect.PointerTo(timeType) {
			t.Errorf("%s marshals itself but the json walker does not know its size", rt)
		}
		switch rt.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			walk(rt.Elem())
		case reflect.Map:
			walk(rt.Key())
			walk(rt.Elem())
		case reflect.Struct:
			if rt == timeType {
				return // its fields are not the template's
			}
			for i := range rt.NumField() {
				if rt.Field(i).IsExported() {
					walk(rt.Field(i).Type)
				}
			}
		}
	}
	walk(reflect.TypeFor[*TemplateData]())
	// The values the data decodes to, and what the allowed methods return.
	for _, v := range []any{map[string]any{}, []any{}, json.Number(""), "", true} {
		walk(reflect.TypeOf(v))
	}
	for rt, methods := range allowedMethods {
		for name := range methods {
			m, _ := rt.MethodByName(name)
			for i := range m.Type.NumOut() {
				walk(m.Type.Out(i))
			}
		}
	}
	// Methods without arguments are called by text/template itself: their
	// results must not grow with anything the template controls.
	for rt := range seen {
		for i := range rt.NumMethod() {
			m := rt.Method(i)
			if m.Type.NumIn() != 1 || m.Type.NumOut() == 0 {
				continue
			}
			switch out := m.Type.Out(0); out.Kind() {
			case reflect.String, reflect.Slice, reflect.Map, reflect.Interface:
				switch m.Name {
				case "String", "GoString", "MarshalJSON", "MarshalText", "MarshalBinary", "GobEncode", "Error", "Zone", "Local", "UTC", "Location":
				default:
					t.Errorf("%s.%s returns a %s: check that its size is bounded and add it here", rt, m.Name, out)
				}
			}
		}
	}
}

// The builtins replaced or followed by the budget write what
// text/template's own write, and method calls work as before.
func TestBuiltinsUnchanged(t *testing.T) {
	t.Parallel()
	ev := firingEvent()
	data := templateData(webhook(herald.FormatTemplate, "en"), newView(ev))
	for _, tmpl := range []string{
		`{{print 1 2 "a" "b" 3 nil .Data.nope}}|{{println .Labels.job 1}}|{{printf "%v %q %5.2f %[1]T %x" .Data.annotations "a" 3.14159}}`,
		`{{printf "%s %d %!" "a"}}|{{printf "%d" "x" 1 2}}|{{printf "%v" .Event.Labels}}|{{printf "%#v" .Webhook}}`,
		`{{html .Data.nope}}|{{html "<a href='x'>&</a>" 1}}|{{html .Event}}|{{html .Data}}|{{html nil}}`,
		`{{js "</script>\u2028"}}|{{js .Data.annotations}}|{{urlquery "a b&c=d" .Type}}|{{urlquery .Data.nope}}`,
		`{{index .Labels "job"}}|{{index .Data "annotations" "summary"}}|{{slice .Type 1 4}}|{{len .Labels}}|{{"job" | index .Labels}}`,
		`{{.Timestamp.Format "2006-01-02T15:04"}}|{{.Timestamp.Add 60000000000}}|{{.Timestamp.Before .Event.ReceivedAt}}|{{(.Timestamp.AddDate 0 1 0).Month}}`,
		`{{with .Timestamp}}{{.Format "15"}}{{end}}|{{$t := .Event.OccurredAt}}{{$t.Format "Jan"}}|{{"2006" | .Timestamp.Format}}|{{.Timestamp.Unix}}`,
		`{{range $k, $v := .Labels}}{{$k}}={{len $v}},{{end}}|{{if and .Type (index .Labels "job")}}yes{{end}}`,
	} {
		std, err := template.New("std").Option("missingkey=zero").Parse(tmpl)
		if err != nil {
			t.Fatalf("%s: %v", tmpl, err)
		}
		var want strings.Builder
		if err := std.Execute(&want, data); err != nil {
			t.Fatalf("%s: text/template: %v", tmpl, err)
		}
		got, _, err := renderWith(t, tmpl, ev, defaultLimits())
		if err != nil || got != want.String() {
			t.Errorf("%s:\n got %q (%v)\nwant %q", tmpl, got, err, want.String())
		}
	}
}
