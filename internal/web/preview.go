package web

import (
	"net/http"
	"strings"

	"github.com/herald-hq/herald/internal/service"
)

// preview shows "what the receiver will get": the body of the form's
// configuration, saved or not, for a sample event of the type chosen
// (service.PreviewPayload); in place with htmx, in the form without.
func (c *Console) preview(w http.ResponseWriter, r *http.Request, rq *request, d *formData, in *service.WebhookInput, ok bool) error {
	tv := &testView{}
	code := http.StatusOK
	if ok {
		pv, err := c.svc.PreviewPayload(r.Context(), rq.p, d.F.ID, in, strings.TrimSpace(r.PostForm.Get("preview_event_type")))
		switch {
		case err == nil:
			tv.Preview = pv
		case d.F.setError(rq, err):
			code = status(err)
		default:
			return err
		}
	} else {
		code = http.StatusBadRequest
	}
	tv.Errors = d.F.ErrorList()
	d.PreviewType = r.PostForm.Get("preview_event_type")
	if isHTMX(r) {
		return c.fragment(w, rq, code, "test-result", tv)
	}
	d.Test = tv
	return c.renderForm(w, r, rq, code, d)
}
