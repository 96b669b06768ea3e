package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/dispatch"
	"github.com/herald-hq/herald/internal/format"
	"github.com/herald-hq/herald/internal/service"
)

type webhookRow struct {
	W        *herald.Webhook
	Last     *herald.EventTypeStatus
	CanWrite bool
	// Health is the last 24 hours (see health.go).
	Health service.WebhookHealth
}

type listData struct {
	Rows      []webhookRow
	CanCreate bool
	Query     listQuery
	Projects  []string
	Total     int
}

func (c *Console) listWebhooks(w http.ResponseWriter, r *http.Request, rq *request) error {
	ws, err := c.svc.ListWebhooks(r.Context(), rq.p, nil)
	if err != nil {
		return err
	}
	health, err := c.svc.WebhookHealth(r.Context(), rq.p, ws)
	if err != nil {
		return err
	}
	d := listData{CanCreate: canCreate(rq.p), Rows: make([]webhookRow, 0, len(ws)), Query: parseListQuery(r),
		Projects: projectsOf(ws), Total: len(ws)}
	for _, wh := range ws {
		row := webhookRow{W: wh, CanWrite: rq.p.CanWrite(wh.Project), Health: health[wh.ID]}
		st, err := c.svc.WebhookStatus(r.Context(), rq.p, wh.ID)
		if err != nil {
			return err
		}
		for i := range st {
			if row.Last == nil || st[i].LastAttemptAt.After(row.Last.LastAttemptAt) {
				row.Last = &st[i]
			}
		}
		d.Rows = append(d.Rows, row)
	}
	d.Rows = d.Query.arrange(d.Rows)
	return c.render(w, r, rq, http.StatusOK, "webhooks", "webhooks.title", "webhooks", d)
}

// eventTypeGroup is the catalog's types of one source, for the form.
type eventTypeGroup struct {
	Source string
	Types  []herald.EventType
}

type formData struct {
	F         *webhookForm
	Editing   bool
	Action    string
	Cancel    string
	Groups    []eventTypeGroup
	Projects  []string // a project-admin picks one of these
	Formats   []string
	Languages []string
	Test      *testView
	// Posted: the form is shown again after a post, so it holds input that
	// is not saved (Cancel warns).
	Posted bool
	// PreviewType is the event type of the last preview.
	PreviewType string
	// TestType is the event type of the last Send test.
	TestType string
}

func (c *Console) formData(rq *request, f *webhookForm, editing bool) *formData {
	d := &formData{F: f, Editing: editing, Formats: format.Formats(), Languages: format.Languages(), Action: "/webhooks/new", Cancel: "/webhooks"}
	if editing {
		d.Action, d.Cancel = "/webhooks/"+f.ID+"/edit", "/webhooks/"+f.ID
	}
	if !rq.p.CanWrite("") {
		d.Projects = slices.Clone(rq.p.Token.Projects)
		if f.Project != "" && !slices.Contains(d.Projects, f.Project) {
			d.Projects = append(d.Projects, f.Project)
		}
	}
	for _, et := range c.svc.EventTypes() {
		i := slices.IndexFunc(d.Groups, func(g eventTypeGroup) bool { return g.Source == et.Source })
		if i < 0 {
			d.Groups = append(d.Groups, eventTypeGroup{Source: et.Source})
			i = len(d.Groups) - 1
		}
		d.Groups[i].Types = append(d.Groups[i].Types, et)
	}
	return d
}

func (c *Console) renderForm(w http.ResponseWriter, r *http.Request, rq *request, code int, d *formData) error {
	d.Posted = r.Method == http.MethodPost
	title := "form.title_add"
	if d.Editing {
		title = "form.title_modify"
	}
	return c.render(w, r, rq, code, "webhook_form", title, "webhooks", d)
}

func forbidden(rq *request) error {
	return herald.Errorf(herald.EForbidden, "%s", rq.T("error.no_permission"))
}

func (c *Console) newWebhook(w http.ResponseWriter, r *http.Request, rq *request) error {
	if !canCreate(rq.p) {
		return forbidden(rq)
	}
	f := newWebhookForm()
	if !rq.p.CanWrite("") && len(rq.p.Token.Projects) > 0 {
		f.Project = rq.p.Token.Projects[0]
	}
	return c.renderForm(w, r, rq, http.StatusOK, c.formData(rq, f, false))
}

func isRowAction(action string) bool {
	name, _, _ := strings.Cut(action, ":")
	return slices.Contains([]string{"add_condition", "remove_condition", "add_header", "remove_header"}, name)
}

