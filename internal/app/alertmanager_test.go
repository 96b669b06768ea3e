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

	"github.com/herald-hq/herald/internal/config"
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
	amURL := startAlertmanager(t, bin, dir, cfg)

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

// startAlertmanager runs Alertmanager with cfg in dir and returns its URL once
// it is ready.
func startAlertmanager(t *testing.T, bin, dir, cfg string) string {
	t.Helper()
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

	return amURL
}

// The Alertmanager endpoint checks the token's projects and the payload.
func TestAlertmanagerEndpoint(t *testing.T) {
	t.Parallel()
	h := start(t, func(c *config.Config) { c.Ingest.AlertmanagerExternalURL = "https://am.example.com" })
	rc := newReceiver(t, nil)
	w := h.createWebhook(map[string]any{"url": rc.URL, "project": "mon", "event_types": []string{"alert.*"}, "format": "alertmanager"})
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
	eventually(t, 10*time.Second, "delivery succeeded", func() bool { return len(h.deliveries("state=succeeded&webhook="+w.ID)) == 1 })
	if ds := h.deliveries("webhook=" + w.ID); len(ds) != 1 || ds[0].Attempts != 1 || rc.count() != 1 {
		t.Fatalf("repeated notification: %d deliveries, %d requests", len(ds), rc.count())
	}
	eventually(t, 10*time.Second, "delivery", func() bool { return rc.count() == 1 })
	var out struct {
		ExternalURL string
		Alerts      []struct {
			Status      string
			Fingerprint string
			Labels      map[string]string
		}
	}
	json.Unmarshal(rc.all()[0].body, &out)
	if len(out.Alerts) != 1 || out.Alerts[0].Fingerprint != "abc123" || out.Alerts[0].Labels["alertname"] != "X" ||
		out.ExternalURL != "https://am.example.com" {
		t.Fatalf("alertmanager format round trip: %s", rc.all()[0].body)
	}
}

