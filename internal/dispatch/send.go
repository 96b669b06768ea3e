package dispatch

import (
	"context"
	"net/http"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/format"
	"github.com/herald-hq/herald/internal/sender"
	"github.com/herald-hq/herald/internal/signing"
	"github.com/herald-hq/herald/internal/store"
)

// retryLater is the wait when a delivery could not even be prepared because
// of a passing store error.
const retryLater = 5 * time.Second

// send makes one attempt of a claimed delivery and decides its next state.
// deferFor > 0 means no attempt was made: the webhook's rate limit has no
// token before that long, and the item goes back to its lane. sig is the
// attempt's signal for the webhook's adaptive concurrency.
func (d *Dispatcher) send(it *item) (out completion, deferFor time.Duration, sig int) {
	c := it.c
	dl := c.Delivery
	now := d.o.Now().UTC()
	out = completion{it: it, c: store.Completion{
		DeliveryID: dl.ID, WebhookID: dl.WebhookID, LeaseToken: c.LeaseToken, Now: now,
	}}
	w, err := d.hooks.get(d.sendCtx, dl.WebhookID)
	switch {
	case herald.ErrorCode(err) == herald.ENotFound:
		out.c.State, out.c.Error = herald.StateCancelled, "webhook deleted"
		return out, 0, sigNone
	case err != nil:
		out.c.State, out.c.NextAttemptAt, out.c.Error = dl.State, now.Add(retryLater), "could not load webhook: "+err.Error()
		return out, 0, sigNone
	case !w.Enabled:
		out.c.State, out.c.Error = herald.StateCancelled, "webhook disabled"
		if w.DisabledReason != "" {
			out.c.Error += ": " + w.DisabledReason
		}
		return out, 0, sigNone
	}
	d.setLaneRate(it.lane, w)
	if w.limiter != nil && it.reservedOn != w.limiter {
		// rate_limit: requests per second to this webhook, per node. The
		// scheduler reserves before the start once it knows the limiter;
		// this covers the first send and a changed limit.
		r := w.limiter.ReserveN(now, 1)
		if wait := r.DelayFrom(now); wait > 0 {
			r.CancelAt(now)
			return out, wait, sigNone
		}
	}
	res, attempt := d.attempt(d.sendCtx, w.Webhook, w.signer, dl.ID, c.Event, dl.Attempts+1)
	if c.Event != nil {
		out.c.EventData = c.Event.Data
	}
	if res.StatusCode == 0 && res.Outcome != sender.Success && d.sendCtx.Err() != nil {
		// Cancelled by Stop at its deadline: no attempt counted, the row
		// keeps its state and is released.
		return releaseOf(it, d.o.Now()), 0, sigNone
	}
	out.c.Attempt = attempt
	d.o.Metrics.observe(res)
	switch res.Outcome {
	case sender.Success:
		out.c.State = herald.StateSucceeded
		sig = sigUp
	case sender.Gone:
		out.c.State = herald.StateFailed
		out.gone = true
	case sender.Fail:
		// Permanent: no further attempts; the reason is the attempt's error.
		out.c.State, out.c.Error = herald.StateFailed, res.Err
	default:
		if res.StatusCode == 0 {
			sig = sigDown // timeout or connection error: the endpoint holds workers
		}
		made := dl.Attempts + 1 - c.RoundStart
		if !w.RetryClientErrors && finalClientError(res.StatusCode) {
			out.c.State = herald.StateFailed // retry_client_errors off: no further attempts
		} else if next, ok := d.o.Policy.Next(made, w.MaxAttempts, now, res.RetryAfter); ok {
			out.c.State, out.c.NextAttemptAt = herald.StateRetrying, next
		} else {
			out.c.State = herald.StateFailed
		}
	}
	return out, 0, sig
}

// setLaneRate records the webhook's rate limit on its lane: the scheduler
// reserves tokens before starting, and the lane's concurrency is capped at
// the rate so waiting for it does not hold many rows.
func (d *Dispatcher) setLaneRate(l *lane, w *cachedWebhook) {
	d.mu.Lock()
	defer d.mu.Unlock()
	l.limiter = w.limiter
	l.rateCap = 0
	if w.limiter != nil {
		l.rateCap = min(d.o.PerWebhook, max(1, w.RateLimit))
	}
}

// finalClientError reports whether status is a 4xx answer that a webhook
// with retry_client_errors off does not retry: every 4xx but 408 Request
// Timeout and 429 Too Many Requests (410 Gone is the sender's Gone).
func finalClientError(status int) bool {
	return status >= 400 && status < 500 &&
		status != http.StatusRequestTimeout && status != http.StatusTooManyRequests
}

// attempt renders, signs and sends ev to w as delivery msgID, returning the
// sender's result and the attempt record. Test sends use it too, so a test
// differs from a real delivery in nothing but the event.
func (d *Dispatcher) attempt(ctx context.Context, w *herald.Webhook, sg *signing.Signer, msgID string, ev *herald.Event, number int) (sender.Result, *herald.Attempt) {
	start := d.o.Now().UTC()
	a := &herald.Attempt{DeliveryID: msgID, Number: number, StartedAt: start}
	r, err := d.renders.render(w, ev)
	if err != nil {
		a.Error = "render payload: " + herald.ErrorMessage(err)
		if format.Permanent(err) {
			// The same webhook renders the same event the same way: a
			// template over its limits fails for good, not on every retry.
			return sender.Result{Outcome: sender.Fail, Err: a.Error}, a
		}
		return sender.Result{Outcome: sender.Retry, Err: a.Error}, a
	}
	sig := sg.Sign(msgID, start, r.Body)
	res := d.o.Sender.Send(ctx, w, sender.Request{
		MsgID: msgID, Timestamp: start, Body: r.Body, ContentType: r.ContentType, Signature: sig,
		Hops: ev.Hops + 1,
	})
	a.Latency = herald.Duration(res.Latency)
	a.RequestHeaders = res.RequestHeaders
	a.RequestMethod, a.RequestURL = res.RequestMethod, res.RequestURL
	a.RequestBody, a.RequestBodyTruncated = res.RequestBody, res.RequestBodyTruncated
	a.StatusCode = res.StatusCode
	a.ResponseHeaders = res.ResponseHeaders
	a.ResponseBody = res.ResponseBody
	a.Error = res.Err
	return res, a
}
