package app_test

import (
	"fmt"
	"net/http"
	"testing"
)

// GET /deliveries answers with total: the rows the filters match (cursor,
// order and limit aside), as far as the token may read them, counted up to
// 10000 and then total_capped.
func TestDeliveriesTotal(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	// Paused: the deliveries stay pending, nothing is sent.
	h.mustDo(http.StatusOK, "PATCH", "/api/v1/settings", map[string]any{"webhooks_enabled": false}, nil)
	w1 := h.createWebhook(map[string]any{"project": "p1", "url": "https://example.com/a"})
	w2 := h.createWebhook(map[string]any{"project": "p2", "url": "https://example.com/b"})

	// 10,001 events for p1 (one delivery each), 3 for p2.
	const many = 10001
	for start := 0; start < many; start += 1000 {
		var evs []map[string]any
		for i := start; i < min(start+1000, many); i++ {
			typ := "image.push"
			if i%2 == 1 {
				typ = "chart.push"
			}
			evs = append(evs, map[string]any{"type": typ, "project": "p1", "subject": fmt.Sprintf("repo-%d", i)})
		}
		h.sendEvents(evs...)
	}
	h.sendEvents(
		map[string]any{"type": "image.push", "project": "p2", "subject": "library/nginx"},
		map[string]any{"type": "image.delete", "project": "p2", "subject": "library/nginx"},
		map[string]any{"type": "image.push", "project": "p2", "subject": "library/redis"},
	)

	var projectAdmin struct {
		Token string `json:"token"`
	}
	h.mustDo(http.StatusCreated, "POST", "/api/v1/tokens", map[string]any{"name": "p2-admin", "role": "project-admin", "projects": []string{"p2"}}, &projectAdmin)

	type page struct {
		Data        []delivery `json:"data"`
		NextCursor  string     `json:"next_cursor"`
		Total       *int       `json:"total"`
		TotalCapped *bool      `json:"total_capped"`
	}
	for _, tc := range []struct {
		token, query string
		rows, total  int
		capped       bool
	}{
		{adminToken, "", 50, 10000, true},
		{adminToken, "webhook=" + w1.ID, 50, 10000, true},
		{adminToken, "webhook=" + w1.ID + "&event_type=chart.*&limit=10", 10, 5000, false},
		{adminToken, "webhook=" + w1.ID + "&event_type=image.push&order=oldest&limit=500", 500, 5001, false},
		{adminToken, "subject=REPO-1000", 2, 2, false}, // repo-1000 and repo-10000
		{adminToken, "webhook=" + w2.ID, 3, 3, false},
		{adminToken, "webhook=" + w2.ID + "&subject=nginx", 2, 2, false},
		{adminToken, "webhook=" + w2.ID + "&event_type=image.*&subject=nginx&limit=1", 1, 2, false},
		{adminToken, "state=succeeded", 0, 0, false},
		{adminToken, "error=refused", 0, 0, false},
		{projectAdmin.Token, "", 3, 3, false},                      // only p2's
		{projectAdmin.Token, "webhook=" + w1.ID, 0, 0, false},      // p1's are not readable
		{projectAdmin.Token, "event_type=image.push", 2, 2, false}, // p2's image.push only
	} {
		var p page
		code, raw := h.do(tc.token, "GET", "/api/v1/deliveries?"+tc.query, nil, &p)
		if code != http.StatusOK {
			t.Fatalf("GET /deliveries?%s: %d %s", tc.query, code, raw)
		}
		if p.Total == nil || p.TotalCapped == nil {
			t.Fatalf("GET /deliveries?%s: no total or total_capped in %.200s", tc.query, raw)
		}
		if len(p.Data) != tc.rows || *p.Total != tc.total || *p.TotalCapped != tc.capped {
			t.Errorf("GET /deliveries?%s: %d rows, total %d, capped %v; want %d, %d, %v",
				tc.query, len(p.Data), *p.Total, *p.TotalCapped, tc.rows, tc.total, tc.capped)
		}
	}

	// The cursor pages on; the total stays that of the whole filter.
	var first, second page
	h.mustDo(http.StatusOK, "GET", "/api/v1/deliveries?webhook="+w2.ID+"&limit=2", nil, &first)
	h.mustDo(http.StatusOK, "GET", "/api/v1/deliveries?webhook="+w2.ID+"&limit=2&cursor="+first.NextCursor, nil, &second)
	if len(second.Data) != 1 || *second.Total != 3 || *second.TotalCapped {
		t.Errorf("second page: %d rows, total %d, capped %v; want 1, 3, false", len(second.Data), *second.Total, *second.TotalCapped)
	}

	// A bad filter is refused before anything is counted.
	if code, _ := h.do(adminToken, "GET", "/api/v1/deliveries?state=lost", nil, nil); code != http.StatusBadRequest {
		t.Errorf("state=lost: %d, want 400", code)
	}
}
