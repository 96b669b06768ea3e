package dispatch

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/format"
)

// The standard envelope of one event is rendered once per language and
// shared; other formats, other languages and other events are not served
// from it, and every body equals what format.Render makes.
func TestRenderCache(t *testing.T) {
	ev := &herald.Event{ID: "evt_1", Type: "image.pushed", Project: "p", Data: json.RawMessage(`{"tag":"1.27"}`),
		OccurredAt: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	other := *ev
	other.ID = "evt_2"
	hook := func(f, lang string) *herald.Webhook { return &herald.Webhook{Format: f, Language: lang} }
	var c renderCache
	get := func(w *herald.Webhook, e *herald.Event) format.Rendered {
		t.Helper()
		r, err := c.render(w, e)
		if err != nil {
			t.Fatal(err)
		}
		want, err := format.Render(w, e)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(r.Body, want.Body) || r.ContentType != want.ContentType {
			t.Fatalf("cached %s/%s body %s, want %s", w.Format, w.Language, r.Body, want.Body)
		}
		return r
	}
	a, b := get(hook("", "en"), ev), get(hook(herald.FormatStandard, "en"), ev)
	if &a.Body[0] != &b.Body[0] {
		t.Fatal("two standard webhooks of one language rendered the event twice")
	}
	if zh := get(hook("", "zh-CN"), ev); &zh.Body[0] == &a.Body[0] {
		t.Fatal("another language got the English body")
	}
	if o := get(hook("", "en"), &other); &o.Body[0] == &a.Body[0] {
		t.Fatal("another event got this event's body")
	}
	ce1, ce2 := get(hook(herald.FormatCloudEvents, "en"), ev), get(hook(herald.FormatCloudEvents, "en"), ev)
	if &ce1.Body[0] == &ce2.Body[0] {
		t.Fatal("a format other than standard was served from the cache")
	}
	// An event in use survives however many others pass through; memory
	// stays within two generations.
	for range 3 {
		for range renderCacheSize {
			e := *ev
			get(hook("", "en"), &e)
		}
		if again := get(hook("", "en"), ev); &again.Body[0] != &a.Body[0] {
			t.Fatal("an event in use was rendered again after other events filled the cache")
		}
	}
	if n := len(c.cur) + len(c.old); n > 2*renderCacheSize {
		t.Fatalf("the cache holds %d entries, more than %d", n, 2*renderCacheSize)
	}
}
