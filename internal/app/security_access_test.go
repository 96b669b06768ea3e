package app_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The callers of the access table, in the order of each row's statuses. The
// objects called on belong to project alpha.
var accessRoles = [...]string{
	"platform-admin", "project-admin of alpha", "project-admin of beta", "viewer of alpha", "publisher of alpha", "no token",
}

// accessRow is one endpoint of the table: prep makes the path and body of
// one call (fresh objects when the call consumes them), want the status per
// caller.
type accessRow struct {
	method, pattern string
	prep            func() (path string, body any)
	want            [len(accessRoles)]int
}

// Every /api/v1 endpoint × every role (platform-admin, project-admin of the
// object's project and of another, viewer, publisher, no token) answers the
// status the rules in internal/service/principal.go give; a refused call
// writes no audit entry (it changed nothing). The table must list every
// route the API registers: a new endpoint fails this test until it is added.
func TestAccessControlTable(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	const key = "access-challenge-key"
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			netdataChallenge(key)(w, r)
		}
	})
	tokens := [len(accessRoles)]string{
		adminToken, h.token("project-admin", "alpha"), h.token("project-admin", "beta"),
		h.token("viewer", "alpha"), h.token("publisher", "alpha"), "",
	}

	var seq atomic.Int64
	unique := func(prefix string) string { return fmt.Sprintf("%s-%d", prefix, seq.Add(1)) }
	newWebhook := func() string {
		var c createdWebhook
		h.mustDo(http.StatusCreated, "POST", "/api/v1/webhooks", map[string]any{"name": unique("wh"), "project": "alpha", "url": rc.URL,
			"event_types": []string{"x"}, "challenge_secret": key}, &c)
		return c.ID
	}
	hook := newWebhook()
	retryHook := h.createWebhook(map[string]any{"name": "retry-target", "project": "alpha", "url": rc.URL, "event_types": []string{"retry.*"}})
	newDelivery := func() string {
		id := unique("ev")
		h.sendEvents(map[string]any{"id": id, "type": "retry.me", "project": "alpha"})
		var d []delivery
		eventually(t, 10*time.Second, "a delivery to retry", func() bool {
			d = h.deliveries("webhook=" + retryHook.ID + "&event=" + id)
			return len(d) == 1 && d[0].State == "succeeded"
		})
		return d[0].ID
	}
	delivery := newDelivery()
	var event struct{ EventID string }
	for _, d := range h.deliveries("webhook=" + retryHook.ID) {
		event.EventID = d.EventID
	}
	newToken := func() string {
		var tok struct{ ID string }
		h.mustDo(http.StatusCreated, "POST", "/api/v1/tokens", map[string]any{"name": unique("tok"), "role": "viewer"}, &tok)
		return tok.ID
	}
	newUser := func() string {
		var u struct{ ID string }
		h.mustDo(http.StatusCreated, "POST", "/api/v1/users", map[string]any{"username": unique("user"), "password": "correct-horse-battery-staple", "role": "viewer"}, &u)
		return u.ID
	}
	fixed := func(path string, body any) func() (string, any) {
		return func() (string, any) { return path, body }
	}
	alert := map[string]any{"version": "4", "status": "firing", "alerts": []map[string]any{{"status": "firing",
		"labels": map[string]string{"alertname": "Disk"}, "startsAt": "2026-01-02T15:04:05Z", "fingerprint": "f1"}}}

	const (
		ok   = http.StatusOK
		made = http.StatusCreated
		acc  = http.StatusAccepted
		gone = http.StatusNoContent
		no   = http.StatusForbidden
		nf   = http.StatusNotFound
		anon = http.StatusUnauthorized
	)
	rows := []accessRow{
		{"GET", "/api/v1/webhooks", fixed("/api/v1/webhooks", nil), [6]int{ok, ok, ok, ok, ok, anon}},
		{"POST", "/api/v1/webhooks", func() (string, any) {
			return "/api/v1/webhooks", map[string]any{"name": unique("new"), "project": "alpha", "url": rc.URL, "event_types": []string{"x"}}
		}, [6]int{made, made, no, no, no, anon}},
		{"POST", "/api/v1/webhooks/test", fixed("/api/v1/webhooks/test", map[string]any{"name": "t", "project": "alpha", "url": rc.URL, "event_types": []string{"x"}}),
			[6]int{ok, ok, no, no, no, anon}},
		{"GET", "/api/v1/webhooks/{id}", fixed("/api/v1/webhooks/"+hook, nil), [6]int{ok, ok, nf, ok, nf, anon}},
		{"PATCH", "/api/v1/webhooks/{id}", func() (string, any) {
			return "/api/v1/webhooks/" + hook, map[string]any{"name": unique("renamed")}
		}, [6]int{ok, ok, nf, no, nf, anon}},
		{"DELETE", "/api/v1/webhooks/{id}", func() (string, any) { return "/api/v1/webhooks/" + newWebhook(), nil }, [6]int{gone, gone, nf, no, nf, anon}},
		{"POST", "/api/v1/webhooks/{id}/test", fixed("/api/v1/webhooks/"+hook+"/test", nil), [6]int{ok, ok, nf, no, nf, anon}},
		{"GET", "/api/v1/webhooks/{id}/status", fixed("/api/v1/webhooks/"+hook+"/status", nil), [6]int{ok, ok, nf, ok, nf, anon}},
		{"POST", "/api/v1/webhooks/{id}/recover", fixed("/api/v1/webhooks/"+hook+"/recover", map[string]any{"since": "2020-01-01T00:00:00Z"}), [6]int{ok, ok, nf, no, nf, anon}},
		{"POST", "/api/v1/webhooks/{id}/verify", fixed("/api/v1/webhooks/"+hook+"/verify", nil), [6]int{ok, ok, nf, no, nf, anon}},
		{"POST", "/api/v1/webhooks/{id}/rotate-secret", fixed("/api/v1/webhooks/"+hook+"/rotate-secret", map[string]any{"grace": "1h"}), [6]int{ok, ok, nf, no, nf, anon}},
		{"GET", "/api/v1/webhooks/{id}/signing-secret", fixed("/api/v1/webhooks/"+hook+"/signing-secret", nil), [6]int{ok, ok, nf, no, nf, anon}},
		{"POST", "/api/v1/events", fixed("/api/v1/events", map[string]any{"type": "x", "project": "alpha"}), [6]int{acc, acc, no, no, acc, anon}},
		{"GET", "/api/v1/events/{id}", fixed("/api/v1/events/"+event.EventID, nil), [6]int{ok, ok, nf, ok, nf, anon}},
		{"POST", "/api/v1/alertmanager", fixed("/api/v1/alertmanager?project=alpha", alert), [6]int{acc, acc, no, no, acc, anon}},
		{"GET", "/api/v1/deliveries", fixed("/api/v1/deliveries", nil), [6]int{ok, ok, ok, ok, ok, anon}},
		{"GET", "/api/v1/deliveries/export", fixed("/api/v1/deliveries/export?format=json", nil), [6]int{ok, ok, ok, ok, ok, anon}},
		{"GET", "/api/v1/deliveries/{id}", fixed("/api/v1/deliveries/"+delivery, nil), [6]int{ok, ok, nf, ok, nf, anon}},
		{"POST", "/api/v1/deliveries/{id}/retry", func() (string, any) { return "/api/v1/deliveries/" + newDelivery() + "/retry", nil }, [6]int{ok, ok, nf, no, nf, anon}},
		{"GET", "/api/v1/event-types", fixed("/api/v1/event-types", nil), [6]int{ok, ok, ok, ok, ok, anon}},
		{"GET", "/api/v1/settings", fixed("/api/v1/settings", nil), [6]int{ok, ok, ok, ok, no, anon}},
		{"PATCH", "/api/v1/settings", fixed("/api/v1/settings", map[string]any{"https_only": false}), [6]int{ok, no, no, no, no, anon}},
		{"GET", "/api/v1/tokens", fixed("/api/v1/tokens", nil), [6]int{ok, no, no, no, no, anon}},
		{"POST", "/api/v1/tokens", func() (string, any) {
			return "/api/v1/tokens", map[string]any{"name": unique("t"), "role": "platform-admin"}
		}, [6]int{made, no, no, no, no, anon}},
		{"DELETE", "/api/v1/tokens/{id}", func() (string, any) { return "/api/v1/tokens/" + newToken(), nil }, [6]int{gone, no, no, no, no, anon}},
		{"GET", "/api/v1/audit", fixed("/api/v1/audit", nil), [6]int{ok, no, no, no, no, anon}},
		{"GET", "/api/v1/users", fixed("/api/v1/users", nil), [6]int{ok, no, no, no, no, anon}},
		{"POST", "/api/v1/users", func() (string, any) {
			return "/api/v1/users", map[string]any{"username": unique("u"), "password": "correct-horse-battery-staple", "role": "platform-admin"}
		}, [6]int{made, no, no, no, no, anon}},
		{"DELETE", "/api/v1/users/{id}", func() (string, any) { return "/api/v1/users/" + newUser(), nil }, [6]int{gone, no, no, no, no, anon}},
	}

	auditCount := func() int {
		var out struct{ Data []any }
		h.mustDo(http.StatusOK, "GET", "/api/v1/audit?limit=500", nil, &out)
		return len(out.Data)
	}
	covered := map[string]bool{}
	for _, row := range rows {
		covered[row.method+" "+row.pattern] = true
		for i, role := range accessRoles {
			path, body := row.prep()
			before := auditCount()
			code, raw := h.do(tokens[i], row.method, path, body, nil)
			if code != row.want[i] {
				t.Errorf("%s %s as %s: status %d, want %d: %s", row.method, row.pattern, role, code, row.want[i], raw)
				continue
			}
			if code >= 400 {
				if e := decodeError(t, raw); e.Error.Message == "" {
					t.Errorf("%s %s as %s: error without a message", row.method, row.pattern, role)
				}
				if after := auditCount(); after != before {
					t.Errorf("%s %s as %s was refused (%d) but wrote %d audit entries", row.method, row.pattern, role, code, after-before)
				}
			}
		}
	}

	// Every registered route is in the table.
	files, _ := filepath.Glob(filepath.Join("..", "api", "*.go"))
	route := regexp.MustCompile(`h\("([A-Z]+) (/api/v1/[^"]*)"`)
	var missing []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range route.FindAllStringSubmatch(string(src), -1) {
			if !covered[m[1]+" "+m[2]] {
				missing = append(missing, m[1]+" "+m[2])
			}
		}
	}
	if len(files) == 0 {
		t.Fatal("found no API source to check the table against")
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("endpoints missing from the access table: %v", missing)
	}
}
