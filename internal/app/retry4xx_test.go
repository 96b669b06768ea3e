package app_test

import (
	"net/http"
	"testing"
	"time"
)

// retry4xxSchedule is short, so that retries happen within the test.
var retry4xxSchedule = []string{"50ms", "50ms", "50ms"}

// answering returns a receiver that answers every request with code.
func answering(t *testing.T, code int) *receiver {
	return newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) })
}

// finalDelivery waits until webhook id's only delivery is succeeded or
// failed and returns it with its attempt log.
func (h *herald) finalDelivery(id string) deliveryDetail {
	h.t.Helper()
	var d deliveryDetail
	eventually(h.t, 30*time.Second, "delivery of "+id+" finished", func() bool {
		ds := h.deliveries("webhook=" + id)
		if len(ds) != 1 || (ds[0].State != "succeeded" && ds[0].State != "failed") {
			return false
		}
		h.mustDo(http.StatusOK, "GET", "/api/v1/deliveries/"+ds[0].ID, nil, &d)
		return true
	})
	return d
}

type retryFlag struct {
	RetryClientErrors *bool `json:"retry_client_errors"`
}

func (h *herald) retryClientErrors(id string) bool {
	h.t.Helper()
	var w retryFlag
	h.mustDo(http.StatusOK, "GET", "/api/v1/webhooks/"+id, nil, &w)
	if w.RetryClientErrors == nil {
		h.t.Fatalf("webhook %s has no retry_client_errors", id)
	}
	return *w.RetryClientErrors
}

// checkAttempts fails unless d has exactly the attempts with statuses want.
func checkAttempts(t *testing.T, d deliveryDetail, state string, want ...int) {
	t.Helper()
	if d.State != state || d.Attempts != len(want) || len(d.Log) != len(want) {
		t.Fatalf("delivery %s after %d attempts (%d records), want %s after %d", d.State, d.Attempts, len(d.Log), state, len(want))
	}
	for i, a := range d.Log {
		if a.StatusCode != want[i] {
			t.Errorf("attempt %d answered %d, want %d", i+1, a.StatusCode, want[i])
		}
	}
}

// retry_client_errors (default true): when false, a 4xx other than 408 and
// 429 fails the delivery after its one attempt; 410 still disables the
// webhook.
func TestRetryClientErrors(t *testing.T) {
	t.Parallel()
	h := start(t, func(c *cfgT) { c.Delivery.RetrySchedule = retry4xxSchedule })

	t.Run("off: 404 fails at once", func(t *testing.T) {
		rc := answering(t, http.StatusNotFound)
		wh := h.createWebhook(map[string]any{"url": rc.URL, "max_attempts": 3, "retry_client_errors": false})
		if h.retryClientErrors(wh.ID) {
			t.Fatal("retry_client_errors: false was not saved")
		}
		h.sendEvents(map[string]any{"type": "x", "project": "p"})
		// Failed after one attempt is final: the row is never claimed
		// again, so the one request is all the receiver will get.
		checkAttempts(t, h.finalDelivery(wh.ID), "failed", 404)
		if n := rc.count(); n != 1 {
			t.Fatalf("receiver got %d requests, want 1", n)
		}
	})

	t.Run("default: 404 is retried", func(t *testing.T) {
		rc := answering(t, http.StatusNotFound)
		wh := h.createWebhook(map[string]any{"url": rc.URL, "max_attempts": 3})
		if !h.retryClientErrors(wh.ID) {
			t.Fatal("retry_client_errors does not default to true")
		}
		h.sendEvents(map[string]any{"type": "x", "project": "p"})
		checkAttempts(t, h.finalDelivery(wh.ID), "failed", 404, 404, 404)
	})

	t.Run("off: 429 and 408 are still retried", func(t *testing.T) {
		rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
			switch n {
			case 0:
				w.WriteHeader(http.StatusTooManyRequests)
			case 1:
				w.WriteHeader(http.StatusRequestTimeout)
			default:
				w.WriteHeader(http.StatusOK)
			}
		})
		wh := h.createWebhook(map[string]any{"url": rc.URL, "max_attempts": 3, "retry_client_errors": false})
		h.sendEvents(map[string]any{"type": "x", "project": "p"})
		checkAttempts(t, h.finalDelivery(wh.ID), "succeeded", 429, 408, 200)
	})

	t.Run("off: 410 still disables the webhook", func(t *testing.T) {
		rc := answering(t, http.StatusGone)
		wh := h.createWebhook(map[string]any{"url": rc.URL, "max_attempts": 3, "retry_client_errors": false})
		h.sendEvents(map[string]any{"type": "x", "project": "p"})
		checkAttempts(t, h.finalDelivery(wh.ID), "failed", 410)
		var got struct {
			Enabled        bool   `json:"enabled"`
			DisabledReason string `json:"disabled_reason"`
		}
		eventually(t, 5*time.Second, "webhook disabled", func() bool {
			h.mustDo(http.StatusOK, "GET", "/api/v1/webhooks/"+wh.ID, nil, &got)
			return !got.Enabled
		})
		if got.DisabledReason == "" {
			t.Error("disabled without a reason")
		}
	})

	t.Run("PATCH toggles", func(t *testing.T) {
		off := answering(t, http.StatusNotFound)
		wh := h.createWebhook(map[string]any{"url": off.URL, "max_attempts": 3})
		var w retryFlag
		h.mustDo(http.StatusOK, "PATCH", "/api/v1/webhooks/"+wh.ID, map[string]any{"retry_client_errors": false}, &w)
		if w.RetryClientErrors == nil || *w.RetryClientErrors {
			t.Fatalf("PATCH answered retry_client_errors %v, want false", w.RetryClientErrors)
		}
		// A PATCH of another field leaves it as it is.
		h.mustDo(http.StatusOK, "PATCH", "/api/v1/webhooks/"+wh.ID, map[string]any{"rate_limit": 100}, nil)
		if h.retryClientErrors(wh.ID) {
			t.Fatal("a PATCH without retry_client_errors turned it back on")
		}
		h.sendEvents(map[string]any{"type": "x", "project": "p"})
		checkAttempts(t, h.finalDelivery(wh.ID), "failed", 404)

		// On again, on a fresh endpoint: a 404 is retried.
		on := answering(t, http.StatusNotFound)
		h.mustDo(http.StatusOK, "PATCH", "/api/v1/webhooks/"+wh.ID, map[string]any{"url": on.URL, "retry_client_errors": true}, &w)
		if w.RetryClientErrors == nil || !*w.RetryClientErrors {
			t.Fatalf("PATCH answered retry_client_errors %v, want true", w.RetryClientErrors)
		}
		h.sendEvents(map[string]any{"type": "x", "project": "p"})
		eventually(t, 10*time.Second, "3 attempts at the new endpoint", func() bool { return on.count() == 3 })
		eventually(t, 10*time.Second, "the second delivery failed", func() bool {
			return len(h.deliveries("state=failed&webhook="+wh.ID)) == 2
		})
		if n := off.count(); n != 1 {
			t.Errorf("the first endpoint got %d requests, want 1", n)
		}
	})
}
