package web_test

import (
	"net/http"
	"strings"
	"testing"
)

// The delivery log shows how many rows match, links to its oldest rows
// when there is more than a page, and filters by subject (the API too).
func TestLogTotalsOldestSubject(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	s.mustAPI(http.StatusOK, "PATCH", "/settings", map[string]any{"webhooks_enabled": false}, nil)
	id := s.createWebhook(map[string]any{"name": "tot", "project": "p1", "url": "https://example.com/h", "event_types": []string{"*"}})
	evs := []map[string]any{{"type": "first.kind", "project": "p1", "subject": "very-first"}}
	for range 1233 {
		evs = append(evs, map[string]any{"type": "image.push", "project": "p1", "subject": "library/nginx"})
	}
	s.mustAPI(http.StatusAccepted, "POST", "/events", map[string]any{"events": evs[:600]}, nil)
	s.mustAPI(http.StatusAccepted, "POST", "/events", map[string]any{"events": evs[600:]}, nil)
	s.mustAPI(http.StatusAccepted, "POST", "/events", map[string]any{"type": "chart.push", "project": "p1", "subject": "Team/Chart-X"}, nil)

	c := s.client()
	c.loginToken(adminToken)
	_, page := c.get("/webhooks/" + id)
	mustContain(t, page, `id="log-total">Matching deliveries: 1,235</p>`, `id="filter-subject" name="subject"`, `id="log-oldest"`, `data-live`)
	i := strings.Index(page, `id="log-oldest"`)
	j := strings.LastIndex(page[:i], `href="`)
	oldest := strings.ReplaceAll(page[j+len(`href="`):i-2], "&amp;", "&")
	if !strings.Contains(oldest, "order=oldest") {
		t.Fatalf("oldest link %q", oldest)
	}
	_, page = c.get(strings.TrimSuffix(oldest, "#log"))
	mustContain(t, page, "first.kind", "Matching deliveries: 1,235 · oldest first", `id="log-newest"`)
	mustNotContain(t, page, `id="log-oldest"`, `data-live`)
	rows := page[strings.Index(page, "<tbody>"):]
	if strings.Index(rows, "first.kind") < 0 || strings.Index(rows, "first.kind") > strings.Index(rows, "image.push") {
		t.Error("the oldest page does not start with the oldest row")
	}

	_, page = c.get("/webhooks/" + id + "?subject=team%2Fchart")
	mustContain(t, page, "Matching deliveries: 1</p>", "chart.push", `value="team/chart"`)
	mustNotContain(t, page, "image.push</code>", `id="log-oldest"`)

	var ds struct {
		Data []struct {
			EventType string `json:"event_type"`
		} `json:"data"`
	}
	s.mustAPI(http.StatusOK, "GET", "/deliveries?subject=CHART-x", nil, &ds)
	if len(ds.Data) != 1 || ds.Data[0].EventType != "chart.push" {
		t.Fatalf("API subject filter: %+v", ds)
	}
	s.mustAPI(http.StatusOK, "GET", "/deliveries?order=oldest&limit=1", nil, &ds)
	if len(ds.Data) != 1 || ds.Data[0].EventType != "first.kind" {
		t.Fatalf("API order=oldest: %+v", ds)
	}
	if code := s.api(adminToken, "GET", "/deliveries?order=sideways", nil, nil); code != http.StatusBadRequest {
		t.Fatalf("order=sideways: %d", code)
	}
}
