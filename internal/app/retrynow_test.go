package app_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/herald-hq/herald/internal/config"
)

// POST /deliveries/{id}/retry on a delivery waiting for its next attempt
// makes that attempt now instead of at its scheduled time.
func TestRetryNow(t *testing.T) {
	t.Parallel()
	h := start(t, func(c *config.Config) { c.Delivery.RetrySchedule = []string{"1h", "1h"} })
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	wh := h.createWebhook(map[string]any{"url": rc.URL})
	h.sendEvents(map[string]any{"id": "rn1", "type": "image.push", "project": "p1"})

	var list struct {
		Data []delivery `json:"data"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		h.mustDo(http.StatusOK, "GET", "/api/v1/deliveries?webhook="+wh.ID, nil, &list)
		if len(list.Data) == 1 && list.Data[0].State == "retrying" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never retrying: %+v", list.Data)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var d delivery
	h.mustDo(http.StatusOK, "POST", "/api/v1/deliveries/"+list.Data[0].ID+"/retry", nil, &d)
	if d.State != "retrying" || d.Attempts != 1 {
		t.Fatalf("retry now answered %+v", d)
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		var got delivery
		h.mustDo(http.StatusOK, "GET", "/api/v1/deliveries/"+d.ID, nil, &got)
		if got.State == "succeeded" {
			if got.Attempts != 2 || rc.count() != 2 {
				t.Fatalf("after retry now: %+v, %d requests", got, rc.count())
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("retry now did not send (state %s): the hour-long wait was kept", got.State)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Finished: retry again works as before (a fresh schedule).
	h.mustDo(http.StatusOK, "POST", "/api/v1/deliveries/"+d.ID+"/retry", nil, nil)
}
