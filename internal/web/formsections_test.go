package web_test

import (
	"math"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The webhook form's advanced section is collapsed for a new webhook and
// opens when it holds a setting that is not the default.
func TestFormAdvancedSection(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	c := s.client()
	c.loginToken(adminToken)
	_, body := c.get("/webhooks/new")
	mustContain(t, body, `<details class="form-section" id="advanced">`, `id="f-max_attempts"`, `class="form-actions"`)
	plain := s.createWebhook(map[string]any{"name": "plain", "url": "https://example.com/a", "event_types": []string{"*"}})
	tuned := s.createWebhook(map[string]any{"name": "tuned", "url": "https://example.com/b", "event_types": []string{"*"}, "ordered": true})
	_, body = c.get("/webhooks/" + plain + "/edit")
	mustContain(t, body, `<details class="form-section" id="advanced">`)
	code, body := c.get("/webhooks/" + tuned + "/edit")
	if code != http.StatusOK {
		t.Fatalf("edit: %d", code)
	}
	mustContain(t, body, `<details class="form-section" id="advanced" open>`)
}

func luminance(hex string) float64 {
	hex = strings.TrimPrefix(hex, "#")
	if len(hex) == 3 {
		hex = string([]byte{hex[0], hex[0], hex[1], hex[1], hex[2], hex[2]})
	}
	v, _ := strconv.ParseUint(hex, 16, 32)
	ch := func(c uint64) float64 {
		f := float64(c) / 255
		if f <= 0.04045 {
			return f / 12.92
		}
		return math.Pow((f+0.055)/1.055, 2.4)
	}
	return 0.2126*ch(v>>16&0xff) + 0.7152*ch(v>>8&0xff) + 0.0722*ch(v&0xff)
}

func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

// Input borders and the focus ring reach 3:1 against the page and card
// backgrounds (WCAG 1.4.11), the top bar's ring against the top bar.
func TestNonTextContrast(t *testing.T) {
	css, err := os.ReadFile("static/app.css")
	if err != nil {
		t.Fatal(err)
	}
	find := func(re string) string {
		m := regexp.MustCompile(re).FindSubmatch(css)
		if m == nil {
			t.Fatalf("app.css has no match for %s", re)
		}
		return string(m[1])
	}
	bg := find(`--bg: (#[0-9a-f]{3,6})`)
	card := find(`--card: (#[0-9a-f]{3,6})`)
	topbar := find(`\.topbar \{[^}]*background: (#[0-9a-f]{3,6})`)
	ring := find(`(?m)^:focus-visible \{ outline: 3px solid (#[0-9a-f]{3,6})`)
	topRing := find(`\.topbar :focus-visible \{ outline-color: (#[0-9a-f]{3,6})`)
	border := find(`select, textarea \{[^}]*border: 1px solid (#[0-9a-f]{3,6})`)
	for _, c := range []struct{ what, fg, bg string }{
		{"focus ring on the page", ring, bg}, {"focus ring on a card", ring, card},
		{"top bar focus ring", topRing, topbar}, {"input border on a card", border, card}, {"input border on the page", border, bg},
	} {
		if r := contrast(c.fg, c.bg); r < 3 {
			t.Errorf("%s: %s on %s is %.2f:1, want 3:1", c.what, c.fg, c.bg, r)
		}
	}
}
