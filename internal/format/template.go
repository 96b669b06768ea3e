package format

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"mime"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"text/template/parse"
	"time"

	"github.com/herald-hq/herald"
)

// Limits of format template (with MaxTemplateMemory, in budget.go). A
// template that passes validation on the sample event may still exceed them
// on a real one; that delivery then fails permanently with the reason in its
// attempt log (see Permanent).
const (
	// MaxTemplateSize is the longest template text accepted: 32 KiB.
	MaxTemplateSize = 32 << 10
	// MaxTemplateOutput is the largest body a template may render: 64 KiB.
	MaxTemplateOutput = 64 << 10
	// TemplateTimeout bounds the rendering time of one body: 1s of wall
	// time, generous enough that a busy machine never fails a sound template,
	// tight enough that a runaway loop cannot hold a worker.
	TemplateTimeout = time.Second
)

// TemplateData is what a template of format template sees as dot:
//
//	.ID .Type .Project .Source .Subject .Severity .Message   strings
//	.Timestamp   time.Time (occurred_at in UTC); write it with formatTime
//	.Labels      map of strings: {{.Labels.alertname}} ("" when missing)
//	.Data        the event's data decoded: {{.Data.repository.name}};
//	             numbers keep their text. A missing key is nil (printed as
//	             "<no value>": write values with json, or use default), and
//	             a field of a missing object is an error: use
//	             {{get .Data "repository.name"}} for data that may be absent
//	.Event       the event itself (herald.Event; .Event.Data is raw JSON)
//	.Webhook     .Webhook.ID .Webhook.Name .Webhook.Project .Webhook.Language
//
// Functions, besides text/template's own (and, or, not, len, index, slice,
// eq, ne, lt, le, gt, ge, print, printf, println, html, js, urlquery):
//
//	json V            V as JSON: {"x": {{json .Subject}}} writes a quoted,
//	                  escaped string; {{json .Data}} the whole data
//	quote S           S (any value, as text) as a JSON string literal
//	upper S, lower S  case conversion
//	default D V       V, or D when V is empty (nil, "", 0, false, empty list)
//	join SEP LIST     the elements of a list as text, joined with SEP
//	truncate N S      S cut to at most N characters
//	formatTime L T    T (a time.Time or RFC 3339 string) in UTC with Go
//	                  layout L; L may also be "RFC3339", "unix" or "unixMilli"
//	get V PATH        the value at a dot path inside V ("a.b.0.c"), nil when absent
//
// Methods of these values may be called ({{.Timestamp.Unix}}); with
// arguments only those of time.Time listed in allowedMethods
// ({{.Timestamp.Format "2006-01-02"}}, .Add, .Before…).
//
// There is no access to the environment, files or the clock; the output
// depends on the event alone. Templates may not call themselves
// recursively. Every render is bounded in time (TemplateTimeout, checked at
// each range iteration, template call and function call), in output
// (MaxTemplateOutput) and in memory (MaxTemplateMemory): every value a
// function produces, the builtins print, printf, println, html, js,
// urlquery, index, slice and len included, counts against the budget, and a
// function that would pass it fails before it allocates. A render over a
// limit fails permanently (see Permanent). The output must be valid JSON
// unless the webhook's content_type is not a JSON media type.
type TemplateData struct {
	ID        string
	Type      string
	Timestamp time.Time
	Project   string
	Source    string
	Subject   string
	Severity  string
	Labels    map[string]string
	Data      any
	Message   string
	Event     *herald.Event
	Webhook   TemplateWebhook
}

// TemplateWebhook is the part of the webhook a template can see: nothing
// secret, not even the URL (it may hold a token).
type TemplateWebhook struct {
	ID       string
	Name     string
	Project  string
	Language string
}

func templateData(w *herald.Webhook, v *view) *TemplateData {
	env := envelope(w.Language, v)
	data := v.root()
	if data == nil {
		data = map[string]any{}
	}
	return &TemplateData{
		ID: env.ID, Type: env.Type, Timestamp: env.Timestamp, Project: env.Project,
		Source: env.Source, Subject: env.Subject, Severity: env.Severity,
		Labels: env.Labels, Data: data, Message: env.Message, Event: v.ev,
		Webhook: TemplateWebhook{ID: w.ID, Name: w.Name, Project: w.Project, Language: w.Language},
	}
}

