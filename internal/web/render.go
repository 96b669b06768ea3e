package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/service"
)

// pageNames are the templates/<name>.html files that are whole pages; each
// is parsed with layout.html and partials.html.
var pageNames = []string{
	"login", "webhooks", "webhook_form", "webhook_created", "webhook_detail",
	"delivery", "settings", "confirm", "error", "overview",
}

type pageTemplate struct{ t *template.Template }

// page is what every page template gets; Data is the page's own.
type page struct {
	Lang  string
	Langs []string
	Title string
	// Subject names what the page shows (a webhook, a delivery), ahead of
	// Title in the browser's title.
	Subject string
	Nav     string
	Session *herald.Session
	P       *service.Principal
	CSRF    string
	Path    string
	Flash   *flash
	Version string
	// Paused is true while the global switch is off; Held is then the
	// number of held deliveries.
	Paused bool
	Held   int
	Data   any
}

func (p *page) IsAdmin() bool { return p.P != nil && p.P.IsAdmin() }

func hashAssets() (map[string]string, error) {
	out := map[string]string{}
	err := fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFiles.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[strings.TrimPrefix(p, "static/")] = hex.EncodeToString(sum[:6])
		return nil
	})
	return out, err
}

func (c *Console) parseTemplates() (map[string]map[string]*pageTemplate, error) {
	out := map[string]map[string]*pageTemplate{}
	for _, lang := range c.i18n.langs {
		funcs := c.funcs(c.i18n.get(lang))
		base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/partials.html")
		if err != nil {
			return nil, err
		}
		out[lang] = map[string]*pageTemplate{}
		for _, name := range pageNames {
			t, err := base.Clone()
			if err != nil {
				return nil, err
			}
			if _, err := t.ParseFS(templateFiles, "templates/"+name+".html"); err != nil {
				return nil, err
			}
			out[lang][name] = &pageTemplate{t: t}
		}
	}
	return out, nil
}

func (c *Console) funcs(tr *catalog) template.FuncMap {
	eventTypes := c.svc.EventTypes()
	return template.FuncMap{
		"t":       tr.T,
		"explain": tr.explain,
		// th is t for texts with markup in their arguments: the text is
		// escaped, template.HTML arguments (a <time> from when) are not.
		"th": tr.html,
		"tf": func(key string, args []string) string {
			a := make([]any, len(args))
			for i, v := range args {
				a[i] = v
			}
			return tr.T(key, a...)
		},
		"authTypes": func() []string {
			return []string{herald.AuthNone, herald.AuthBasic, herald.AuthBearer, herald.AuthHeader, herald.AuthMTLS, herald.AuthSign}
		},
		"ops": func() []string {
			return []string{herald.OpIn, herald.OpNotIn, herald.OpExists, herald.OpDoesNotExist}
		},
		"severityPresets": func() []string {
			return []string{herald.SeverityPresetAll, herald.SeverityPresetAlerts, herald.SeverityPresetAlertsNoReachability, herald.SeverityPresetCritical}
		},
		"emptyCondition": func() conditionRow { return conditionRow{Operator: herald.OpIn} },
		"emptyHeader":    func() headerRow { return headerRow{} },
		// Labels offered for conditions (seed 001: "select a label or
		// customize a label"); any label, or data.PATH, may be typed.
		"labelSuggestions": func() []string {
			return []string{"severity", "alertname", "source", "subject", "type", "project", "namespace", "instance", "job", "host"}
		},
		"hasPrefix": strings.HasPrefix,
		"eventDesc": func(name string) string {
			for _, et := range eventTypes {
				if et.Name == name {
					if d := et.Description[tr.lang]; d != "" {
						return d
					}
					return et.Description[defaultLang]
				}
			}
			return ""
		},
		"asset":    func(name string) string { return "/static/" + name + "?v=" + c.assets[name] },
		"fmtTime":  fmtTime,
		"when":     when,
		"url":      displayURL,
		"shortURL": shortURL,
		"fieldID":  fieldID,
		"stateClass": func(v any) string {
			switch herald.State(fmt.Sprint(v)) {
			case herald.StateSucceeded:
				return "ok"
			case herald.StateFailed:
				return "bad"
			case herald.StateRetrying, herald.StateHeld:
				return "warn"
			}
			return "neutral"
		},
		"lines":      func(s []string) string { return strings.Join(s, "\n") },
		"join":       strings.Join,
		"has":        slices.Contains[[]string],
		"statusText": http.StatusText,
		"latency": func(d herald.Duration) string {
			return strconv.FormatFloat(float64(d.Std())/float64(time.Millisecond), 'f', 0, 64) + " ms"
		},
		"ms":          func(f float64) string { return strconv.FormatFloat(f, 'f', 0, 64) + " ms" },
		"pct":         pct,
		"list":        func(v ...string) []string { return v },
		"dur":         durMS,
		"headerLines": headerLines,
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, fmt.Errorf("dict: odd number of arguments")
			}
			m := make(map[string]any, len(kv)/2)
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
	}
}