// submitNewWebhook handles the Add form's buttons: Submit, Send test, and
// the rows' add/remove buttons (without JavaScript).
func (c *Console) submitNewWebhook(w http.ResponseWriter, r *http.Request, rq *request) error {
	if !canCreate(rq.p) {
		return forbidden(rq)
	}
	action := r.PostForm.Get("action")
	f := parseWebhookForm(r.PostForm, isRowAction(action))
	d := c.formData(rq, f, false)
	if f.applyRowAction(action) {
		return c.renderForm(w, r, rq, http.StatusOK, d)
	}
	in, ok := f.input(rq, false)
	if action == "test" {
		return c.testUnsaved(w, r, rq, d, in, ok)
	}
	if action == "preview" {
		return c.preview(w, r, rq, d, in, ok)
	}
	if !ok {
		return c.renderForm(w, r, rq, http.StatusBadRequest, d)
	}
	wh, err := c.svc.CreateWebhook(r.Context(), rq.p, in)
	if err != nil {
		if !f.setError(rq, err) {
			return err
		}
		return c.renderForm(w, r, rq, status(err), d)
	}
	// The signing secret is shown on the page this redirects to, for a
	// few minutes and to this session only (oncesecret.go).
	return c.showSecret(w, r, rq,
		createdData{W: wh, Secret: wh.SigningSecret.Reveal(), Warnings: c.targetWarnings(r.Context(), rq, wh)})
}

type createdData struct {
	W      *herald.Webhook
	Secret string
	// Rotated: the secret is a rotation's; PreviousUntil is when the old
	// one stops signing (nil: at once).
	Rotated       bool
	PreviousUntil *time.Time
	// Warnings: the SSRF guard refuses the new webhook's target.
	Warnings []warning
	// Gone: the secret is no longer shown (oncesecret.go).
	Gone bool
}

func (c *Console) editWebhook(w http.ResponseWriter, r *http.Request, rq *request) error {
	wh, err := c.svc.GetWebhook(r.Context(), rq.p, r.PathValue("id"))
	if err != nil {
		return err
	}
	if !rq.p.CanWrite(wh.Project) {
		return forbidden(rq)
	}
	f := formOf(wh, c.svc.EventTypes())
	f.Warnings = c.targetWarnings(r.Context(), rq, wh)
	return c.renderForm(w, r, rq, http.StatusOK, c.formData(rq, f, true))
}

func (c *Console) submitEditWebhook(w http.ResponseWriter, r *http.Request, rq *request) error {
	wh, err := c.svc.GetWebhook(r.Context(), rq.p, r.PathValue("id"))
	if err != nil {
		return err
	}
	if !rq.p.CanWrite(wh.Project) {
		return forbidden(rq)
	}
	action := r.PostForm.Get("action")
	f := parseWebhookForm(r.PostForm, isRowAction(action))
	f.ID, f.Has = wh.ID, formOf(wh, nil).Has
	d := c.formData(rq, f, true)
	if f.applyRowAction(action) {
		return c.renderForm(w, r, rq, http.StatusOK, d)
	}
	in, ok := f.input(rq, true)
	if action == "test" {
		return c.testUnsaved(w, r, rq, d, in, ok)
	}
	if action == "preview" {
		return c.preview(w, r, rq, d, in, ok)
	}
	if !ok {
		return c.renderForm(w, r, rq, http.StatusBadRequest, d)
	}
	if _, err := c.svc.UpdateWebhook(r.Context(), rq.p, wh.ID, in); err != nil {
		if !f.setError(rq, err) {
			return err
		}
		return c.renderForm(w, r, rq, status(err), d)
	}
	c.setFlash(w, r, "ok", "flash.saved", f.Name)
	http.Redirect(w, r, "/webhooks/"+wh.ID, http.StatusSeeOther)
	return nil
}

// testView is the result of a "Send test", or why it could not be sent.
type testView struct {
	Result  *dispatch.TestResult
	Preview *service.Preview
	Verify  *service.VerifyResult
	Errors  []fieldError
	Error   string
}

// testUnsaved sends a test to the configuration in the form, saved or not
// (service.TestUnsaved). htmx gets the result in place; without JavaScript
// the form is shown again with the result and every input kept.
func (c *Console) testUnsaved(w http.ResponseWriter, r *http.Request, rq *request, d *formData, in *service.WebhookInput, ok bool) error {
	tv := &testView{}
	d.TestType = r.PostForm.Get("test_event_type")
	code := http.StatusOK
	if ok {
		res, err := c.svc.TestUnsaved(r.Context(), rq.p, d.F.ID, in, strings.TrimSpace(r.PostForm.Get("test_event_type")))
		switch {
		case err == nil:
			tv.Result = res
		case d.F.setError(rq, err):
			code = status(err)
		default:
			return err
		}
	} else {
		code = http.StatusBadRequest
	}
	tv.Errors = d.F.ErrorList()
	if isHTMX(r) {
		return c.fragment(w, rq, code, "test-result", tv)
	}
	d.Test = tv
	return c.renderForm(w, r, rq, code, d)
}

