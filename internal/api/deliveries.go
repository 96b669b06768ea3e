package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

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

func (a *API) listDeliveries(w http.ResponseWriter, r *http.Request, p *principal) error {
	q := r.URL.Query()
	f := store.DeliveryFilter{
		WebhookID: q.Get("webhook"), State: herald.State(q.Get("state")),
		EventType: q.Get("event_type"), EventID: q.Get("event"), Cursor: q.Get("cursor"),
		Projects: p.readable(),
	}
	if f.State != "" && !herald.ValidState(f.State) {
		return herald.Invalid("state", "state %q is not pending, retrying, succeeded, failed, cancelled or held", f.State)
	}
	var err error
	if f.Since, err = parseTimeParam(q.Get("since"), "since"); err != nil {
		return err
	}
	if f.Until, err = parseTimeParam(q.Get("until"), "until"); err != nil {
		return err
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 500 {
			return herald.Invalid("limit", "limit must be a number from 1 to 500")
		}
		f.Limit = n
	}
	if f.WebhookID != "" {
		wh, err := a.o.Store.GetWebhook(r.Context(), f.WebhookID)
		if err == nil && !p.canRead(wh.Project) {
			err = herald.NotFound("webhook")
		}
		if err != nil && herald.ErrorCode(err) != herald.ENotFound {
			return err
		}
		if err != nil {
			// A deleted webhook's log stays readable to those who may read
			// its deliveries; the project filter below applies.
			_ = err
		}
	}
	var ds []*herald.Delivery
	next := ""
	if f.Projects == nil || len(f.Projects) > 0 {
		ds, next, err = a.o.Store.ListDeliveries(r.Context(), f)
		if err != nil {
			return err
		}
	}
	if ds == nil {
		ds = []*herald.Delivery{}
	}
	writeJSON(w, http.StatusOK, list[*herald.Delivery]{Data: ds, NextCursor: next})
	return nil
}

type deliveryDetail struct {
	*herald.Delivery
	Attempts []*herald.Attempt `json:"attempt_log"`
}

func (a *API) loadDelivery(r *http.Request, p *principal) (*herald.Delivery, error) {
	d, err := a.o.Store.GetDelivery(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if err := p.requireRead(d.Project, "delivery"); err != nil {
		return nil, err
	}
	return d, nil
}

func (a *API) getDelivery(w http.ResponseWriter, r *http.Request, p *principal) error {
	d, err := a.loadDelivery(r, p)
	if err != nil {
		return err
	}
	at, err := a.o.Store.ListAttempts(r.Context(), d.ID)
	if err != nil {
		return err
	}
	if at == nil {
		at = []*herald.Attempt{}
	}
	writeJSON(w, http.StatusOK, deliveryDetail{Delivery: d, Attempts: at})
	return nil
}

func (a *API) retryDelivery(w http.ResponseWriter, r *http.Request, p *principal) error {
	d, err := a.loadDelivery(r, p)
	if err != nil {
		return err
	}
	if err := p.requireWrite(d.Project, "delivery"); err != nil {
		return err
	}
	if d.Test {
		return herald.Errorf(herald.EConflict, "a test delivery cannot be retried; send a new test")
	}
	d, err = a.o.Store.RetryDelivery(r.Context(), d.ID, a.o.Now().UTC())
	if err != nil {
		return err
	}
	a.o.Engine.Wake()
	writeJSON(w, http.StatusOK, d)
	return nil
}