func renderTemplate(w *herald.Webhook, v *view) (Rendered, error) {
	ct := w.ContentType
	if ct == "" {
		ct = ContentTypeJSON
	}
	t, err := compiled(w.Template)
	if err != nil {
		return Rendered{}, &permanentError{err}
	}
	body, err := t.execute(templateData(w, v), isJSONContentType(ct))
	if err != nil {
		return Rendered{}, &permanentError{err}
	}
	return Rendered{Body: body, ContentType: ct}, nil
}

// Permanent reports whether err, an error of Render, will happen again
// however often the same event is rendered for the same webhook, so that
// retrying the delivery is pointless: a template that does not parse, fails
// on this event, writes more than MaxTemplateOutput, needs more than
// MaxTemplateMemory or TemplateTimeout. It is false for other errors.
func Permanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// permanentError marks an error of Render that Permanent reports. It
// wraps the *herald.Error whose message goes into the attempt log.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// ValidateTemplate checks a template for format template: it must parse,
// render the sample event (see SampleEvent) within the limits and, unless
// contentType names a non-JSON media type, produce valid JSON. The error is a
// *herald.Error with code invalid and field "template" (or "content_type"),
// its message giving the line and the reason.
func ValidateTemplate(tmpl, contentType string) error {
	if err := validateContentType(contentType); err != nil {
		return err
	}
	if strings.TrimSpace(tmpl) == "" {
		return herald.InvalidKey("template", "template.required", nil, "template is required for format template")
	}
	t, err := compiled(tmpl)
	if err != nil {
		return err
	}
	w := &herald.Webhook{ID: "wh_sample", Name: "sample", Project: "sample", Language: DefaultLanguage, Format: herald.FormatTemplate}
	_, err = t.execute(templateData(w, newView(SampleEvent())), isJSONContentType(contentType))
	return err
}

// SampleEvent is the event templates are validated with: an image push with
// data and labels of the kinds Herald's sources send (Harbor's repository
// and resources, an alert's annotations and times).
func SampleEvent() *herald.Event {
	t := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	return &herald.Event{
		ID: "evt_sample", Type: "image.push", Project: "sample", Source: "harbor",
		Subject: "sample/app:1.0", Severity: herald.SeverityInfo,
		Labels: map[string]string{
			"alertname": "Sample", "severity": herald.SeverityInfo, "instance": "host-1:9100",
			"job": "node", "namespace": "default", "repository": "sample/app",
		},
		Data: json.RawMessage(`{
			"repository": {"name": "app", "namespace": "sample", "repo_full_name": "sample/app", "repo_type": "private"},
			"resources": [{"tag": "1.0", "digest": "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "resource_url": "harbor.example.com/sample/app:1.0"}],
			"tag": "1.0", "digest": "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			"operator": "admin", "host": "host-1", "value": 97.5, "threshold": 90,
			"annotations": {"summary": "Sample summary", "description": "Sample description"},
			"startsAt": "2026-01-02T15:00:00Z", "endsAt": "2026-01-02T15:04:05Z",
			"generatorURL": "https://prometheus.example.com/graph", "fingerprint": "0123456789abcdef"
		}`),
		OccurredAt: t, ReceivedAt: t,
	}
}

func validateContentType(ct string) error {
	if ct == "" {
		return nil
	}
	if len(ct) > 255 || strings.ContainsAny(ct, "\r\n") {
		return herald.InvalidKey("content_type", "content_type.too_long", herald.Args{"max": "255"}, "content_type must be one line of at most 255 characters")
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil {
		if typ, sub, ok := strings.Cut(mt, "/"); !ok || typ == "" || sub == "" {
			err = errors.New(`want type/subtype, like "text/plain"`)
		}
	}
	if err != nil {
		return herald.InvalidKey("content_type", "content_type.invalid", herald.Args{"value": strconv.Quote(ct), "detail": err.Error()}, "content_type %q is not a media type: %v", ct, err)
	}
	return nil
}

// isJSONContentType reports whether ct is a JSON media type: "" (meaning
// application/json), application/json, text/json or any "+json" type.
func isJSONContentType(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return true // checked at save; render as if JSON, the strict choice
	}
	return mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json")
}

