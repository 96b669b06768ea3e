package format

import (
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/herald-hq/herald"
)

// Message catalogs live in messages/<language>.json, one file per language:
//
//	{
//	  "language": "en",
//	  "severities": {"info": "info", "warning": "warning", ...},
//	  "messages": {
//	    "_default": "Event {type}[ on {subject}][ in project {project}]",
//	    "image.push": "Image[ {subject}] pushed[ to project {project}][ by {data.operator}]",
//	    ...
//	  }
//	}
//
// A message text is literal text with placeholders in braces and optional
// parts in square brackets: an optional part is left out when any placeholder
// in it is empty, so texts read well whether or not the event has a subject.
// Placeholders: {type}, {id}, {subject}, {project}, {source}, {severity} (the
// catalog's word for it), {labels.NAME} and {data.PATH} (a dot path into the
// event's data; objects are written as JSON). Brackets and braces cannot be
// written literally; optional parts do not nest.
//
// Adding a language is adding a file: Languages, Message and Validate pick
// it up. Every file must hold the same message keys as en.json (tested).

//go:embed messages/*.json
var messageFiles embed.FS

// DefaultLanguage is the language used when a webhook names none, or one
// without a catalog.
const DefaultLanguage = "en"

// defaultMessageKey is the catalog entry for event types without their own.
const defaultMessageKey = "_default"

type msgCatalog struct {
	Language   string            `json:"language"`
	Severities map[string]string `json:"severities"`
	Messages   map[string]string `json:"messages"`
	// Chat holds the words of chat messages' field names (chat.go).
	Chat     map[string]string `json:"chat"`
	compiled map[string]msgText
}

// catalogs is loaded once from the embedded files and never changed.
var catalogs = mustLoadCatalogs()

func mustLoadCatalogs() map[string]*msgCatalog {
	cs, err := loadCatalogs()
	if err != nil {
		panic("format: " + err.Error()) // embedded at build time; tests load them
	}
	return cs
}

func loadCatalogs() (map[string]*msgCatalog, error) {
	names, err := messageFiles.ReadDir("messages")
	if err != nil {
		return nil, err
	}
	out := map[string]*msgCatalog{}
	for _, n := range names {
		b, err := messageFiles.ReadFile(path.Join("messages", n.Name()))
		if err != nil {
			return nil, err
		}
		var c msgCatalog
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, fmt.Errorf("messages/%s: %v", n.Name(), err)
		}
		if c.Language+".json" != n.Name() {
			return nil, fmt.Errorf("messages/%s: language %q does not match the file name", n.Name(), c.Language)
		}
		if _, ok := c.Messages[defaultMessageKey]; !ok {
			return nil, fmt.Errorf("messages/%s: no %s message", n.Name(), defaultMessageKey)
		}
		c.compiled = make(map[string]msgText, len(c.Messages))
		for k, s := range c.Messages {
			t, err := parseMsgText(s)
			if err != nil {
				return nil, fmt.Errorf("messages/%s: %s: %v", n.Name(), k, err)
			}
			c.compiled[k] = t
		}
		out[strings.ToLower(c.Language)] = &c
	}
	if out[strings.ToLower(DefaultLanguage)] == nil {
		return nil, fmt.Errorf("no %s catalog", DefaultLanguage)
	}
	return out, nil
}

// Languages returns the languages that have a message catalog, sorted
// ("en", "zh-CN").
func Languages() []string {
	out := make([]string, 0, len(catalogs))
	for _, c := range catalogs {
		out = append(out, c.Language)
	}
	sort.Strings(out)
	return out
}

// ValidLanguage reports whether lang has a message catalog ("" counts: it
// means DefaultLanguage). Case is not significant.
func ValidLanguage(lang string) bool {
	return lang == "" || catalogs[strings.ToLower(lang)] != nil
}

func catalogFor(lang string) *msgCatalog {
	if c := catalogs[strings.ToLower(lang)]; c != nil {
		return c
	}
	return catalogs[strings.ToLower(DefaultLanguage)]
}

