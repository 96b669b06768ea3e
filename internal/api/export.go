package api

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/service"
	"github.com/herald-hq/herald/internal/store"
)

// MaxExportRows bounds one export: the newest rows matching the filter.
const MaxExportRows = 100000

// exportColumns are the CSV columns, in order (the JSON objects are the
// deliveries as GET /deliveries shows them).
var exportColumns = []string{"id", "webhook_id", "project", "event_id", "event_type", "state", "attempts",
	"last_status", "last_error", "next_attempt_at", "last_attempt_at", "created_at", "updated_at", "test"}

// ExportDeliveries streams every delivery p may read that matches f (its
// Cursor and Limit ignored), newest first, at most MaxExportRows, as CSV
// or a JSON array (format "csv" or "json"), page by page: memory stays
// bounded whatever the size. Errors before the first row are returned (the
// caller answers them); once rows are written an error ends the body early
// (the missing trailer tells a JSON reader; the CSV lacks its last rows).
func ExportDeliveries(w http.ResponseWriter, ctx context.Context, svc *service.Service, p *service.Principal, f store.DeliveryFilter, format, filename string) error {
	if format == "" {
		format = "csv"
	}
	if format != "csv" && format != "json" {
		return herald.Invalid("format", "format must be csv or json")
	}
	f.Cursor, f.Limit = "", 500
	ds, next, err := svc.ListDeliveries(ctx, p, f)
	if err != nil {
		return err
	}
	ctype := "text/csv; charset=utf-8"
	if format == "json" {
		ctype = "application/json"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+filename+"."+format+`"`)
	w.Header().Set("Cache-Control", "no-store")
	flusher, _ := w.(http.Flusher)
	var cw *csv.Writer
	if format == "csv" {
		cw = csv.NewWriter(w)
		cw.Write(exportColumns)
	} else {
		w.Write([]byte("[\n"))
	}
	n := 0
	for {
		for _, d := range ds {
			if n == MaxExportRows {
				break
			}
			if cw != nil {
				cw.Write(csvRow(d))
			} else {
				b, err := json.Marshal(d)
				if err != nil {
					return nil
				}
				if n > 0 {
					w.Write([]byte(",\n"))
				}
				w.Write(b)
			}
			n++
		}
		if cw != nil {
			cw.Flush()
			if cw.Error() != nil {
				return nil // the client went away
			}
		}
		if flusher != nil {
			flusher.Flush()
		}
		if next == "" || n == MaxExportRows {
			break
		}
		f.Cursor = next
		if ds, next, err = svc.ListDeliveries(ctx, p, f); err != nil {
			return nil // cut short: the body ends without its trailer
		}
	}
	if cw == nil {
		w.Write([]byte("\n]\n"))
	}
	return nil
}

func csvRow(d *herald.Delivery) []string {
	t := func(v time.Time) string {
		if v.IsZero() {
			return ""
		}
		return v.UTC().Format(time.RFC3339Nano)
	}
	last := ""
	if d.LastAttemptAt != nil {
		last = t(*d.LastAttemptAt)
	}
	status := ""
	if d.LastStatus != 0 {
		status = strconv.Itoa(d.LastStatus)
	}
	return []string{d.ID, d.WebhookID, d.Project, d.EventID, d.EventType, string(d.State), strconv.Itoa(d.Attempts),
		status, csvSafe(d.LastError), t(d.NextAttemptAt), last, t(d.CreatedAt), t(d.UpdatedAt), strconv.FormatBool(d.Test)}
}

// csvSafe keeps a spreadsheet from reading a value as a formula (an error
// text quoting a receiver's answer could start with "=").
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}

func (a *API) exportDeliveries(w http.ResponseWriter, r *http.Request, p *service.Principal) error {
	f, err := DeliveryFilterFromQuery(r)
	if err != nil {
		return err
	}
	return ExportDeliveries(w, r.Context(), a.svc, p, f, r.URL.Query().Get("format"), "deliveries")
}