// compiledTemplate is a parsed template with its deadline checks and budget
// calls in place (see instrument and rewrite).
type compiledTemplate struct {
	tmpl *template.Template
}

// templateCache holds parsed templates by text, so that Render does not parse
// per event. Bounded: when full, an arbitrary entry makes room. It only
// memoizes a pure function of the text.
var templateCache = struct {
	sync.Mutex
	m map[string]*compiledTemplate
}{m: map[string]*compiledTemplate{}}

// templateCacheSize bounds templateCache: 256 templates.
const templateCacheSize = 256

func compiled(text string) (*compiledTemplate, error) {
	templateCache.Lock()
	t, ok := templateCache.m[text]
	templateCache.Unlock()
	if ok {
		return t, nil
	}
	t, err := compileTemplate(text)
	if err != nil {
		return nil, err
	}
	templateCache.Lock()
	if len(templateCache.m) >= templateCacheSize {
		for k := range templateCache.m {
			delete(templateCache.m, k)
			break
		}
	}
	templateCache.m[text] = t
	templateCache.Unlock()
	return t, nil
}

// templateName is the name of the webhook's template in error messages.
const templateName = "template"

// tickFunc is called at the start of every template body and every range
// iteration (see instrument) and fails once the deadline has passed.
const tickFunc = "_heraldTick"

var errTemplateTimeout = fmt.Errorf("rendering took longer than %v", TemplateTimeout)

var errTemplateTooLarge = fmt.Errorf("output is larger than %d KiB", MaxTemplateOutput>>10)

func compileTemplate(text string) (*compiledTemplate, error) {
	if len(text) > MaxTemplateSize {
		return nil, herald.InvalidKey("template", "template.too_long", herald.Args{"max": strconv.Itoa(MaxTemplateSize >> 10)}, "template is longer than %d KiB", MaxTemplateSize>>10)
	}
	funcs := newBudget(defaultLimits()).funcs() // replaced per execution
	t, err := template.New(templateName).Option("missingkey=zero").Funcs(funcs).Parse(text)
	if err != nil {
		return nil, templateError(err)
	}
	if err := checkCalls(t); err != nil {
		return nil, err
	}
	tick, err := template.New("tick").Funcs(template.FuncMap{tickFunc: funcs[tickFunc]}).Parse("{{" + tickFunc + "}}")
	if err != nil {
		return nil, err
	}
	tickNode := tick.Tree.Root.Nodes[0]
	for _, sub := range t.Templates() {
		if sub.Tree != nil && sub.Tree.Root != nil {
			rewrite(sub.Tree.Root)
			instrument(sub.Tree.Root, tickNode)
			sub.Tree.Root.Nodes = append([]parse.Node{tickNode}, sub.Tree.Root.Nodes...)
		}
	}
	return &compiledTemplate{tmpl: t}, nil
}

// instrument puts tick at the start of every range body under n, so that
// loops, however long, check the deadline on each iteration.
func instrument(n parse.Node, tick parse.Node) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			instrument(c, tick)
		}
	case *parse.IfNode:
		instrument(n.List, tick)
		instrument(n.ElseList, tick)
	case *parse.WithNode:
		instrument(n.List, tick)
		instrument(n.ElseList, tick)
	case *parse.RangeNode:
		instrument(n.List, tick)
		instrument(n.ElseList, tick)
		if n.List != nil {
			n.List.Nodes = append([]parse.Node{tick}, n.List.Nodes...)
		}
	}
}

