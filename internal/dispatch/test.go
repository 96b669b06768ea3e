package dispatch

import (
	"context"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/format"
	"github.com/herald-hq/herald/internal/sender"
	"github.com/herald-hq/herald/internal/signing"
)

// TestResult is what a test send reports.
type TestResult struct {
	DeliveryID      string  `json:"delivery_id"`
	OK              bool    `json:"ok"`
	StatusCode      int     `json:"status_code"`
	LatencyMS       float64 `json:"latency_ms"`
	ResponseExcerpt string  `json:"response_excerpt"`
	Error           string  `json:"error,omitempty"`
}

// SendTest sends a test event to w now, through the same render, signing,
// auth, TLS and SSRF guard as a real delivery, and records it in the delivery
// log marked as a test. w need not be saved (console "Send test" before
// saving): then nothing is recorded.
func (d *Dispatcher) SendTest(ctx context.Context, w *herald.Webhook, sample *herald.Event, record bool) (*TestResult, error) {
	now := d.o.Now().UTC()
	ev := &herald.Event{
		ID: herald.NewID("evt"), Type: herald.EventTypeTest, Project: w.Project, Source: "herald",
		Severity: herald.SeverityInfo, Message: format.TestMessage(w.Language),
		Data:       []byte(`{"test":true}`),
		OccurredAt: now, ReceivedAt: now,
	}
	if sample != nil {
		// A sample of a chosen type: its content, this test's identity.
		e := *sample
		e.ID, e.Project, e.OccurredAt, e.ReceivedAt, e.Hops = ev.ID, w.Project, now, now, 0
		ev = &e
	}
	sg, err := signing.NewSigner(w.Secrets(now)...)
	if err != nil {
		return nil, err
	}
	id := herald.NewID("dlv")
	res, a := d.attempt(ctx, w, sg, id, ev, 1)
	d.o.Metrics.observe(res)
	out := &TestResult{
		OK: res.Outcome == sender.Success, StatusCode: res.StatusCode,
		LatencyMS:       float64(res.Latency) / float64(time.Millisecond),
		ResponseExcerpt: excerpt(res.ResponseBody, 512), Error: res.Err,
	}
	if !record {
		return out, nil
	}
	dl := &herald.Delivery{
		ID: id, EventID: ev.ID, WebhookID: w.ID, Project: w.Project, EventType: ev.Type,
		Attempts: 1, NextAttemptAt: now, LastAttemptAt: &now, LastStatus: res.StatusCode,
		LastError: res.Err, Test: true, CreatedAt: now, UpdatedAt: now,
		State: herald.StateFailed,
	}
	if out.OK {
		dl.State = herald.StateSucceeded
	}
	if err := d.o.Store.RecordTest(ctx, ev, dl, a); err != nil {
		return nil, err
	}
	out.DeliveryID = id
	return out, nil
}

func excerpt(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
