package web

import (
	"net/http"
	"strings"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/api"
	"github.com/herald-hq/herald/internal/store"
)

// Export is the link that downloads the log as filtered, in format.
func (d *detailData) Export(format string) string {
	q := d.Filter.query("")
	if q == "" {
		return "/webhooks/" + d.W.ID + "/export?format=" + format
	}
	return "/webhooks/" + d.W.ID + "/export" + q + "&format=" + format
}

// exportLog streams a webhook's delivery log, filtered as the page is, as
// CSV or JSON (api.ExportDeliveries: bounded, page by page).
func (c *Console) exportLog(w http.ResponseWriter, r *http.Request, rq *request) error {
	wh, err := c.svc.GetWebhook(r.Context(), rq.p, r.PathValue("id"))
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.DeliveryFilter{WebhookID: wh.ID, State: herald.State(q.Get("state")), EventType: strings.TrimSpace(q.Get("event_type")),
		ErrorContains: strings.TrimSpace(q.Get("error")), SubjectContains: strings.TrimSpace(q.Get("subject")), Oldest: q.Get("order") == "oldest"}
	var ok bool
	if f.Since, ok = parseTimeInput(q.Get("since")); !ok {
		return herald.Invalid("since", "%s", rq.T("log.err.time"))
	}
	if f.Until, ok = parseTimeInput(q.Get("until")); !ok {
		return herald.Invalid("until", "%s", rq.T("log.err.time"))
	}
	return api.ExportDeliveries(w, r.Context(), c.svc, rq.p, f, q.Get("format"), "deliveries-"+wh.ID)
}

// LiveRefresh reports whether the log refreshes itself (htmx polls the
// page every 10 s and swaps the rows): on its first page, where new
// deliveries appear, when the filters are valid.
func (d *detailData) LiveRefresh() bool {
	return d.FirstPage == "" && d.Filter.Order == "" && len(d.FilterErrors) == 0 && d.Test == nil
}
