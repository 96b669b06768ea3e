package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// topbarLayout is what the top bar looks like: its height, how far apart
// the middles of its items are (0 when they share one line), how far they
// overlap, its width and the page's.
type topbarLayout struct {
	Height, Spread, Line, Overlap, Width, PageWidth float64
}

// The top bar fits one line on a phone (390 px), signed in as an admin, in
// English and in 简体中文.
func TestBrowserTopbarOneLineOnPhone(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	b := newTab(t, s.url)
	b.navigate("/login")
	b.typeInto("#login-token", adminToken)
	b.clickAndLoad("#login-token-submit")
	b.do("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	const measure = `(() => {
		const bar = document.querySelector('.topbar');
		const items = [...bar.querySelectorAll('.brand, .mainnav a, .lang-switch button, .who, form[action="/logout"] button')]
			.filter(e => e.getClientRects().length > 0);
		const mids = items.map(e => { const r = e.getBoundingClientRect(); return (r.top + r.bottom) / 2; });
		const boxes = items.map(e => e.getBoundingClientRect()).sort((a, b) => a.left - b.left);
		let overlap = 0;
		for (let i = 1; i < boxes.length; i++) overlap = Math.max(overlap, boxes[i-1].right - boxes[i].left);
		const cs = getComputedStyle(bar);
		const line = Math.max(...items.map(e => e.getBoundingClientRect().height));
		return {Height: bar.getBoundingClientRect().height - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom),
			Spread: Math.max(...mids) - Math.min(...mids), Line: line, Overlap: overlap,
			Width: bar.scrollWidth, PageWidth: document.documentElement.scrollWidth};
	})()`
	for i, lang := range []string{"en", "zh-CN"} {
		if i > 0 { // only the other language's button shows on a phone
			b.clickAndLoad(`button[name=lang][value="` + lang + `"]`)
		}
		b.navigate("/webhooks")
		b.visible(".mainnav")
		l := run(b, "measure the top bar", chromedp.Evaluate[topbarLayout](measure))
		if l.Spread > 2 || l.Height > l.Line+2 {
			t.Errorf("%s: the top bar takes %.0fpx for items %.0fpx high whose middles are %.0fpx apart: more than one line at 390px", lang, l.Height, l.Line, l.Spread)
		}
		if l.Overlap > 0 {
			t.Errorf("%s: top bar items overlap by %.0fpx at 390px", lang, l.Overlap)
		}
		if l.Width > 390 || l.PageWidth > 390 {
			t.Errorf("%s: top bar %.0fpx, page %.0fpx wide at 390px", lang, l.Width, l.PageWidth)
		}
		b.shot("topbar-390-" + lang)
	}
}
