package app_test

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// printfChain is the template: a printf of a million bytes, then
// levels that each print the one before ten times, with no range and no
// output.
func printfChain(levels int) string {
	vars := "abcdefgh"
	var b strings.Builder
	b.WriteString(`{{$a := printf "%01000000d" 0}}`)
	for i := 1; i < levels; i++ {
		fmt.Fprintf(&b, `{{$%c := printf "%s" %s}}`, vars[i], strings.Repeat("%s", 10),
			strings.TrimSpace(strings.Repeat("$"+string(vars[i-1])+" ", 10)))
	}
	b.WriteString(`{}`)
	return b.String()
}

// chain188 is the 188-byte template of the report; it writes
// nothing, which content_type text/plain accepts.
const chain188 = `{{$a:=printf "%01000000d" 0}}{{$b:=printf "%s%s%s%s%s%s%s%s%s%s" $a $a $a $a $a $a $a $a $a $a}}{{$c:=printf "%s%s%s%s%s%s%s%s%s%s" $b $b $b $b $b $b $b $b $b $b}}`

// totalAlloc is the memory the process has allocated so far.
func totalAlloc() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// A template whose render needs more than the memory budget is refused at
// save and at POST /webhooks/test with 400 naming template, and refusing it
// costs the process a few megabytes, not the hundreds that got it
// OOM-killed. A saved template that only blows up on a real event fails
// that delivery with the reason in its attempts; the process keeps serving.
//
// Not parallel: it measures the allocations of the whole process (the
// server runs in it), which other tests running at the same time would
// make meaningless.
func TestTemplateMemoryBudget(t *testing.T) {
	h := start(t, nil)
	rc := newReceiver(t, nil)
	const mb = 1 << 20

	before := totalAlloc()
	for name, tmpl := range map[string]string{"three levels": printfChain(3), "188 bytes": chain188} {
		body := func() map[string]any {
			return map[string]any{"name": "budget", "project": "p", "url": rc.URL, "event_types": []string{"*"},
				"format": "template", "template": tmpl, "content_type": "text/plain"}
		}
		for _, path := range []string{"/api/v1/webhooks", "/api/v1/webhooks/test"} {
			start := time.Now()
			code, raw := h.do(adminToken, "POST", path, body(), nil)
			if code != http.StatusBadRequest {
				t.Fatalf("%s: POST %s: %d %s, want 400", name, path, code, raw)
			}
			e := decodeError(t, raw)
			if e.Error.Code != "invalid" || e.Error.Field != "template" || !strings.Contains(e.Error.Message, "MiB of memory") {
				t.Fatalf("%s: POST %s: %+v, want invalid template naming the memory", name, path, e.Error)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("%s: POST %s took %v", name, path, d)
			}
		}
	}
	grew := totalAlloc() - before
	t.Logf("refusing the templates allocated %d MiB", grew/mb)
	if grew > 96*mb {
		t.Errorf("refusing the templates allocated %d MiB", grew/mb)
	}
	var list struct {
		Data []createdWebhook `json:"data"`
	}
	h.mustDo(http.StatusOK, "GET", "/api/v1/webhooks", nil, &list)
	if len(list.Data) != 0 {
		t.Fatalf("a refused template was saved: %+v", list.Data)
	}
	if rc.count() != 0 {
		t.Fatalf("a refused test was sent")
	}

	// The sample event has no data.s: this chain renders it in a few
	// kilobytes. An event with 10 KB in data.s makes it 100 KB, 1 MB, 10 MB
	// and 100 MB, over the budget at the third step.
	chain := `{{$a := printf "` + strings.Repeat("%s", 10) + `"` + strings.Repeat(" .Data.s", 10) + `}}`
	for _, v := range []string{"b", "c", "d"} {
		prev := map[string]string{"b": "a", "c": "b", "d": "c"}[v]
		chain += `{{$` + v + ` := printf "` + strings.Repeat("%s", 10) + `"` + strings.Repeat(" $"+prev, 10) + `}}`
	}
	chain += `{"n": {{len $d}}}`
	w := h.createWebhook(map[string]any{"project": "p", "url": rc.URL, "format": "template", "template": chain})
	before = totalAlloc()
	h.sendEvents(map[string]any{"type": "x", "project": "p", "data": map[string]any{"s": strings.Repeat("x", 10000)}})
	d := h.finalDelivery(w.ID)
	if d.State != "failed" || len(d.Log) != 1 {
		t.Fatalf("delivery %s with %d attempts, want failed after one (a render over budget is permanent)", d.State, len(d.Log))
	}
	for _, a := range d.Log {
		if !strings.Contains(a.Error, "MiB of memory") || a.StatusCode != 0 {
			t.Errorf("attempt %d: status %d, error %q, want the memory budget", a.Number, a.StatusCode, a.Error)
		}
	}
	grew = totalAlloc() - before
	t.Logf("%d failed renders allocated %d MiB", len(d.Log), grew/mb)
	if grew > 160*mb {
		t.Errorf("%d failed renders allocated %d MiB", len(d.Log), grew/mb)
	}
	if rc.count() != 0 {
		t.Fatalf("the receiver got %d requests", rc.count())
	}
	// The server is alive and sound templates still deliver.
	ok := h.createWebhook(map[string]any{"project": "q", "url": rc.URL, "format": "template", "template": `{"type": {{json .Type}}}`})
	h.sendEvents(map[string]any{"type": "y", "project": "q"})
	if d := h.finalDelivery(ok.ID); d.State != "succeeded" {
		t.Fatalf("a sound template after the refused ones: %s", d.State)
	}
}
