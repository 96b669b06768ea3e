package cli

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestTokenCreate(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t)
	api.handle("POST /api/v1/tokens", 201, `{"id":"tok_1","name":"ci","role":"project-admin","projects":["p1","p2"],
"created_at":"2025-01-02T10:00:00Z","token":"hrld_s3cret"}`)
	res := run(t, api, runOpts{}, "token", "create", "--name", "ci", "--role", "project-admin", "--project", "p1", "--project", "p2").mustSucceed(t)
	var body struct {
		Name     string   `json:"name"`
		Role     string   `json:"role"`
		Projects []string `json:"projects"`
	}
	decodeStrict(t, api.only().Body, &body)
	if body.Name != "ci" || body.Role != "project-admin" || !reflect.DeepEqual(body.Projects, []string{"p1", "p2"}) {
		t.Errorf("body = %+v", body)
	}
	want := "Created token tok_1 (ci, role project-admin, projects p1, p2).\n\nToken: hrld_s3cret\nKeep the token now: it will not be shown again."
	if !strings.HasPrefix(res.stdout, want) {
		t.Errorf("stdout:\n%s\nwant prefix:\n%s", res.stdout, want)
	}
	res = run(t, api, runOpts{}, "--json", "token", "create", "--name", "ci", "--role", "platform-admin").mustSucceed(t)
	if !strings.Contains(res.stdout, `"token": "hrld_s3cret"`) {
		t.Errorf("stdout = %s", res.stdout)
	}
	if body := api.requests()[1].Body; body != `{"name":"ci","role":"platform-admin","projects":[]}` {
		t.Errorf("body = %s", body)
	}
}

func TestTokenListDelete(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t)
	api.handle("GET /api/v1/tokens", 200, `{"data":[{"id":"tok_1","name":"admin","role":"platform-admin","projects":[],"created_at":"2025-01-01T00:00:00Z"},
{"id":"tok_2","name":"ci","role":"publisher","projects":["p1"],"created_at":"2025-01-02T00:00:00Z"}]}`)
	api.handle("DELETE /api/v1/tokens/tok_2", 204, "")
	res := run(t, api, runOpts{}, "token", "list").mustSucceed(t)
	want := "" +
		"ID     NAME   ROLE            PROJECTS  CREATED\n" +
		"tok_1  admin  platform-admin  -         2025-01-01T00:00:00Z\n" +
		"tok_2  ci     publisher       p1        2025-01-02T00:00:00Z\n"
	if res.stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", res.stdout, want)
	}
	run(t, api, runOpts{}, "token", "delete", "tok_2").
		mustFail(t, "error: herald token delete needs confirmation: pass --yes\nhint: run `herald token delete --help` for usage\n")
	res = run(t, api, runOpts{}, "token", "revoke", "tok_2", "--yes").mustSucceed(t)
	if res.stdout != "Revoked token tok_2.\n" {
		t.Errorf("stdout = %q", res.stdout)
	}
	reqs := api.requests()
	if last := reqs[len(reqs)-1]; last.Method != "DELETE" || last.Path != "/api/v1/tokens/tok_2" {
		t.Errorf("request = %s %s", last.Method, last.Path)
	}
}

func TestForbiddenHint(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t)
	api.handleFunc("GET /api/v1/tokens", func(w http.ResponseWriter, r *http.Request) {
		apiError(w, 403, "forbidden", "only a platform-admin token may do this", "")
	})
	run(t, api, runOpts{}, "token", "list").
		mustFail(t, "error: only a platform-admin token may do this\nhint: this needs a token whose role and projects allow it; ask a platform admin\n")
}