// checkCalls refuses calls of undefined templates and recursion: nothing a
// webhook body needs, and the way to unbounded depth.
func checkCalls(t *template.Template) error {
	calls := map[string][]*parse.TemplateNode{}
	for _, sub := range t.Templates() {
		if sub.Tree == nil {
			continue
		}
		var walk func(parse.Node)
		walk = func(n parse.Node) {
			switch n := n.(type) {
			case *parse.ListNode:
				if n == nil {
					return
				}
				for _, c := range n.Nodes {
					walk(c)
				}
			case *parse.IfNode:
				walk(n.List)
				walk(n.ElseList)
			case *parse.WithNode:
				walk(n.List)
				walk(n.ElseList)
			case *parse.RangeNode:
				walk(n.List)
				walk(n.ElseList)
			case *parse.TemplateNode:
				calls[sub.Name()] = append(calls[sub.Name()], n)
			}
		}
		walk(sub.Tree.Root)
	}
	for _, nodes := range calls {
		for _, n := range nodes {
			if c := t.Lookup(n.Name); c == nil || c.Tree == nil {
				return herald.InvalidKey("template", "template.undefined", herald.Args{"line": strconv.Itoa(n.Line), "name": strconv.Quote(n.Name)}, "line %d: template %q is not defined", n.Line, n.Name)
			}
		}
	}
	// Depth-first search for a cycle.
	const (
		unseen = iota
		active
		done
	)
	state := map[string]int{}
	var visit func(name string) *parse.TemplateNode
	visit = func(name string) *parse.TemplateNode {
		state[name] = active
		for _, n := range calls[name] {
			switch state[n.Name] {
			case active:
				return n
			case unseen:
				if c := visit(n.Name); c != nil {
					return c
				}
			}
		}
		state[name] = done
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(calls)) {
		if state[name] == unseen {
			if n := visit(name); n != nil {
				return herald.InvalidKey("template", "template.recursion", herald.Args{"line": strconv.Itoa(n.Line), "name": strconv.Quote(n.Name)}, "line %d: template %q calls itself (recursion is not allowed)", n.Line, n.Name)
			}
		}
	}
	return nil
}

// execute renders data within the limits, and checks the output is JSON when
// wantJSON.
func (c *compiledTemplate) execute(data *TemplateData, wantJSON bool) ([]byte, error) {
	body, _, err := c.executeWith(data, wantJSON, defaultLimits())
	return body, err
}

// executeWith is execute with other limits; it also returns the budget the
// render used.
func (c *compiledTemplate) executeWith(data *TemplateData, wantJSON bool, l renderLimits) ([]byte, *budget, error) {
	b := newBudget(l)
	t, err := c.tmpl.Clone()
	if err != nil {
		return nil, b, herald.InvalidKey("template", "template.invalid", herald.Args{"detail": err.Error()}, "%v", err)
	}
	t.Funcs(b.funcs())
	out := &limitedBuffer{max: l.output}
	if err := t.Execute(out, data); err != nil {
		switch {
		case errors.Is(err, errTemplateTimeout):
			return nil, b, herald.InvalidKey("template", "template.timeout", herald.Args{"limit": l.timeout.String()}, "%v (a loop too long?)", errTemplateTimeout)
		case errors.Is(err, errTemplateTooLarge):
			return nil, b, herald.InvalidKey("template", "template.output_too_large", herald.Args{"max": strconv.Itoa(MaxTemplateOutput >> 10)}, "%v", errTemplateTooLarge)
		case errors.Is(err, errTemplateMemory):
			return nil, b, memoryError(errorLocation(err))
		}
		return nil, b, templateError(err)
	}
	body := out.Bytes()
	if wantJSON && !json.Valid(body) {
		return nil, b, jsonError(body)
	}
	return body, b, nil
}

// limitedBuffer is a bytes.Buffer that fails once more than max bytes are
// written, which aborts the template.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.max {
		return 0, errTemplateTooLarge
	}
	return b.Buffer.Write(p)
}

// templateErrorRE takes text/template's "template: NAME:LINE[:COL]: reason"
// apart; an execution error's reason starts with `executing "NAME" at <...>: `.
var (
	templateErrorRE = regexp.MustCompile(`^template: (.*?):(\d+):(?:(\d+):)? ?(.*)$`)
	executingRE     = regexp.MustCompile(`^executing "(?:[^"\\]|\\.)*" at <(.*?)>: (.*)$`)
)

