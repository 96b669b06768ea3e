package web

import (
	"html/template"
	"net/url"
	"time"
	"unicode/utf8"
)

// maxURLRunes is how long a URL may be in a list before it is shortened
// in the middle (the host and the end of the path stay readable).
const maxURLRunes = 60

// displayURL is what a page shows of a webhook's URL: the password of any
// credentials in it replaced, and the query string hidden ("?…") unless
// withQuery (the viewer may modify the webhook: query strings often carry
// tokens, DingTalk's access_token for one).
func displayURL(raw string, withQuery bool) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	hidden := !withQuery && (u.RawQuery != "" || u.ForceQuery)
	if hidden {
		u.RawQuery, u.ForceQuery = "", false
	}
	s := u.String()
	if hidden {
		s += "?…"
	}
	return s
}

// shortURL is displayURL shortened in the middle to maxURLRunes.
func shortURL(raw string, withQuery bool) string {
	s := displayURL(raw, withQuery)
	if utf8.RuneCountInString(s) <= maxURLRunes {
		return s
	}
	r := []rune(s)
	head, tail := maxURLRunes*2/3, maxURLRunes/3-1
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}

// when writes t as a <time> element: UTC in the page (and on hover), which
// static/app.js rewrites into the browser's time zone, relative where it
// helps ("3 min ago").
func when(v any) template.HTML {
	s := fmtTime(v)
	if s == "" {
		return ""
	}
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case *time.Time:
		t = *x
	}
	iso := t.UTC().Format(time.RFC3339)
	e := template.HTMLEscapeString
	return template.HTML(`<time datetime="` + e(iso) + `" title="` + e(s) + `" data-local>` + e(s) + `</time>`)
}

// subjecter is page data naming what the page is about: the browser's
// title then starts with it ("ops-alerts · Webhook · Herald"), so that tabs
// and history tell pages apart.
type subjecter interface{ subject() string }

func (d *detailData) subject() string  { return d.W.Name }
func (d deliveryData) subject() string { return d.D.ID }
func (d createdData) subject() string {
	if d.W == nil {
		return ""
	}
	return d.W.Name
}
func (d *formData) subject() string {
	if d.Editing {
		return d.F.Name
	}
	return ""
}
