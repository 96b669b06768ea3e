package web

import (
	"strings"
	"testing"
	"time"
)

func TestDisplayURL(t *testing.T) {
	for _, c := range []struct {
		in          string
		withQuery   bool
		want, want2 string // displayURL, shortURL
	}{
		{"https://oapi.dingtalk.com/robot/send?access_token=abc123", false, "https://oapi.dingtalk.com/robot/send?…", "https://oapi.dingtalk.com/robot/send?…"},
		{"https://oapi.dingtalk.com/robot/send?access_token=abc123", true, "https://oapi.dingtalk.com/robot/send?access_token=abc123", "https://oapi.dingtalk.com/robot/send?access_token=abc123"},
		{"https://bob:hunter2@example.com/hook", true, "https://bob:xxxxx@example.com/hook", "https://bob:xxxxx@example.com/hook"},
		{"https://example.com/" + strings.Repeat("a", 80) + "/end", true, "https://example.com/" + strings.Repeat("a", 80) + "/end",
			"https://example.com/" + strings.Repeat("a", 20) + "…" + strings.Repeat("a", 15) + "/end"},
	} {
		if got := displayURL(c.in, c.withQuery); got != c.want {
			t.Errorf("displayURL(%q, %v) = %q, want %q", c.in, c.withQuery, got, c.want)
		}
		got := shortURL(c.in, c.withQuery)
		if got != c.want2 {
			t.Errorf("shortURL(%q, %v) = %q, want %q", c.in, c.withQuery, got, c.want2)
		}
		if n := len([]rune(got)); n > maxURLRunes {
			t.Errorf("shortURL is %d runes", n)
		}
	}
}

func TestWhen(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 5, 0, time.FixedZone("CST", 8*3600))
	got := string(when(at))
	want := `<time datetime="2026-03-01T04:00:05Z" title="2026-03-01 04:00:05 UTC" data-local>2026-03-01 04:00:05 UTC</time>`
	if got != want {
		t.Fatalf("when = %s", got)
	}
	if when((*time.Time)(nil)) != "" || when(time.Time{}) != "" {
		t.Fatal("no time writes nothing")
	}
}