// templateError turns a text/template error into an invalid-template error
// naming the line: "line 3: unexpected "}" in operand", "line 1, column 12:
// at <.Data.x.y>: nil pointer evaluating interface {}.y".
func templateError(err error) error {
	msg := err.Error()
	m := templateErrorRE.FindStringSubmatch(msg)
	if m == nil {
		detail := strings.TrimPrefix(msg, "template: ")
		return herald.InvalidKey("template", "template.invalid", herald.Args{"detail": detail}, "%s", detail)
	}
	loc := "line " + m[2]
	if m[3] != "" {
		loc += ", column " + m[3]
	}
	reason := m[4]
	if e := executingRE.FindStringSubmatch(reason); e != nil {
		reason = "at <" + e[1] + ">: " + e[2]
	}
	reason = untangle(reason)
	reason = strings.ReplaceAll(reason, "*format.TemplateData", "the template data")
	if m[1] != templateName {
		loc += " (in " + strconv.Quote(m[1]) + ")"
	}
	detail := loc + ": " + reason
	return herald.InvalidKey("template", "template.invalid", herald.Args{"detail": detail}, "%s", detail)
}

// Parts of the rewritten parse tree (see rewrite) as error messages show
// them, and what the template's author wrote.
var (
	methodCallRE = regexp.MustCompile(methodFunc + ` (\S+) "(\w+)"`)
	untangler    = strings.NewReplacer(" | "+chargeFunc, "", " | "+rangeFunc, "", "error calling "+methodFunc+": ", "")
)

// untangle writes the calls rewrite made as the template wrote them:
// `_heraldMethod .Timestamp "Format" "x"` as `.Timestamp.Format "x"`.
func untangle(s string) string {
	s = methodCallRE.ReplaceAllStringFunc(s, func(m string) string {
		p := methodCallRE.FindStringSubmatch(m)
		if p[1] == "." {
			return "." + p[2]
		}
		return p[1] + "." + p[2]
	})
	return untangler.Replace(s)
}

// errorLocation is "line 3, column 12: " for an execution error of
// text/template, "" when it names no line.
func errorLocation(err error) string {
	m := templateErrorRE.FindStringSubmatch(err.Error())
	if m == nil {
		return ""
	}
	loc := "line " + m[2]
	if m[3] != "" {
		loc += ", column " + m[3]
	}
	return loc + ": "
}

// jsonError says where the output stops being JSON.
func jsonError(body []byte) error {
	var x any
	err := json.Unmarshal(body, &x)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off := int(se.Offset)
		if off > len(body) {
			off = len(body)
		}
		line := 1 + bytes.Count(body[:off], []byte("\n"))
		return herald.InvalidKey("template", "template.output_not_json_line", herald.Args{"line": strconv.Itoa(line), "detail": se.Error()}, "output is not valid JSON (output line %d: %v); set content_type for another format", line, se)
	}
	if err == nil {
		err = errors.New("invalid")
	}
	return herald.InvalidKey("template", "template.output_not_json", herald.Args{"detail": err.Error()}, "output is not valid JSON (%v); set content_type for another format", err)
}

// normalize turns what get may receive (the decoded data, or a map of
// strings such as .Labels) into the shapes lookupPath walks.
func normalize(v any) any {
	if m, ok := v.(map[string]string); ok {
		out := make(map[string]any, len(m))
		for k, s := range m {
			out[k] = s
		}
		return out
	}
	return v
}

func formatTime(layout string, v any) (string, error) {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case *time.Time:
		if x != nil {
			t = *x
		}
	case herald.Time:
		t = x.Time
	default:
		s := toString(v)
		p, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return "", fmt.Errorf("formatTime: %q is not an RFC 3339 time", s)
		}
		t = p
	}
	t = t.UTC()
	switch layout {
	case "RFC3339":
		return t.Format(time.RFC3339), nil
	case "unix":
		return strconv.FormatInt(t.Unix(), 10), nil
	case "unixMilli":
		return strconv.FormatInt(t.UnixMilli(), 10), nil
	}
	return t.Format(layout), nil
}

func toString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case fmt.Stringer:
		return x.String()
	}
	if s, ok := scalarText(v); ok {
		return s
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map, reflect.Slice, reflect.Array, reflect.Struct:
		return text(v)
	}
	return fmt.Sprint(v)
}

func isEmpty(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String, reflect.Map, reflect.Slice, reflect.Array:
		return rv.Len() == 0
	case reflect.Bool:
		return !rv.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return rv.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return rv.Float() == 0
	case reflect.Pointer, reflect.Interface:
		return rv.IsNil()
	}
	return false
}