// Message is the human text of ev in lang: the event's own message when it
// has one, otherwise the catalog entry for its type, or the catalog's generic
// entry for types without one. An unknown lang means DefaultLanguage.
func Message(lang string, ev *herald.Event) string {
	return message(lang, newView(ev))
}

func message(lang string, v *view) string {
	if v.ev.Message != "" {
		return v.ev.Message
	}
	c := catalogFor(lang)
	t, ok := c.compiled[v.ev.Type]
	if !ok {
		t, ok = catalogFor(DefaultLanguage).compiled[v.ev.Type]
		if ok {
			c = catalogFor(DefaultLanguage)
		} else {
			t = c.compiled[defaultMessageKey]
		}
	}
	return t.render(c, v)
}

// TestMessage is the human text of a test event (type herald.test) in lang.
func TestMessage(lang string) string {
	return Message(lang, &herald.Event{Type: herald.EventTypeTest})
}

// msgText is a parsed catalog text: a sequence of parts, some optional.
type msgText []msgGroup

type msgGroup struct {
	optional bool
	parts    []msgPart
}

// msgPart is literal text, or a placeholder when key is set.
type msgPart struct {
	lit string
	key string
}

func parseMsgText(s string) (msgText, error) {
	var (
		out msgText
		cur msgGroup
		lit strings.Builder
	)
	flushLit := func() {
		if lit.Len() > 0 {
			cur.parts = append(cur.parts, msgPart{lit: lit.String()})
			lit.Reset()
		}
	}
	flushGroup := func() {
		flushLit()
		if len(cur.parts) > 0 {
			out = append(out, cur)
		}
		cur = msgGroup{}
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '[':
			if cur.optional {
				return nil, fmt.Errorf("optional parts do not nest (offset %d)", i)
			}
			flushGroup()
			cur.optional = true
		case ']':
			if !cur.optional {
				return nil, fmt.Errorf("] without [ (offset %d)", i)
			}
			flushGroup()
		case '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("{ without } (offset %d)", i)
			}
			key := s[i+1 : i+end]
			if !validPlaceholder(key) {
				return nil, fmt.Errorf("unknown placeholder {%s}", key)
			}
			flushLit()
			cur.parts = append(cur.parts, msgPart{key: key})
			i += end
		case '}':
			return nil, fmt.Errorf("} without { (offset %d)", i)
		default:
			lit.WriteByte(c)
		}
	}
	if cur.optional {
		return nil, fmt.Errorf("[ without ]")
	}
	flushGroup()
	return out, nil
}

func validPlaceholder(k string) bool {
	switch k {
	case "type", "id", "subject", "project", "source", "severity":
		return true
	}
	for _, p := range []string{"labels.", "data."} {
		if rest, ok := strings.CutPrefix(k, p); ok && rest != "" && !strings.ContainsAny(rest, " {}[]") {
			return true
		}
	}
	return false
}

func (t msgText) render(c *msgCatalog, v *view) string {
	var sb strings.Builder
	for _, g := range t {
		var part strings.Builder
		complete := true
		for _, p := range g.parts {
			if p.key == "" {
				part.WriteString(p.lit)
				continue
			}
			val := placeholder(c, v, p.key)
			if val == "" {
				complete = false
			}
			part.WriteString(val)
		}
		if complete || !g.optional {
			sb.WriteString(part.String())
		}
	}
	return sb.String()
}

func placeholder(c *msgCatalog, v *view, key string) string {
	ev := v.ev
	switch key {
	case "type":
		return ev.Type
	case "id":
		return ev.ID
	case "subject":
		return ev.Subject
	case "project":
		return ev.Project
	case "source":
		return ev.Source
	case "severity":
		s := v.severity()
		if w, ok := c.Severities[s]; ok {
			return w
		}
		return s
	}
	if name, ok := strings.CutPrefix(key, "labels."); ok {
		return ev.Labels[name]
	}
	if p, ok := strings.CutPrefix(key, "data."); ok {
		if x, ok := v.lookup(p); ok {
			return text(x)
		}
	}
	return ""
}
