package app_test

import (
	"net/http"
	"strings"
	"testing"
)

// Console users over the API: platform-admins create, list and delete them;
// the rules (username, password length, roles) are the service's.
func TestUsersAPI(t *testing.T) {
	t.Parallel()
	h := start(t, nil)

	var u struct {
		ID       string   `json:"id"`
		Username string   `json:"username"`
		Role     string   `json:"role"`
		Projects []string `json:"projects"`
	}
	raw := h.mustDo(http.StatusCreated, "POST", "/api/v1/users",
		map[string]any{"username": "alice", "password": "correct horse battery", "role": "project-admin", "projects": []string{"alpha"}}, &u)
	if u.ID == "" || u.Username != "alice" || u.Role != "project-admin" || strings.Join(u.Projects, ",") != "alpha" {
		t.Fatalf("created %s", raw)
	}
	if strings.Contains(string(raw), "password") || strings.Contains(string(raw), "correct horse") {
		t.Fatalf("the answer shows the password or its hash: %s", raw)
	}

	for _, tc := range []struct {
		body  map[string]any
		code  int
		field string
	}{
		{map[string]any{"username": "alice", "password": "correct horse battery", "role": "viewer"}, http.StatusConflict, "username"},
		{map[string]any{"username": "bob", "password": "short", "role": "viewer"}, http.StatusBadRequest, "password"},
		{map[string]any{"username": "bob smith", "password": "correct horse battery", "role": "viewer"}, http.StatusBadRequest, "username"},
		{map[string]any{"username": "bob", "password": "correct horse battery", "role": "publisher"}, http.StatusBadRequest, "role"},
		{map[string]any{"username": "bob", "password": "correct horse battery", "role": "viewer", "admin": true}, http.StatusBadRequest, "admin"},
	} {
		code, body := h.do(adminToken, "POST", "/api/v1/users", tc.body, nil)
		if code != tc.code || !strings.Contains(string(body), `"field":"`+tc.field+`"`) {
			t.Errorf("POST %v: %d %s, want %d naming %s", tc.body, code, body, tc.code, tc.field)
		}
	}

	var list struct {
		Data []struct{ ID, Username string }
	}
	h.mustDo(http.StatusOK, "GET", "/api/v1/users", nil, &list)
	if len(list.Data) != 1 || list.Data[0].Username != "alice" {
		t.Fatalf("users: %+v", list.Data)
	}

	// Only platform-admins.
	var tok struct {
		Token string `json:"token"`
	}
	h.mustDo(http.StatusCreated, "POST", "/api/v1/tokens", map[string]any{"name": "v", "role": "viewer", "projects": []string{}}, &tok)
	for _, req := range []struct{ method, path string }{{"GET", "/api/v1/users"}, {"POST", "/api/v1/users"}, {"DELETE", "/api/v1/users/" + u.ID}} {
		if code, body := h.do(tok.Token, req.method, req.path, map[string]any{"username": "x", "password": "correct horse battery", "role": "viewer"}, nil); code != http.StatusForbidden {
			t.Errorf("viewer %s %s: %d %s", req.method, req.path, code, body)
		}
	}

	h.mustDo(http.StatusNoContent, "DELETE", "/api/v1/users/"+u.ID, nil, nil)
	h.mustDo(http.StatusNotFound, "DELETE", "/api/v1/users/"+u.ID, nil, nil)
}
