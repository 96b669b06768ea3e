package web_test

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func getRaw(t *testing.T, url, token string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// The delivery log exports as CSV and JSON, through the API and the
// console, filtered, across pages (more rows than one page of 500).
func TestExportDeliveries(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	s.mustAPI(http.StatusOK, "PATCH", "/settings", map[string]any{"webhooks_enabled": false}, nil)
	id := s.createWebhook(map[string]any{"name": "exp", "project": "p1", "url": "https://example.com/h", "event_types": []string{"*"}})
	evs := make([]map[string]any, 0, 501)
	for range 501 {
		evs = append(evs, map[string]any{"type": "image.push", "project": "p1"})
	}
	s.mustAPI(http.StatusAccepted, "POST", "/events", map[string]any{"events": evs}, nil)
	s.mustAPI(http.StatusAccepted, "POST", "/events", map[string]any{"type": "chart.push", "project": "p1"}, nil)

	code, hdr, body := getRaw(t, s.url+"/api/v1/deliveries/export?format=csv", adminToken)
	if code != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/csv") || !strings.Contains(hdr.Get("Content-Disposition"), "deliveries.csv") {
		t.Fatalf("csv: %d %v", code, hdr)
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 503 || rows[0][0] != "id" || rows[1][4] != "chart.push" || rows[1][5] != "held" || rows[1][1] != id {
		t.Fatalf("%d rows, first %q %q", len(rows), rows[0], rows[1])
	}

	code, hdr, body = getRaw(t, s.url+"/api/v1/deliveries/export?format=json&event_type=chart.push", adminToken)
	var ds []struct {
		ID        string `json:"id"`
		EventType string `json:"event_type"`
		State     string `json:"state"`
	}
	if code != http.StatusOK || hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("json: %d %v", code, hdr)
	}
	if err := json.Unmarshal([]byte(body), &ds); err != nil || len(ds) != 1 || ds[0].EventType != "chart.push" {
		t.Fatalf("json: %v %+v\n%s", err, ds, body)
	}
	if code, _, body := getRaw(t, s.url+"/api/v1/deliveries/export?format=xml", adminToken); code != http.StatusBadRequest || !strings.Contains(body, `"field":"format"`) {
		t.Fatalf("format=xml: %d %s", code, body)
	}
	other := s.createToken("viewer", "p2")
	if _, _, body := getRaw(t, s.url+"/api/v1/deliveries/export?format=json", other); strings.TrimSpace(body) != "[\n\n]" && strings.TrimSpace(body) != "[\n]" {
		t.Fatalf("another project's viewer exported: %q", body)
	}

	c := s.client()
	c.loginToken(adminToken)
	_, page := c.get("/webhooks/" + id + "?state=held&event_type=chart.push")
	mustContain(t, page, `id="export-csv"`, `/webhooks/`+id+`/export?event_type=chart.push&amp;state=held&amp;format=csv`)
	code, body = c.get("/webhooks/" + id + "/export?event_type=chart.push&state=held&format=csv")
	rows, err = csv.NewReader(strings.NewReader(body)).ReadAll()
	if code != http.StatusOK || err != nil || len(rows) != 2 || rows[1][4] != "chart.push" {
		t.Fatalf("console csv: %d %v %q", code, err, rows)
	}
	code, body = c.get("/webhooks/" + id + "/export?state=failed&format=json")
	if code != http.StatusOK || strings.Contains(body, `"id"`) {
		t.Fatalf("console json of failed: %d %s", code, body)
	}
}

// The first page of the log polls itself (htmx) and the page it polls
// holds the rows; other pages do not poll.
func TestLogLiveRefresh(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	s.mustAPI(http.StatusOK, "PATCH", "/settings", map[string]any{"webhooks_enabled": false}, nil)
	id := s.createWebhook(map[string]any{"name": "live", "url": "https://example.com/h", "event_types": []string{"*"}})
	c := s.client()
	c.loginToken(adminToken)
	_, body := c.get("/webhooks/" + id + "?state=held")
	mustContain(t, body, `<div id="log-rows" hx-get="/webhooks/`+id+`?state=held" hx-trigger="every 10s" hx-select="#log-rows" hx-swap="outerHTML" data-live>`)
	mustNotContain(t, body, `id="dl-`)
	s.mustAPI(http.StatusAccepted, "POST", "/events", map[string]any{"type": "image.push"}, nil)
	_, body = c.get("/webhooks/" + id + "?state=held")
	_, rows, _ := strings.Cut(body, `id="log-rows"`)
	mustContain(t, rows, `id="dl-`)
	_, body = c.get("/webhooks/" + id + "?since=not-a-time")
	mustNotContain(t, body, "data-live")
}

// The log filters by event type pattern and by error text, and exports
// what it shows.
func TestLogFilterPatternAndError(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	id := s.createWebhook(map[string]any{"name": "refused", "url": "http://127.0.0.1:1/hook", "event_types": []string{"*"}, "max_attempts": 1})
	for _, typ := range []string{"image.push", "image.delete", "chart.push"} {
		s.mustAPI(http.StatusAccepted, "POST", "/events", map[string]any{"type": typ}, nil)
	}
	c := s.client()
	c.loginToken(adminToken)
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, body := c.get("/webhooks/" + id + "?state=failed&event_type=image.*&error=refused")
		n := strings.Count(body, `data-state="failed"`)
		if n == 2 {
			break
		}
		if n > 2 || time.Now().After(deadline) {
			t.Fatalf("%d rows for image.* refused:\n%s", n, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var body string
	_, body = c.get("/webhooks/" + id + "?event_type=image.*&error=no+such+text")
	mustNotContain(t, body, `data-state="`)
	_, body = c.get("/webhooks/" + id + "/export?format=csv&event_type=image.*&error=refused")
	if n := strings.Count(strings.TrimSpace(body), "\n"); n != 2 {
		t.Fatalf("export has %d rows:\n%s", n, body)
	}
}