// fmtTime writes times in UTC, the zone the console's time inputs use.
func fmtTime(v any) string {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case *time.Time:
		if x == nil {
			return ""
		}
		t = *x
	}
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

// fieldID is the id of the form control a service error field names
// ("auth.header_name" → "f-auth-header_name", "conditions[2].values" →
// "f-conditions-2-values"), for the error summary's links.
func fieldID(field string) string {
	var b strings.Builder
	b.WriteString("f-")
	dash := false
	for _, r := range field {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimRight(b.String(), "-")
}

// headerLines writes headers one per line, sorted, for the attempt log.
func headerLines(h map[string][]string) string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range h[k] {
			b.WriteString(k + ": " + v + "\n")
		}
	}
	return b.String()
}

// render writes a whole page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, rq *request, code int, name, titleKey, nav string, data any) error {
	pg := &page{
		Lang: rq.lang, Langs: c.i18n.langs, Title: rq.T(titleKey), Nav: nav, Session: rq.sess, P: rq.p,
		CSRF: rq.csrf, Path: r.URL.RequestURI(), Flash: rq.flash, Version: herald.Version, Data: data,
	}
	if sj, ok := data.(subjecter); ok {
		pg.Subject = sj.subject()
	}
	// Every signed-in page says when deliveries are paused (a reading
	// failure leaves the banner out rather than failing the page).
	if rq.sess != nil && rq.p != nil {
		if v, err := c.svc.Settings(r.Context(), rq.p); err == nil && !v.WebhooksEnabled {
			pg.Paused, pg.Held = true, v.Held
		}
	}
	return c.execute(w, rq, code, name, "layout", pg)
}

// fragment writes one named template (an htmx answer).
func (c *Console) fragment(w http.ResponseWriter, rq *request, code int, name string, data any) error {
	return c.execute(w, rq, code, "webhooks", name, data)
}

func (c *Console) execute(w http.ResponseWriter, rq *request, code int, page, name string, data any) error {
	pt := c.pages[rq.lang][page]
	if pt == nil {
		pt = c.pages[defaultLang][page]
	}
	var buf bytes.Buffer
	if err := pt.t.ExecuteTemplate(&buf, name, data); err != nil {
		return fmt.Errorf("render %s/%s: %w", page, name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, err := w.Write(buf.Bytes())
	return err
}

// errorData is the error page's.
type errorData struct {
	Status  int
	Heading string
	Message string
}

// fail answers an error: an error page, or for htmx a fragment that takes
// the place of the result. Internal errors are logged and shown as
// "internal error" only.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, rq *request, err error) {
	code := status(err)
	msg := rq.E(err)
	if herald.ErrorCode(err) == herald.EInternal {
		c.log.Error("console: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		msg = rq.T("error.internal")
	}
	if code == http.StatusServiceUnavailable || code == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "5")
	}
	var rerr error
	if isHTMX(r) {
		rerr = c.fragment(w, rq, code, "error-fragment", msg)
	} else {
		heading := rq.T("error.heading")
		switch code {
		case http.StatusNotFound:
			heading = rq.T("error.not_found")
		case http.StatusForbidden:
			heading = rq.T("error.forbidden")
		case http.StatusUnauthorized:
			heading = rq.T("error.unauthorized")
		}
		rerr = c.render(w, r, rq, code, "error", "error.heading", "", errorData{Status: code, Heading: heading, Message: msg})
	}
	if rerr != nil {
		c.log.Error("console: render error page", "err", rerr)
		http.Error(w, msg, code)
	}
}
