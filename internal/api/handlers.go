package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/metrics"
	"github.com/herald-hq/herald/internal/service"
	"github.com/herald-hq/herald/internal/store"
)

// webhookView is a webhook as the API shows it: secrets masked, warnings
// added, and the signing secret only right after create.
type webhookView struct {
	*herald.Webhook
	SigningSecret string   `json:"signing_secret,omitempty"`
	Warnings      []string `json:"warnings,omitempty"`
}

func viewOf(w *herald.Webhook) webhookView {
	if w.SecretHeaders == nil {
		w.SecretHeaders = map[string]herald.Secret{} // a row saved before secret headers existed
	}
	return webhookView{Webhook: w, Warnings: service.Warnings(w)}
}

// checkedViewOf is viewOf with the SSRF guard's verdict on the target (it
// may resolve the host): for the answers about one webhook, not lists.
func (a *API) checkedViewOf(r *http.Request, w *herald.Webhook) webhookView {
	v := viewOf(w)
	v.Warnings = a.svc.WebhookWarnings(r.Context(), w)
	return v
}

func readWebhookInput(r *http.Request) (*service.WebhookInput, error) {
	r.Body = http.MaxBytesReader(nil, r.Body, 1<<20)
	var in service.WebhookInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	return &in, nil
}

func (a *API) createWebhook(w http.ResponseWriter, r *http.Request, p *service.Principal) error {
	in, err := readWebhookInput(r)
	if err != nil {
		return err
	}
	wh, err := a.svc.CreateWebhook(r.Context(), p, in)
	if err != nil {
		return err
	}
	v := a.checkedViewOf(r, wh)
	v.SigningSecret = wh.SigningSecret.Reveal()
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (a *API) listWebhooks(w http.ResponseWriter, r *http.Request, p *service.Principal) error {
	var project *string
	if q := r.URL.Query(); q.Has("project") {
		v := q.Get("project")
		project = &v
	}
	ws, err := a.svc.ListWebhooks(r.Context(), p, project)
	if err != nil {
		return err
	}
	out := make([]webhookView, len(ws))
	for i, wh := range ws {
		out[i] = viewOf(wh)
	}
	writeJSON(w, http.StatusOK, list[webhookView]{Data: out})
	return nil
}

func (a *API) getWebhook(w http.ResponseWriter, r *http.Request, p *service.Principal) error {
	wh, err := a.svc.GetWebhook(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.checkedViewOf(r, wh))
	return nil
}

func (a *API) patchWebhook(w http.ResponseWriter, r *http.Request, p *service.Principal) error {
	// Existence and permission first: a 404 must not depend on the body.
	if _, err := a.svc.GetWebhook(r.Context(), p, r.PathValue("id")); err != nil {
		return err
	}
	in, err := readWebhookInput(r)
	if err != nil {
		return err
	}
	wh, err := a.svc.UpdateWebhook(r.Context(), p, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.checkedViewOf(r, wh))
	return nil
}

func (a *API) deleteWebhook(w http.ResponseWriter, r *http.Request, p *service.Principal) error {
	if err := a.svc.DeleteWebhook(r.Context(), p, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// testInput is the optional body of POST /webhooks/{id}/test.
type testInput struct {
	EventType string `json:"event_type"`
}

func (a *API) testWebhook(w http.ResponseWriter, r *http.Request, p *service.Principal) error {
	var in testInput
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 64<<10))
	if err != nil {
		return jsonError(err)
	}
	if len(bytes.TrimSpace(b)) > 0 { // no body: a herald.test event
		r.Body = io.NopCloser(bytes.NewReader(b))
		if err := decode(r, &in); err != nil {
			return err
		}
	}
	res, err := a.svc.TestWebhook(r.Context(), p, r.PathValue("id"), in.EventType)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (a *API) testUnsavedWebhook(w http.ResponseWriter, r *http.Request, p *service.Principal) error {
	// The configuration to test, and optionally the event type to send.
	var in struct {
		service.WebhookInput
		testInput
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	res, err := a.svc.TestUnsaved(r.Context(), p, "", &in.WebhookInput, in.EventType)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (a *API) webhookStatus(w http.ResponseWriter, r *http.Request, p *service.Principal) error {
	st, err := a.svc.WebhookStatus(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list[herald.EventTypeStatus]{Data: st})
	return nil
}

func (a *API) recoverWebhook(w http.ResponseWriter, r *http.Request, p *service.Principal) error {
	if _, err := a.svc.GetWebhook(r.Context(), p, r.PathValue("id")); err != nil {
		return err
	}
	var in struct {
		Since herald.Time `json:"since"`
	}
	if err := decode(r, &in); err != nil {
		if herald.ErrorField(err) == "" && herald.ErrorCode(err) == herald.EInvalid {
			return herald.Invalid("since", "since must be an RFC 3339 time like 2026-01-02T15:04:05Z")
		}
		return err
	}
	n, err := a.svc.Recover(r.Context(), p, r.PathValue("id"), in.Since.Time)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int{"recovered": n})
	return nil
}

func parseTimeParam(q string, field string) (time.Time, error) {
	if q == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, q)
	if err != nil {
		if d, err2 := time.ParseDuration(q); err2 == nil && d > 0 {
			return time.Now().Add(-d), nil // "since=1h" means the last hour
		}
		return time.Time{}, herald.Invalid(field, "%s must be an RFC 3339 time (2026-01-02T15:04:05Z) or a duration like 1h", field)
	}
	return t, nil
}

// DeliveryFilterFromQuery reads the delivery-log filters of a query string
// (shared with the console).
func DeliveryFilterFromQuery(r *http.Request) (store.DeliveryFilter, error) {
	q := r.URL.Query()
	f := store.DeliveryFilter{
		WebhookID: q.Get("webhook"), State: herald.State(q.Get("state")),
		EventType: q.Get("event_type"), EventID: q.Get("event"), Cursor: q.Get("cursor"),
		ErrorContains: q.Get("error"), SubjectContains: q.Get("subject"),
	}
	switch q.Get("order") {
	case "", "newest":
	case "oldest":
		f.Oldest = true
	default:
		return f, herald.Invalid("order", "order must be newest or oldest")
	}
	var err error
	if f.Since, err = parseTimeParam(q.Get("since"), "since"); err != nil {
		return f, err
	}
	if f.Until, err = parseTimeParam(q.Get("until"), "until"); err != nil {
		return f, err
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 500 {
			return f, herald.Invalid("limit", "limit must be a number from 1 to 500")
		}
		f.Limit = n
	}
	return f, nil
}

func (a *API) listDeliveries(w http.ResponseWriter, r *http.Request, p *service.Principal) error {
	f, err := DeliveryFilterFromQuery(r)
	if err != nil {
		return err
	}
	ds, next, err := a.svc.ListDeliveries(r.Context(), p, f)
	if err != nil {
		return err
	}
	total, capped, err := a.svc.CountMatchingDeliveries(r.Context(), p, f, service.DeliveryCountCap)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, deliveryList{Data: ds, NextCursor: next, Total: total, TotalCapped: capped})
	return nil
}

// deliveryList is a page of GET /deliveries with the count of every row
// the filters match (the cursor, order and limit aside), counted up to
// service.DeliveryCountCap: TotalCapped says there are more.
type deliveryList struct {
	Data        []*herald.Delivery `json:"data"`
	NextCursor  string             `json:"next_cursor,omitempty"`
	Total       int                `json:"total"`
	TotalCapped bool               `json:"total_capped"`
}

type deliveryDetail struct {
	*herald.Delivery
	Attempts []*herald.Attempt `json:"attempt_log"`
}

func (a *API) getDelivery(w http.ResponseWriter, r *http.Request, p *service.Principal) error {
	d, at, err := a.svc.GetDelivery(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, deliveryDetail{Delivery: d, Attempts: at})
	return nil
}

func (a *API) retryDelivery(w http.ResponseWriter, r *http.Request, p *service.Principal) error {
	d, err := a.svc.RetryDelivery(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (a *API) eventTypes(w http.ResponseWriter, r *http.Request, p *service.Principal) error {
	writeJSON(w, http.StatusOK, list[herald.EventType]{Data: a.svc.EventTypes()})
	return nil
}

func (a *API) getSettings(w http.ResponseWriter, r *http.Request, p *service.Principal) error {
	v, err := a.svc.Settings(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (a *API) patchSettings(w http.ResponseWriter, r *http.Request, p *service.Principal) error {
	if err := p.RequireAdmin(); err != nil {
		return err
	}
	var in service.SettingsPatch
	if err := decode(r, &in); err != nil {
		return err
	}
	v, err := a.svc.UpdateSettings(r.Context(), p, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

type tokenCreated struct {
	*herald.Token
	Value string `json:"token"`
}

func (a *API) createToken(w http.ResponseWriter, r *http.Request, p *service.Principal) error {
	if err := p.RequireAdmin(); err != nil {
		return err
	}
	var in service.TokenInput
	if err := decode(r, &in); err != nil {
		return err
	}
	t, val, err := a.svc.CreateToken(r.Context(), p, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, tokenCreated{Token: t, Value: val})
	return nil
}

func (a *API) listTokens(w http.ResponseWriter, r *http.Request, p *service.Principal) error {
	ts, err := a.svc.ListTokens(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list[*herald.Token]{Data: ts})
	return nil
}

func (a *API) deleteToken(w http.ResponseWriter, r *http.Request, p *service.Principal) error {
	if err := a.svc.DeleteToken(r.Context(), p, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) postAlertmanager(w http.ResponseWriter, r *http.Request, p *service.Principal) (err error) {
	events := 1 // how many alerts the request carries, once known
	defer func() { a.countRefused(err, events) }()
	project := r.URL.Query().Get("project")
	if !p.CanPublish(project) {
		return &herald.Error{Code: herald.EForbidden, Field: "project", Message: "your token may not publish events to project " + project}
	}
	r, err = withHops(r)
	if err != nil {
		return err
	}
	body, err := readBody(w, r, a.o.MaxEventBytes*4)
	if err != nil {
		return err
	}
	var pl service.AlertmanagerPayload
	if err := json.Unmarshal(body, &pl); err != nil {
		return jsonError(err)
	}
	events = len(pl.Alerts)
	if err := a.limitIngest(w, p, len(pl.Alerts)); err != nil {
		return err
	}
	n, err := a.svc.PublishAlerts(r.Context(), p, project, &pl)
	if err != nil {
		return err
	}
	a.o.Metrics.Ingested(metrics.IngestAccepted, n)
	writeJSON(w, http.StatusAccepted, map[string]int{"events": n})
	return nil
}

func (a *API) listAudit(w http.ResponseWriter, r *http.Request, p *service.Principal) error {
	q := r.URL.Query()
	f := store.AuditFilter{Project: q.Get("project"), Cursor: q.Get("cursor")}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			return herald.Invalid("limit", "limit must be a number from 1 to 500")
		}
		f.Limit = n
	}
	es, next, err := a.svc.Audit(r.Context(), p, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list[*herald.AuditEntry]{Data: es, NextCursor: next})
	return nil
}