// testWebhook sends a test to a saved webhook (recorded in its log).
func (c *Console) testWebhook(w http.ResponseWriter, r *http.Request, rq *request) error {
	id := r.PathValue("id")
	res, err := c.svc.TestWebhook(r.Context(), rq.p, id, strings.TrimSpace(r.PostFormValue("event_type")))
	if err != nil {
		return err
	}
	tv := &testView{Result: res}
	if isHTMX(r) {
		return c.fragment(w, rq, http.StatusOK, "test-result", tv)
	}
	return c.detail(w, r, rq, id, tv)
}

type confirmData struct {
	Question string
	Button   string
	Action   string
	Back     string
	Fields   url.Values
}

// confirmed reports whether the user confirmed the post (confirm=yes, set by
// the confirmation dialog or page). When not, it shows the confirmation page,
// which posts the same fields again with confirm=yes.
func (c *Console) confirmed(w http.ResponseWriter, r *http.Request, rq *request, question, button, back string) (bool, error) {
	if r.PostForm.Get("confirm") == "yes" {
		return true, nil
	}
	fields := url.Values{}
	for k, v := range r.PostForm {
		if k != csrfField && k != "confirm" {
			fields[k] = v
		}
	}
	return false, c.render(w, r, rq, http.StatusOK, "confirm", "confirm.title", "",
		confirmData{Question: question, Button: button, Action: r.URL.Path, Back: back, Fields: fields})
}

func (c *Console) setEnabled(on bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, rq *request) error {
		wh, err := c.svc.GetWebhook(r.Context(), rq.p, r.PathValue("id"))
		if err != nil {
			return err
		}
		if !rq.p.CanWrite(wh.Project) {
			return forbidden(rq)
		}
		next := localPath(r.PostForm.Get("next"), "/webhooks")
		q, b, msg := "confirm.disable", "action.disable", "flash.disabled"
		if on {
			q, b, msg = "confirm.enable", "action.enable", "flash.enabled"
		}
		if ok, err := c.confirmed(w, r, rq, rq.T(q, wh.Name), rq.T(b), next); !ok {
			return err
		}
		if _, err := c.svc.UpdateWebhook(r.Context(), rq.p, wh.ID, &service.WebhookInput{Enabled: &on}); err != nil {
			return err
		}
		c.setFlash(w, r, "ok", msg, wh.Name)
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
}

func (c *Console) deleteWebhook(w http.ResponseWriter, r *http.Request, rq *request) error {
	wh, err := c.svc.GetWebhook(r.Context(), rq.p, r.PathValue("id"))
	if err != nil {
		return err
	}
	if !rq.p.CanWrite(wh.Project) {
		return forbidden(rq)
	}
	if ok, err := c.confirmed(w, r, rq, rq.T("confirm.delete", wh.Name), rq.T("action.delete"), localPath(r.PostForm.Get("next"), "/webhooks")); !ok {
		return err
	}
	if err := c.svc.DeleteWebhook(r.Context(), rq.p, wh.ID); err != nil {
		return err
	}
	c.setFlash(w, r, "ok", "flash.deleted", wh.Name)
	http.Redirect(w, r, "/webhooks", http.StatusSeeOther)
	return nil
}

// rotateSecret gives the webhook a new signing secret (the previous one keeps
// signing for the grace period chosen) and shows the new one, once.
func (c *Console) rotateSecret(w http.ResponseWriter, r *http.Request, rq *request) error {
	wh, err := c.svc.GetWebhook(r.Context(), rq.p, r.PathValue("id"))
	if err != nil {
		return err
	}
	if !rq.p.CanWrite(wh.Project) {
		return forbidden(rq)
	}
	var in service.RotateInput
	if g := r.PostForm.Get("grace"); g != "" {
		d, err := time.ParseDuration(g)
		if err != nil {
			return herald.Invalid("grace", "%s", rq.T("form.err.duration"))
		}
		hd := herald.Duration(d)
		in.Grace = &hd
	}
	if ok, err := c.confirmed(w, r, rq, rq.T("confirm.rotate", wh.Name), rq.T("action.rotate"), "/webhooks/"+wh.ID); !ok {
		return err
	}
	res, err := c.svc.RotateSecret(r.Context(), rq.p, wh.ID, in)
	if err != nil {
		return err
	}
	return c.showSecret(w, r, rq,
		createdData{W: wh, Secret: res.SigningSecret, Rotated: true, PreviousUntil: res.PreviousSecretValidUntil})
}

// verifyWebhook runs the ownership challenge now (service.VerifyWebhook).
func (c *Console) verifyWebhook(w http.ResponseWriter, r *http.Request, rq *request) error {
	id := r.PathValue("id")
	res, err := c.svc.VerifyWebhook(r.Context(), rq.p, id)
	if err != nil {
		return err
	}
	tv := &testView{Verify: res}
	if isHTMX(r) {
		return c.fragment(w, rq, http.StatusOK, "test-result", tv)
	}
	return c.detail(w, r, rq, id, tv)
}
