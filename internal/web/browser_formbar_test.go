package web_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// formBar is where the webhook form's action bar and its buttons are, in
// viewport coordinates, with what the page measures around them.
type formBar struct {
	ViewW, ViewH, PageW, PageH, ScrollY float64
	// Save and Send test: their boxes, and whether the element at their
	// middle is the button itself (nothing covers it).
	SaveTop, SaveBottom, SaveLeft, SaveRight    float64
	TestTop, TestBottom, TestLeft, TestRight    float64
	SaveOnTop, TestOnTop, PreviewInForm, InForm bool
	BarTop                                      float64
}

const measureFormBar = `(() => {
	const box = s => document.querySelector(s).getBoundingClientRect();
	const onTop = s => { const r = box(s); const e = document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2); return !!e && !!e.closest(s); };
	const save = box('#submit'), test = box('#send-test');
	return {ViewW: window.innerWidth, ViewH: window.innerHeight,
		PageW: document.documentElement.scrollWidth, PageH: document.documentElement.scrollHeight, ScrollY: window.scrollY,
		SaveTop: save.top, SaveBottom: save.bottom, SaveLeft: save.left, SaveRight: save.right,
		TestTop: test.top, TestBottom: test.bottom, TestLeft: test.left, TestRight: test.right,
		SaveOnTop: onTop('#submit'), TestOnTop: onTop('#send-test'),
		PreviewInForm: !!document.querySelector('#webhook-form #preview-section #preview'),
		InForm: !!document.querySelector('#webhook-form #form-actions #submit') && !!document.querySelector('#webhook-form #form-actions #send-test'),
		BarTop: box('#form-actions').top};
})()`

// focusUnderBar focuses the first field that lies under the action bar
// (or below the window) at the current scroll, and reports how far its
// bottom ends up below the bar's top (<= 0: visible above the bar), or
// -1000 when no field was under the bar.
const focusUnderBar = `(() => {
	const bar = document.querySelector('#form-actions').getBoundingClientRect();
	const fields = [...document.querySelectorAll('#webhook-form input:not([type=hidden]):not(.sr-only), #webhook-form select, #webhook-form textarea')]
		.filter(e => e.getClientRects().length > 0 && !e.closest('#form-actions'));
	const f = fields.find(e => e.getBoundingClientRect().bottom > bar.top);
	if (!f) return -1000;
	f.focus();
	return f.getBoundingClientRect().bottom - document.querySelector('#form-actions').getBoundingClientRect().top;
})()`

// The webhook form's Save and Send test stay in the window while the form
// scrolls, at desktop and phone width, for a new webhook and when
// modifying one, without horizontal scrolling; focus does not put a field
// under the bar; the preview is part of the form.
func TestBrowserFormActionBar(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	id := s.createWebhook(map[string]any{"name": "bar", "url": "https://example.com/hook", "event_types": []string{"image.push"}})
	b := newTab(t, s.url)
	b.navigate("/login")
	b.typeInto("#login-token", adminToken)
	b.clickAndLoad("#login-token-submit")

	for _, vp := range []struct {
		name   string
		w, h   int64
		mobile bool
	}{
		{"desktop", 1280, 900, false},
		{"phone", 390, 844, true},
	} {
		if vp.mobile {
			b.do("phone viewport", chromedp.EmulateViewport(vp.w, vp.h, chromedp.EmulateMobile))
		} else {
			b.do("desktop viewport", chromedp.EmulateViewport(vp.w, vp.h))
		}
		for i, page := range []string{"/webhooks/new", "/webhooks/" + id + "/edit"} {
			b.navigate(page)
			b.visible("#webhook-form")
			// With the advanced settings open the form is at its longest.
			b.click("#advanced > summary")
			b.visible("#f-max_attempts")

			check := func(where string) formBar {
				t.Helper()
				m := run(b, "measure the action bar", chromedp.Evaluate[formBar](measureFormBar))
				if !m.InForm || !m.PreviewInForm {
					t.Fatalf("%s %s: the action bar's buttons (%v) or the preview (%v) are not inside the form", vp.name, page, m.InForm, m.PreviewInForm)
				}
				for _, btn := range []struct {
					name                     string
					top, bottom, left, right float64
					onTop                    bool
				}{
					{"Save", m.SaveTop, m.SaveBottom, m.SaveLeft, m.SaveRight, m.SaveOnTop},
					{"Send test", m.TestTop, m.TestBottom, m.TestLeft, m.TestRight, m.TestOnTop},
				} {
					if btn.top < 0 || btn.bottom > m.ViewH || btn.left < 0 || btn.right > m.ViewW {
						t.Errorf("%s %s, %s (scrolled to %.0f): %s at [%.0f,%.0f]-[%.0f,%.0f] is outside the %.0fx%.0f window",
							vp.name, page, where, m.ScrollY, btn.name, btn.left, btn.top, btn.right, btn.bottom, m.ViewW, m.ViewH)
					} else if !btn.onTop {
						t.Errorf("%s %s, %s: something covers %s", vp.name, page, where, btn.name)
					}
				}
				if m.PageW > m.ViewW {
					t.Errorf("%s %s, %s: the page is %.0fpx wide in a %.0fpx window (horizontal scrolling)", vp.name, page, where, m.PageW, m.ViewW)
				}
				return m
			}

			first := check("as loaded")
			if first.PageH < 2*first.ViewH {
				t.Fatalf("%s %s: the page is only %.0fpx high for a %.0fpx window; the test needs a form longer than the window", vp.name, page, first.PageH, first.ViewH)
			}
			b.do("scroll to the middle", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, document.documentElement.scrollHeight / 2)`))
			check("in the middle")
			b.do("scroll to the top of the form", chromedp.Evaluate[chromedp.Void](`document.querySelector('#webhook-form').scrollIntoView({block: 'start'})`))
			check("at the top of the form")
			b.do("scroll to the end", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, document.documentElement.scrollHeight)`))
			check("at the end")

			// Focus scrolls a field that was under the bar to above it.
			b.do("scroll to the top", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
			below := run(b, "focus a field under the bar", chromedp.Evaluate[float64](focusUnderBar))
			if below == -1000 {
				t.Fatalf("%s %s: no field under the action bar at the top of the page", vp.name, page)
			}
			if below > 0 {
				t.Errorf("%s %s: a focused field ends %.0fpx under the action bar's top", vp.name, page, below)
			}
			check("after focusing a field")
			b.shot(fmt.Sprintf("form-bar-%s-%d", vp.name, i))
		}
	}
}
