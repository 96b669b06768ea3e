package web

import (
	"slices"
	"strings"

	"github.com/herald-hq/herald"
)

// testTypes are the event types "Send test" offers for webhook w:
// herald.test first, then every catalog type w's event types select
// ("*" and "image.*" patterns expanded), then w's other exact types.
func testTypes(w *herald.Webhook, catalog []herald.EventType) []string {
	out := []string{herald.EventTypeTest}
	add := func(t string) {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	for _, et := range catalog {
		for _, p := range w.EventTypes {
			if typeSelected(p, et.Name) {
				add(et.Name)
				break
			}
		}
	}
	for _, p := range w.EventTypes {
		if !strings.Contains(p, "*") {
			add(p)
		}
	}
	return out
}

// typeSelected reports whether the event type pattern p ("*", "image.*" or
// an exact name) selects t.
func typeSelected(p, t string) bool {
	if p == "*" {
		return true
	}
	if prefix, ok := strings.CutSuffix(p, "*"); ok {
		return strings.HasPrefix(t, prefix)
	}
	return p == t
}
