package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/service"
	"github.com/herald-hq/herald/internal/store"
)

// logPageSize is how many deliveries a page of the log shows.
const logPageSize = 25

// localTimeLayout is what <input type="datetime-local"> sends; the console
// reads and writes such times in UTC (and says so next to the inputs).
const localTimeLayout = "2006-01-02T15:04"

// parseTimeInput reads a time filter: datetime-local (UTC) or RFC 3339.
func parseTimeInput(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, true
	}
	for _, layout := range []string{localTimeLayout, "2006-01-02T15:04:05", time.RFC3339Nano} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

type logFilter struct {
	State, EventType, Since, Until, Error, Subject string
	Order                                          string // "" (newest first) or "oldest"
}

// query is the filter as a query string (for paging links).
func (f logFilter) query(cursor string) string {
	v := url.Values{}
	for k, s := range map[string]string{"state": f.State, "event_type": f.EventType, "since": f.Since, "until": f.Until, "error": f.Error, "subject": f.Subject, "order": f.Order, "cursor": cursor} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

type detailData struct {
	W            *herald.Webhook
	CanWrite     bool
	Warnings     []string
	Status       []herald.EventTypeStatus
	Deliveries   []*herald.Delivery
	Filter       logFilter
	FilterErrors map[string]string
	States       []herald.State
	TypeOptions  []string
	NextPage     string
	FirstPage    string
	Self         string
	Test         *testView
	RecoverSince string
	TestTypes    []string // what Send test offers (testTypes)
	Total        string   // rows the filter matches: "1,234", or "10,000+" past logCountMax
	OldestPage   string   // the log from its oldest row ("" when showing that)
	NewestPage   string   // the log from its newest row, when showing the oldest first
}

// logCountMax bounds the count of matching rows the log shows (as the
// API's total does).
const logCountMax = service.DeliveryCountCap

// groupThousands writes n with a comma between groups of three digits.
func groupThousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func (c *Console) webhookDetail(w http.ResponseWriter, r *http.Request, rq *request) error {
	return c.detail(w, r, rq, r.PathValue("id"), nil)
}

// detail shows a webhook: its settings, per-event-type status (Harbor), and
// its delivery log with filters and paging.
func (c *Console) detail(w http.ResponseWriter, r *http.Request, rq *request, id string, test *testView) error {
	ctx := r.Context()
	wh, err := c.svc.GetWebhook(ctx, rq.p, id)
	if err != nil {
		return err
	}
	st, err := c.svc.WebhookStatus(ctx, rq.p, wh.ID)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	d := &detailData{
		W: wh, CanWrite: rq.p.CanWrite(wh.Project), Status: st, Test: test, FilterErrors: map[string]string{},
		Filter: logFilter{State: q.Get("state"), EventType: strings.TrimSpace(q.Get("event_type")), Since: q.Get("since"), Until: q.Get("until"),
			Error: strings.TrimSpace(q.Get("error")), Subject: strings.TrimSpace(q.Get("subject"))},
		States:       []herald.State{herald.StatePending, herald.StateRetrying, herald.StateSucceeded, herald.StateFailed, herald.StateCancelled, herald.StateHeld},
		Self:         "/webhooks/" + wh.ID,
		RecoverSince: time.Now().UTC().Add(-24 * time.Hour).Format(localTimeLayout),
		TestTypes:    testTypes(wh, c.svc.EventTypes()),
	}
	if r.Method == http.MethodGet {
		d.Self = r.URL.RequestURI()
	}
	if wh.TLS.SkipVerify {
		d.Warnings = append(d.Warnings, rq.T("warn.skip_tls"))
	}
	if strings.HasPrefix(wh.URL, "http://") {
		d.Warnings = append(d.Warnings, rq.T("warn.plain_http"))
	}
	for _, s := range st {
		d.TypeOptions = append(d.TypeOptions, s.EventType)
	}
	for _, t := range wh.EventTypes {
		if !strings.Contains(t, "*") && !slices.Contains(d.TypeOptions, t) {
			d.TypeOptions = append(d.TypeOptions, t)
		}
	}
	slices.Sort(d.TypeOptions)

	f := store.DeliveryFilter{WebhookID: wh.ID, State: herald.State(d.Filter.State), EventType: d.Filter.EventType,
		ErrorContains: d.Filter.Error, SubjectContains: d.Filter.Subject, Cursor: q.Get("cursor"), Limit: logPageSize}
	if q.Get("order") == "oldest" {
		d.Filter.Order, f.Oldest = "oldest", true
	}
	var ok bool
	if f.Since, ok = parseTimeInput(d.Filter.Since); !ok {
		d.FilterErrors["since"] = rq.T("log.err.time")
	}
	if f.Until, ok = parseTimeInput(d.Filter.Until); !ok {
		d.FilterErrors["until"] = rq.T("log.err.time")
	}
	if len(d.FilterErrors) == 0 {
		ds, next, err := c.svc.ListDeliveries(ctx, rq.p, f)
		switch {
		case err == nil:
			d.Deliveries = ds
			if next != "" {
				d.NextPage = "/webhooks/" + wh.ID + d.Filter.query(next) + "#log"
			}
			if f.Cursor != "" {
				d.FirstPage = "/webhooks/" + wh.ID + d.Filter.query("") + "#log"
			}
			other := d.Filter
			if f.Oldest {
				other.Order = ""
				d.NewestPage = "/webhooks/" + wh.ID + other.query("") + "#log"
			} else if next != "" || f.Cursor != "" {
				other.Order = "oldest"
				d.OldestPage = "/webhooks/" + wh.ID + other.query("") + "#log"
			}
			n, more, err := c.svc.CountMatchingDeliveries(ctx, rq.p, f, logCountMax)
			if err != nil {
				return err
			}
			d.Total = groupThousands(n)
			if more {
				d.Total += "+"
			}
		case herald.ErrorCode(err) == herald.EInvalid:
			d.FilterErrors[herald.ErrorField(err)] = rq.E(err)
		default:
			return err
		}
	}
	code := http.StatusOK
	if len(d.FilterErrors) > 0 {
		code = http.StatusBadRequest
	}
	return c.render(w, r, rq, code, "webhook_detail", "detail.title", "webhooks", d)
}

// CanRetry reports whether the log offers Retry for d: a finished delivery
// of an event, or "Retry now" for one waiting to be retried (the service
// refuses test sends and deliveries still pending).
func (d *detailData) CanRetry(dl *herald.Delivery) bool { return canRetry(d.CanWrite, dl) }

func canRetry(canWrite bool, d *herald.Delivery) bool {
	return canWrite && !d.Test && (d.State == herald.StateFailed || d.State == herald.StateSucceeded || d.State == herald.StateCancelled ||
		d.State == herald.StateRetrying)
}

func (c *Console) recoverWebhook(w http.ResponseWriter, r *http.Request, rq *request) error {
	wh, err := c.svc.GetWebhook(r.Context(), rq.p, r.PathValue("id"))
	if err != nil {
		return err
	}
	if !rq.p.CanWrite(wh.Project) {
		return forbidden(rq)
	}
	raw := r.PostForm.Get("since")
	since, ok := parseTimeInput(raw)
	if !ok || since.IsZero() {
		return herald.Invalid("since", "%s", rq.T("log.err.time"))
	}
	back := "/webhooks/" + wh.ID
	if ok, err := c.confirmed(w, r, rq, rq.T("confirm.recover", wh.Name, fmtTime(since)), rq.T("action.recover"), back); !ok {
		return err
	}
	n, err := c.svc.Recover(r.Context(), rq.p, wh.ID, since)
	if err != nil {
		return err
	}
	c.setFlash(w, r, "ok", "flash.recovered", strconv.Itoa(n))
	http.Redirect(w, r, back+"#log", http.StatusSeeOther)
	return nil
}

type deliveryData struct {
	D        *herald.Delivery
	W        *herald.Webhook
	Attempts []*herald.Attempt
	CanRetry bool
	CanWrite bool // shows attempt URLs' query strings (credentials stay redacted)
}

func (c *Console) deliveryDetail(w http.ResponseWriter, r *http.Request, rq *request) error {
	dl, attempts, err := c.svc.GetDelivery(r.Context(), rq.p, r.PathValue("id"))
	if err != nil {
		return err
	}
	d := deliveryData{D: dl, Attempts: attempts, CanRetry: canRetry(rq.p.CanWrite(dl.Project), dl), CanWrite: rq.p.CanWrite(dl.Project)}
	if wh, err := c.svc.GetWebhook(r.Context(), rq.p, dl.WebhookID); err == nil {
		d.W = wh
	} else if herald.ErrorCode(err) != herald.ENotFound {
		return err
	}
	// Newest attempt first: it is the one that tells what happened.
	slices.Reverse(d.Attempts)
	return c.render(w, r, rq, http.StatusOK, "delivery", "delivery.title", "webhooks", d)
}

func (c *Console) retryDelivery(w http.ResponseWriter, r *http.Request, rq *request) error {
	id := r.PathValue("id")
	dl, err := c.svc.RetryDelivery(r.Context(), rq.p, id)
	if err != nil {
		return err
	}
	c.setFlash(w, r, "ok", "flash.retried")
	http.Redirect(w, r, localPath(r.PostForm.Get("next"), "/deliveries/"+dl.ID), http.StatusSeeOther)
	return nil
}
