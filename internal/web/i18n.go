package web

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
)

// The console's texts live in i18n/<language>.json, one flat object of
// key → text per language. Texts may hold fmt verbs (%s, %d) for arguments,
// except the service errors' texts ("err.<key>"), which name theirs
// ("{field}"; see errors.go).
// Every catalog has the same keys as en.json, with the same verbs (tested).
// Adding a language is adding a file and its name under "lang.<code>".

// defaultLang is used when neither the cookie nor Accept-Language names a
// language the console has.
const defaultLang = "en"

type catalog struct {
	lang  string
	texts map[string]string
}

// T returns the text of key with args; a missing key shows as the key itself
// (tests make sure none is missing).
func (c *catalog) T(key string, args ...any) string {
	s, ok := c.texts[key]
	if !ok {
		return key
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// html is T for a text shown with markup in its arguments: the text and
// the other arguments are escaped, template.HTML arguments kept as they are.
func (c *catalog) html(key string, args ...any) template.HTML {
	s, ok := c.texts[key]
	if !ok {
		s = key
	}
	a := make([]any, len(args))
	for i, v := range args {
		if h, ok := v.(template.HTML); ok {
			a[i] = string(h)
		} else {
			a[i] = template.HTMLEscapeString(fmt.Sprint(v))
		}
	}
	if len(a) == 0 {
		return template.HTML(template.HTMLEscapeString(s))
	}
	return template.HTML(fmt.Sprintf(template.HTMLEscapeString(s), a...))
}

type catalogs struct {
	byLang map[string]*catalog
	langs  []string // sorted, default first
}

func loadCatalogs(fsys fs.FS) (*catalogs, error) {
	names, err := fs.Glob(fsys, "i18n/*.json")
	if err != nil {
		return nil, err
	}
	cs := &catalogs{byLang: map[string]*catalog{}}
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		var texts map[string]string
		if err := json.Unmarshal(b, &texts); err != nil {
			return nil, fmt.Errorf("%s: %v", n, err)
		}
		lang := strings.TrimSuffix(path.Base(n), ".json")
		cs.byLang[lang] = &catalog{lang: lang, texts: texts}
		cs.langs = append(cs.langs, lang)
	}
	if cs.byLang[defaultLang] == nil {
		return nil, fmt.Errorf("i18n/%s.json is missing", defaultLang)
	}
	sort.Slice(cs.langs, func(i, j int) bool {
		return cs.langs[i] == defaultLang || cs.langs[j] != defaultLang && cs.langs[i] < cs.langs[j]
	})
	return cs, nil
}

func (cs *catalogs) get(lang string) *catalog {
	if c := cs.byLang[lang]; c != nil {
		return c
	}
	return cs.byLang[defaultLang]
}

func (cs *catalogs) has(key string) bool {
	_, ok := cs.byLang[defaultLang].texts[key]
	return ok
}

// match returns the console language for a tag ("zh", "zh-Hans-CN" → zh-CN),
// "" when there is none.
func (cs *catalogs) match(tag string) string {
	tag = strings.TrimSpace(tag)
	for _, l := range cs.langs {
		if strings.EqualFold(l, tag) {
			return l
		}
	}
	base, _, _ := strings.Cut(tag, "-")
	for _, l := range cs.langs {
		lb, _, _ := strings.Cut(l, "-")
		if strings.EqualFold(lb, base) {
			return l
		}
	}
	return ""
}

// negotiate picks the language: the user's choice (cookie), else the
// browser's Accept-Language (in order of preference), else English.
func (cs *catalogs) negotiate(r *http.Request) string {
	if ck, err := r.Cookie(langCookie); err == nil {
		if _, ok := cs.byLang[ck.Value]; ok {
			return ck.Value
		}
	}
	type pref struct {
		tag string
		q   float64
	}
	var prefs []pref
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if tag == "" || tag == "*" {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if _, err := fmt.Sscanf(v, "%g", &q); err != nil {
				q = 0
			}
		}
		prefs = append(prefs, pref{tag, q})
	}
	sort.SliceStable(prefs, func(i, j int) bool { return prefs[i].q > prefs[j].q })
	for _, p := range prefs {
		if p.q <= 0 {
			continue
		}
		if l := cs.match(p.tag); l != "" {
			return l
		}
	}
	return defaultLang
}

// setLanguage remembers the user's language in a cookie for a year.
func (c *Console) setLanguage(w http.ResponseWriter, r *http.Request, rq *request) error {
	lang := r.PostForm.Get("lang")
	if _, ok := c.i18n.byLang[lang]; ok {
		setCookie(w, r, langCookie, lang, 365*24*3600)
	}
	http.Redirect(w, r, localPath(r.PostForm.Get("next"), "/"), http.StatusSeeOther)
	return nil
}
