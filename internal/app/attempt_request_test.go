package app_test

import (
	"bytes"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// An attempt records the request as sent (method, URL, body), and neither
// the DingTalk sign and access_token in the URL nor a secret header's value
// reach the API answer or the database file.
func TestAttemptRecordsRequestWithoutSecrets(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	var mu sync.Mutex
	var query string
	dingtalk := fakeDingTalk("SECdingtalk-attempt")
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		query = r.URL.RawQuery
		mu.Unlock()
		dingtalk(n, w, r)
	})
	const token, headerSecret = "planted-access-token-5e1f", "planted-secret-header-93ab"
	wh := h.createWebhook(map[string]any{
		"url": rc.URL + "/robot/send?access_token=" + token, "format": "dingtalk", "language": "en",
		"auth":           map[string]any{"type": "sign", "secret": "SECdingtalk-attempt"},
		"secret_headers": map[string]string{"X-Gateway-Pass": headerSecret},
	})
	h.sendEvents(map[string]any{"id": "req-1", "type": "alert.firing", "project": "ops", "subject": "node-7", "severity": "critical"})
	var ds []delivery
	eventually(t, 10*time.Second, "the dingtalk delivery", func() bool {
		ds = h.deliveries("webhook=" + wh.ID)
		return len(ds) == 1 && ds[0].State == "succeeded"
	})
	mu.Lock()
	q, err := url.ParseQuery(query)
	mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	sign := q.Get("sign")
	if len(sign) < 20 || q.Get("access_token") != token {
		t.Fatalf("the receiver saw %q", query)
	}

	var detail struct {
		Log []struct {
			RequestMethod        string              `json:"request_method"`
			RequestURL           string              `json:"request_url"`
			RequestBody          string              `json:"request_body"`
			RequestBodyTruncated bool                `json:"request_body_truncated"`
			RequestHeaders       map[string][]string `json:"request_headers"`
		} `json:"attempt_log"`
	}
	raw := h.mustDo(http.StatusOK, "GET", "/api/v1/deliveries/"+ds[0].ID, nil, &detail)
	if len(detail.Log) != 1 {
		t.Fatalf("attempt log %s", raw)
	}
	a := detail.Log[0]
	if a.RequestMethod != "POST" || a.RequestBodyTruncated || a.RequestBody != string(rc.all()[0].body) {
		t.Errorf("attempt %+v, receiver body %s", a, rc.all()[0].body)
	}
	u, err := url.Parse(a.RequestURL)
	if err != nil || u.Path != "/robot/send" || u.Query().Get("sign") != "[redacted]" ||
		u.Query().Get("access_token") != "[redacted]" || u.Query().Get("timestamp") != q.Get("timestamp") {
		t.Errorf("request_url %q", a.RequestURL)
	}
	if got := a.RequestHeaders["X-Gateway-Pass"]; len(got) != 1 || got[0] != "[redacted]" {
		t.Errorf("secret header recorded as %q", got)
	}
	secrets := map[string]string{"sign": sign, "url-encoded sign": url.QueryEscape(sign), "access token": token, "secret header": headerSecret}
	for name, s := range secrets {
		if strings.Contains(string(raw), s) {
			t.Errorf("%s in the API answer", name)
		}
	}

	scan := func(stage string) {
		t.Helper()
		var db []byte
		for _, suffix := range []string{"", "-wal"} {
			b, err := os.ReadFile(filepath.Join(h.cfg.DataDir, "herald.db") + suffix)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			db = append(db, b...)
		}
		if !bytes.Contains(db, []byte("sign=%5Bredacted%5D")) {
			t.Fatalf("%s: the scan does not see the attempt row", stage)
		}
		for name, s := range secrets {
			// The access token is part of the webhook URL, which is stored as
			// the user gave it; only the attempt must not copy it.
			if name != "access token" && bytes.Contains(db, []byte(s)) {
				t.Errorf("%s: %s stored in the database file", stage, name)
			}
		}
	}
	scan("running")
	h.close()
	scan("after shutdown")
}
