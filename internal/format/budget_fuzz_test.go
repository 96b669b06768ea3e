package format

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/herald-hq/herald"
)

// fuzzMaxSteps stops a fuzzed render after so many steps (function calls,
// range iterations, template calls), so that loops end in milliseconds
// rather than at the 1s deadline: fuzzing then tries many more inputs.
const fuzzMaxSteps = 20000

// FuzzRenderTemplate renders any template for any event data and checks
// that no render allocates more than its budget allows, however it ends:
// the memory the process allocated while rendering (runtime.MemStats'
// TotalAlloc, which also counts garbage) stays under
//
//	6 × the bytes charged to the budget (which never exceeds MaxTemplateMemory)
//	+ 512 bytes and 8 bytes per byte of template for each step
//	+ 2 MiB and 16 bytes per byte of template and data,
//
// the first term being the buffers behind the values (fmt and encoding/json
// grow a buffer and copy it: up to 4 times their output),
// the second the garbage text/template makes evaluating a range body or a
// template call, the third the render's fixed costs (cloning the template,
// the output buffer) and printing the data. Without the budget a template of
// a few hundred bytes allocated gigabytes. The seed corpus is in
// testdata/fuzz/FuzzRenderTemplate; `go test` runs it.
//
// It also fails on internal errors: a bound below what fmt or encoding/json
// wrote (see budget.produce), or a panic in a function.
func FuzzRenderTemplate(f *testing.F) {
	f.Add(`{"text": {{quote (printf "[%s] %s" (upper .Severity) .Message)}}}`, `{"a": 1}`)
	f.Fuzz(func(t *testing.T, tmpl, data string) {
		if len(tmpl) > MaxTemplateSize || len(data) > 1<<20 {
			return
		}
		c, err := compileTemplate(tmpl)
		if err != nil {
			return
		}
		ev := firingEvent()
		if json.Valid([]byte(data)) {
			ev.Data = json.RawMessage(data)
		} else {
			ev.Subject = data
		}
		td := templateData(webhook(herald.FormatTemplate, "en"), newView(ev))
		l := defaultLimits()
		l.maxSteps = fuzzMaxSteps

		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, b, err := c.executeWith(td, false, l)
		runtime.ReadMemStats(&after)

		if err != nil && (strings.Contains(err.Error(), "internal error") || strings.Contains(err.Error(), "runtime error")) {
			t.Fatalf("render failed inside: %v", err)
		}
		if b.peak > b.limit {
			t.Fatalf("%d bytes charged, over the budget of %d", b.peak, b.limit)
		}
		alloc := int64(after.TotalAlloc - before.TotalAlloc)
		allowed := 6*b.peak + b.steps*(512+8*int64(len(tmpl))) + 2<<20 + 16*int64(len(tmpl)+len(data))
		if testing.Verbose() {
			t.Logf("allocated %d of %d allowed: %d bytes charged, %d steps; err %v", alloc, allowed, b.peak, b.steps, err)
		}
		if alloc > allowed {
			t.Fatalf("the render allocated %d bytes, more than the %d its budget allows (%d bytes charged, %d steps; err %v)",
				alloc, allowed, b.peak, b.steps, err)
		}
	})
}
