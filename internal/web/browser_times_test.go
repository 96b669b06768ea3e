package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// shownTime is a time the overview writes: its UTC value and what the
// page shows.
type shownTime struct {
	At, Fmt, Text, Tag string
}

// The overview's times (chart axis labels and bar tooltips in the SVG, the
// charts' tables, the period in the lead) follow the browser's time zone,
// not the server's UTC: here India (UTC+05:30, no daylight saving, so
// every hour and minute differs from UTC's), in English and 简体中文.
func TestBrowserOverviewTimesInBrowserZone(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(rc.Close)
	id := s.createWebhook(map[string]any{"name": "zone", "url": rc.URL, "event_types": []string{"*"}})
	s.mustAPI(http.StatusAccepted, "POST", "/events", map[string]any{"events": []map[string]any{{"type": "image.push"}, {"type": "image.push"}}}, nil)
	waitFor(t, 10*time.Second, "two deliveries to succeed", func() bool {
		var out struct{ Data []struct{ ID string } }
		s.mustAPI(http.StatusOK, "GET", "/deliveries?state=succeeded&webhook="+id, nil, &out)
		return len(out.Data) == 2
	})

	b := newTab(t, s.url)
	run(b, "set the time zone", func(ctx context.Context, _ *chromedp.Target) (cdp.Empty, error) {
		return chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Kolkata"})
	})
	if tz := run(b, "read the time zone", chromedp.Evaluate[string](`Intl.DateTimeFormat().resolvedOptions().timeZone`)); tz != "Asia/Kolkata" && tz != "Asia/Calcutta" { // ICU may name it by its old name
		t.Fatalf("the browser's time zone is %q", tz)
	}
	india := time.FixedZone("IST", 5*3600+30*60)
	b.navigate("/login")
	b.typeInto("#login-token", adminToken)
	b.clickAndLoad("#login-token-submit")

	for _, lang := range []string{"en", "zh-CN"} {
		if lang != "en" {
			b.clickAndLoad(`button[name=lang][value="` + lang + `"]`)
		}
		for _, win := range []string{"1h", "7d"} {
			b.navigate("/overview?window=" + win)
			b.visible("svg.chart-svg")
			shown := run(b, "read the chart times", chromedp.Evaluate[[]shownTime](`[...document.querySelectorAll('[data-at]')].map(e =>
				({At: e.getAttribute('data-at'), Fmt: e.getAttribute('data-at-fmt'), Text: e.textContent, Tag: e.tagName}))`))
			tags := map[string]int{}
			for _, st := range shown {
				tags[strings.ToLower(st.Tag)]++
				at, err := time.Parse(time.RFC3339, st.At)
				if err != nil {
					t.Fatalf("%s %s: data-at %q: %v", lang, win, st.At, err)
				}
				local, utc := at.In(india).Format("15:04"), at.UTC().Format("15:04")
				if !strings.Contains(st.Text, local) || strings.Contains(st.Text, utc) || strings.Contains(st.Text, "UTC") {
					t.Errorf("%s %s: <%s> for %s shows %q; want the India time %s, not UTC's %s", lang, win, st.Tag, st.At, st.Text, local, utc)
				}
				if wantDay := at.In(india).Format("02"); st.Fmt == "mdhm" && !strings.Contains(st.Text, wantDay) {
					t.Errorf("%s %s: %q lacks the India day %s", lang, win, st.Text, wantDay)
				}
			}
			// The x axis (SVG tspan), the bars' tooltips (SVG title) and the tables (time).
			if tags["tspan"] < 3*2 || tags["title"] < 2 || tags["time"] < 3 {
				t.Fatalf("%s %s: times shown in %v; want axis labels, tooltips and table cells", lang, win, tags)
			}
			// The UTC time stays on hover of the axis labels and the cells.
			hover := run(b, "read the hover texts", chromedp.Evaluate[[]string](`[...document.querySelectorAll('text.xlabel > title, .chart-table time')].map(e => e.tagName.toLowerCase() === 'time' ? e.title : e.textContent)`))
			for _, h := range hover {
				if !strings.HasSuffix(h, " UTC") {
					t.Errorf("%s %s: hover text %q, want the UTC time", lang, win, h)
				}
			}
			// The period in the lead: the shared <time data-local> mechanism.
			lead := run(b, "read the lead's time", chromedp.Evaluate[shownTime](`(() => { const e = document.querySelector('.lead time[data-local]');
				return {At: e.getAttribute('datetime'), Text: e.textContent, Tag: e.title}; })()`))
			at, err := time.Parse(time.RFC3339, lead.At)
			if err != nil {
				t.Fatalf("lead datetime %q: %v", lead.At, err)
			}
			if mmss := at.In(india).Format("04:05"); !strings.Contains(lead.Text, mmss) || strings.Contains(lead.Text, "UTC") || !strings.HasSuffix(lead.Tag, " UTC") {
				t.Errorf("%s %s: the lead shows %q (hover %q) for %s; want India's …%s, UTC on hover", lang, win, lead.Text, lead.Tag, lead.At, mmss)
			}
		}
		b.shot("overview-india-" + lang)
	}
}
