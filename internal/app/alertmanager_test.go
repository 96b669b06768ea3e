package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-hq/herald/internal/testenv"
)

// alertmanagerBinary finds Prometheus Alertmanager (Debian's
// prometheus-alertmanager package, which `make test` installs).
func alertmanagerBinary(t *testing.T) string {
	return testenv.LookPath(t, "Prometheus Alertmanager", "apt-get install -y prometheus-alertmanager (`make test` does it); the real-Alertmanager integration test needs it",
		"prometheus-alertmanager", "alertmanager")
}

// The real Alertmanager, configured with a webhook receiver pointing at
// Herald, turns an alert posted to its API into a Herald event that Herald
// delivers to a subscribed webhook; resolving the alert delivers
// alert.resolved.
func TestRealAlertmanagerIntegration(t *testing.T) {
	t.Parallel()
	bin := alertmanagerBinary(t)
	h := start(t, nil)
	rc := newReceiver(t, nil)
	h.createWebhook(map[string]any{"url": rc.URL, "project": "mon", "event_types": []string{"alert.*"}})
	pub := h.token("publisher", "mon")

	dir := t.TempDir()
	cfg := fmt.Sprintf(`route:
  receiver: herald
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
- name: herald
  webhook_configs:
  - url: %s/api/v1/alertmanager?project=mon
    send_resolved: true
    http_config:
      authorization:
        type: Bearer
        credentials: %s
`, h.url, pub)
	cfgPath := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	amAddr := freePort(t)
	cmd := exec.Command(bin, "--config.file="+cfgPath, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+amAddr, "--cluster.listen-address=", "--log.level=warn")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("alertmanager output:\n%s", logs.String())
		}
	})
	amURL := "http://" + amAddr
	eventually(t, 20*time.Second, "alertmanager ready", func() bool {
		resp, err := http.Get(amURL + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})

	postAlert := func(endsAt string) {
		alert := map[string]any{
			"labels":      map[string]string{"alertname": "DiskFull", "severity": "critical", "instance": "db1"},
			"annotations": map[string]string{"summary": "Disk is full on db1"},
			"startsAt":    time.Now().Add(-time.Minute).UTC().Format(time.RFC3339),
		}
		if endsAt != "" {
			alert["endsAt"] = endsAt
		}
		b, _ := json.Marshal([]any{alert})
		resp, err := http.Post(amURL+"/api/v2/alerts", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("alertmanager refused the alert: %d", resp.StatusCode)
		}
	}
	postAlert("")
	eventually(t, 30*time.Second, "firing alert delivered by Herald", func() bool { return rc.count() >= 1 })
	var env struct {
		Type, Project, Severity, Message string
		Labels                           map[string]string
		Data                             struct {
			Annotations map[string]string `json:"annotations"`
			Fingerprint string            `json:"fingerprint"`
		}
	}
	if err := json.Unmarshal(rc.all()[0].body, &env); err != nil {
		t.Fatal(err)
	}
	if env.Type != "alert.firing" || env.Project != "mon" || env.Severity != "critical" ||
		env.Labels["alertname"] != "DiskFull" || env.Labels["instance"] != "db1" ||
		env.Data.Annotations["summary"] != "Disk is full on db1" || env.Data.Fingerprint == "" ||
		!strings.Contains(env.Message, "Disk is full") {
		t.Fatalf("firing event: %s", rc.all()[0].body)
	}

	postAlert(time.Now().Add(-time.Second).UTC().Format(time.RFC3339))
	eventually(t, 30*time.Second, "resolved alert delivered by Herald", func() bool {
		for _, r := range rc.all() {
			if bytes.Contains(r.body, []byte(`"type":"alert.resolved"`)) {
				return true
			}
		}
		return false
	})
}

// The Alertmanager endpoint checks the token's projects and the payload.
func TestAlertmanagerEndpoint(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	rc := newReceiver(t, nil)
	wh := h.createWebhook(map[string]any{"url": rc.URL, "project": "mon", "event_types": []string{"alert.*"}, "format": "alertmanager"})
	pub := h.token("publisher", "mon")
	payload := map[string]any{
		"version": "4", "status": "firing", "receiver": "herald", "groupKey": "{}:{alertname=\"X\"}",
		"alerts": []map[string]any{{
			"status": "firing", "labels": map[string]string{"alertname": "X", "severity": "warning"},
			"annotations": map[string]string{"summary": "x is up"}, "startsAt": "2026-11-24T10:00:00Z",
			"endsAt": "0001-01-01T00:00:00Z", "fingerprint": "abc123",
		}},
	}
	for i := 0; i < 2; i++ { // Alertmanager repeats notifications: stored once.
		if code, raw := h.do(pub, "POST", "/api/v1/alertmanager?project=mon", payload, nil); code != http.StatusAccepted {
			t.Fatalf("post: %d %s", code, raw)
		}
	}
	if code, _ := h.do(pub, "POST", "/api/v1/alertmanager?project=other", payload, nil); code != http.StatusForbidden {
		t.Fatalf("other project: %d", code)
	}
	if code, raw := h.do(pub, "POST", "/api/v1/alertmanager?project=mon", map[string]any{"version": "4", "alerts": []any{}}, nil); code != http.StatusBadRequest || !strings.Contains(string(raw), `"field":"alerts"`) {
		t.Fatalf("empty alerts: %d %s", code, raw)
	}
	// The repeat is a duplicate at ingest: one event, one delivery, sent
	// once (succeeded is final).
	eventually(t, 10*time.Second, "delivery succeeded", func() bool { return len(h.deliveries("state=succeeded&webhook="+wh.ID)) == 1 })
	if ds := h.deliveries("webhook=" + wh.ID); len(ds) != 1 || ds[0].Attempts != 1 || rc.count() != 1 {
		t.Fatalf("repeated notification: %d deliveries, %d requests", len(ds), rc.count())
	}
	var out struct {
		Alerts []struct {
			Status      string
			Fingerprint string
			Labels      map[string]string
		}
	}
	json.Unmarshal(rc.all()[0].body, &out)
	if len(out.Alerts) != 1 || out.Alerts[0].Fingerprint != "abc123" || out.Alerts[0].Labels["alertname"] != "X" {
		t.Fatalf("alertmanager format round trip: %s", rc.all()[0].body)
	}
}
