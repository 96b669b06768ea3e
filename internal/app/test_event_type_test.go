package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// "Send test" may send the sample event of a chosen type instead of
// herald.test, saved or not; a bad type is 400 naming event_type and sends
// nothing.
func TestSendTestChosenEventType(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	rc := newReceiver(t, nil)
	wh := h.createWebhook(map[string]any{"url": rc.URL, "project": "p", "event_types": []string{"image.*"}})
	typeOf := func(i int) string {
		t.Helper()
		var ev struct {
			Type    string `json:"type"`
			Subject string `json:"subject"`
		}
		if err := json.Unmarshal(rc.all()[i].body, &ev); err != nil {
			t.Fatalf("body %s: %v", rc.all()[i].body, err)
		}
		return ev.Type
	}
	var res testResult
	h.mustDo(http.StatusOK, "POST", "/api/v1/webhooks/"+wh.ID+"/test", nil, &res)
	if !res.OK || rc.count() != 1 || typeOf(0) != "herald.test" {
		t.Fatalf("no body: %+v, %d requests", res, rc.count())
	}
	h.mustDo(http.StatusOK, "POST", "/api/v1/webhooks/"+wh.ID+"/test", map[string]any{"event_type": "image.delete"}, &res)
	if !res.OK || rc.count() != 2 || typeOf(1) != "image.delete" {
		t.Fatalf("image.delete: %+v, %d requests", res, rc.count())
	}
	var d deliveryDetail
	h.mustDo(http.StatusOK, "GET", "/api/v1/deliveries/"+res.DeliveryID, nil, &d)
	if d.EventType != "image.delete" || !d.Test || d.State != "succeeded" {
		t.Errorf("logged test delivery %+v", d.delivery)
	}
	for _, bad := range []any{map[string]any{"event_type": "image.*"}, map[string]any{"event_type": "a b"}, map[string]any{"event_type": 3}, map[string]any{"other": 1}} {
		code, raw := h.do(adminToken, "POST", "/api/v1/webhooks/"+wh.ID+"/test", bad, nil)
		if code != http.StatusBadRequest || !strings.Contains(string(raw), `"field":"`) {
			t.Errorf("%v: %d %s", bad, code, raw)
		}
	}
	code, raw := h.do(adminToken, "POST", "/api/v1/webhooks/"+wh.ID+"/test", map[string]any{"event_type": "a b"}, nil)
	if !strings.Contains(string(raw), `"field":"event_type"`) {
		t.Errorf("bad type: %d %s", code, raw)
	}
	if rc.count() != 2 {
		t.Fatalf("refused tests sent %d requests", rc.count()-2)
	}

	// Unsaved configuration.
	h.mustDo(http.StatusOK, "POST", "/api/v1/webhooks/test", map[string]any{"name": "u", "url": rc.URL, "project": "p", "event_types": []string{"*"}, "event_type": "alert.firing"}, &res)
	if !res.OK || rc.count() != 3 || typeOf(2) != "alert.firing" {
		t.Fatalf("unsaved: %+v, %d requests", res, rc.count())
	}
	code, raw = h.do(adminToken, "POST", "/api/v1/webhooks/test", map[string]any{"name": "u", "url": rc.URL, "project": "p", "event_types": []string{"*"}, "event_type": "x\ny"}, nil)
	if code != http.StatusBadRequest || !strings.Contains(string(raw), `"field":"event_type"`) || rc.count() != 3 {
		t.Errorf("unsaved bad type: %d %s, %d requests", code, raw, rc.count())
	}
}