// amMessage is Alertmanager's webhook message as a consumer reads it.
type amMessage struct {
	Status            string            `json:"status"`
	GroupKey          string            `json:"groupKey"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Alerts            []struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Fingerprint string            `json:"fingerprint"`
	} `json:"alerts"`
}

func (m *amMessage) instances() []string {
	var out []string
	for _, a := range m.Alerts {
		out = append(out, a.Labels["instance"])
	}
	return out
}

// A notification of two alerts reaches an alertmanager-format webhook as one
// notification with the group's fields (only the alerts its filters admit,
// commonLabels recomputed), other formats as one event per alert; posting
// the notification again stores nothing new.
func TestAlertmanagerGroupStaysOne(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	all, one, std := newReceiver(t, nil), newReceiver(t, nil), newReceiver(t, nil)
	wAll := h.createWebhook(map[string]any{"url": all.URL, "project": "mon", "event_types": []string{"alert.*"}, "format": "alertmanager"})
	wOne := h.createWebhook(map[string]any{"url": one.URL, "project": "mon", "event_types": []string{"alert.*"}, "format": "alertmanager",
		"conditions": []map[string]any{{"label": "instance", "operator": "In", "values": []string{"node-2"}}}})
	wStd := h.createWebhook(map[string]any{"url": std.URL, "project": "mon", "event_types": []string{"alert.*"}})
	pub := h.token("publisher", "mon")
	alert := func(node string) map[string]any {
		return map[string]any{
			"status": "firing", "labels": map[string]string{"alertname": "DiskFull", "instance": node, "severity": "critical"},
			"annotations": map[string]string{"summary": "Disk full on " + node}, "startsAt": "2026-11-24T10:00:00Z",
			"endsAt": "0001-01-01T00:00:00Z", "fingerprint": "fp-" + node,
		}
	}
	payload := map[string]any{
		"version": "4", "status": "firing", "receiver": "herald", "groupKey": `{}:{alertname="DiskFull"}`,
		"groupLabels": map[string]string{"alertname": "DiskFull"}, "truncatedAlerts": 0,
		"commonLabels":      map[string]string{"alertname": "DiskFull", "severity": "critical"},
		"commonAnnotations": map[string]string{}, "externalURL": "http://am.example.com:9093",
		"alerts": []map[string]any{alert("node-2"), alert("node-3")},
	}
	for i := 0; i < 2; i++ {
		if code, raw := h.do(pub, "POST", "/api/v1/alertmanager?project=mon", payload, nil); code != http.StatusAccepted {
			t.Fatalf("post %d: %d %s", i, code, raw)
		}
	}
	// Deliveries are created with the events, before the POST is answered.
	for _, c := range []struct {
		id   string
		want int
	}{{wAll.ID, 1}, {wOne.ID, 1}, {wStd.ID, 2}} {
		if ds := h.deliveries("webhook=" + c.id); len(ds) != c.want {
			t.Fatalf("webhook %s: %d deliveries, want %d: %+v", c.id, len(ds), c.want, ds)
		}
	}
	eventually(t, 10*time.Second, "deliveries", func() bool { return all.count() == 1 && one.count() == 1 && std.count() == 2 })

	read := func(rc *receiver) amMessage {
		var m amMessage
		if err := json.Unmarshal(rc.all()[0].body, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	m := read(all)
	if m.GroupKey != `{}:{alertname="DiskFull"}` || m.Status != "firing" || m.ExternalURL != "http://am.example.com:9093" ||
		fmt.Sprint(m.instances()) != "[node-2 node-3]" || m.GroupLabels["alertname"] != "DiskFull" ||
		m.CommonLabels["severity"] != "critical" || m.CommonLabels["instance"] != "" || m.Alerts[0].Fingerprint != "fp-node-2" {
		t.Errorf("whole group: %s", all.all()[0].body)
	}
	m = read(one)
	if m.GroupKey != `{}:{alertname="DiskFull"}` || fmt.Sprint(m.instances()) != "[node-2]" || m.CommonLabels["instance"] != "node-2" ||
		m.CommonAnnotations["summary"] != "Disk full on node-2" {
		t.Errorf("filtered group: %s", one.all()[0].body)
	}
	for _, r := range std.all() {
		if !bytes.Contains(r.body, []byte(`"type":"alert.firing"`)) {
			t.Errorf("standard: %s", r.body)
		}
	}
}

// The real Alertmanager's notification of a group of two alerts (DiskFull on
// node-2 and node-3) reaches an alertmanager-format webhook as one
// notification with Alertmanager's groupKey, and one filtered to node-2 as
// one notification of that alert.
func TestRealAlertmanagerGroup(t *testing.T) {
	t.Parallel()
	bin := alertmanagerBinary(t)
	h := start(t, nil)
	all, one := newReceiver(t, nil), newReceiver(t, nil)
	h.createWebhook(map[string]any{"url": all.URL, "project": "mon", "event_types": []string{"alert.*"}, "format": "alertmanager"})
	h.createWebhook(map[string]any{"url": one.URL, "project": "mon", "event_types": []string{"alert.*"}, "format": "alertmanager",
		"conditions": []map[string]any{{"label": "instance", "operator": "In", "values": []string{"node-2"}}}})
	pub := h.token("publisher", "mon")
	dir := t.TempDir()
	cfg := fmt.Sprintf(`route:
  receiver: herald
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1h
  repeat_interval: 1h
receivers:
- name: herald
  webhook_configs:
  - url: %s/api/v1/alertmanager?project=mon
    http_config:
      authorization:
        type: Bearer
        credentials: %s
`, h.url, pub)
	amURL := startAlertmanager(t, bin, dir, cfg)
	var alerts []any
	for _, node := range []string{"node-2", "node-3"} {
		alerts = append(alerts, map[string]any{
			"labels":      map[string]string{"alertname": "DiskFull", "severity": "critical", "instance": node},
			"annotations": map[string]string{"summary": "Disk full on " + node},
			"startsAt":    time.Now().Add(-time.Minute).UTC().Format(time.RFC3339),
		})
	}
	b, _ := json.Marshal(alerts)
	resp, err := http.Post(amURL+"/api/v2/alerts", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("alertmanager refused the alerts: %d", resp.StatusCode)
	}
	eventually(t, 30*time.Second, "group delivered", func() bool { return all.count() >= 1 && one.count() >= 1 })
	var m amMessage
	if err := json.Unmarshal(all.all()[0].body, &m); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(m.instances()) != "[node-2 node-3]" || m.GroupKey != `{}:{alertname="DiskFull"}` ||
		m.CommonLabels["alertname"] != "DiskFull" || m.ExternalURL == "" || m.Alerts[0].Fingerprint == "" {
		t.Fatalf("group: %s", all.all()[0].body)
	}
	if err := json.Unmarshal(one.all()[0].body, &m); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(m.instances()) != "[node-2]" || m.GroupKey != `{}:{alertname="DiskFull"}` || m.CommonLabels["instance"] != "node-2" {
		t.Fatalf("filtered group: %s", one.all()[0].body)
	}
}
