package web_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// The delivery page shows each attempt's request line and body; a writer
// sees the URL's query (credentials redacted), a viewer does not.
func TestDeliveryShowsRequestAsSent(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(rc.Close)
	id := s.createWebhook(map[string]any{"name": "req", "project": "p1", "url": rc.URL + "/hook?team=blue&api_token=planted-q-9d1c", "event_types": []string{"*"}})
	s.mustAPI(http.StatusAccepted, "POST", "/events", map[string]any{"type": "image.push", "project": "p1", "subject": "shown-subject-<b>"}, nil)
	var ds struct {
		Data []struct {
			ID    string `json:"id"`
			State string `json:"state"`
		} `json:"data"`
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(ds.Data) != 1 || ds.Data[0].State != "succeeded" {
		if time.Now().After(deadline) {
			t.Fatalf("delivery not succeeded: %+v", ds)
		}
		time.Sleep(20 * time.Millisecond)
		s.mustAPI(http.StatusOK, "GET", "/deliveries?webhook="+id, nil, &ds)
	}
	c := s.client()
	c.loginToken(adminToken)
	code, page := c.get("/deliveries/" + ds.Data[0].ID)
	if code != http.StatusOK {
		t.Fatalf("detail: %d", code)
	}
	mustContain(t, page, `<p class="request-line"><code>POST</code>`, `/hook?api_token=%5Bredacted%5D&amp;team=blue`,
		`class="request-body"`, `shown-subject-\u003cb\u003e`)
	mustNotContain(t, page, "planted-q-9d1c", "shown-subject-<b>")

	v := s.client()
	v.loginToken(s.createToken("viewer", "p1"))
	_, page = v.get("/deliveries/" + ds.Data[0].ID)
	mustContain(t, page, `<p class="request-line"><code>POST</code>`, `/hook?…`)
	mustNotContain(t, page, "team=blue", "planted-q-9d1c")
}
