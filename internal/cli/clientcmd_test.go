package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

const testToken = "hrld_cli_test"

var testNow = time.Date(2025, 1, 2, 12, 0, 0, 0, time.UTC)

// fakeAPI is a loopback HTTP server standing in for Herald's API: each test
// registers the routes it needs and inspects the requests it received.
type fakeAPI struct {
	t   *testing.T
	mux *http.ServeMux
	srv *httptest.Server

	mu   sync.Mutex
	reqs []apiRequest
}

type apiRequest struct {
	Method, Path, Query string
	Header              http.Header
	Body                string
}

func newFakeAPI(t *testing.T) *fakeAPI {
	t.Helper()
	f := &fakeAPI{t: t, mux: http.NewServeMux()}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, apiRequest{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), string(body)})
		f.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			apiError(w, 401, "unauthorized", "invalid or revoked token", "")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		f.mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// handle answers pattern ("POST /api/v1/webhooks") with status and body.
func (f *fakeAPI) handle(pattern string, status int, body string) {
	f.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	})
}

func (f *fakeAPI) handleFunc(pattern string, h http.HandlerFunc) { f.mux.HandleFunc(pattern, h) }

func (f *fakeAPI) requests() []apiRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]apiRequest(nil), f.reqs...)
}

// only returns the one request made, failing the test otherwise.
func (f *fakeAPI) only() apiRequest {
	f.t.Helper()
	reqs := f.requests()
	if len(reqs) != 1 {
		f.t.Fatalf("got %d requests, want 1: %+v", len(reqs), reqs)
	}
	return reqs[0]
}

func apiError(w http.ResponseWriter, status int, code, msg, field string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg, "field": field}})
}

// decodeStrict decodes a request body the way the API does: unknown fields
// are an error.
func decodeStrict(t *testing.T, body string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("request body %s: %v", body, err)
	}
}

type runResult struct {
	stdout, stderr string
	err            error
}

type runOpts struct {
	stdin string
	tty   bool
	env   map[string]string
}

// run executes the client commands with args against api, the way Main
// does: errors are printed by printError.
func run(t *testing.T, api *fakeAPI, o runOpts, args ...string) runResult {
	t.Helper()
	root := &cobra.Command{Use: "herald", SilenceUsage: true, SilenceErrors: true}
	clientCommands{
		getenv:     func(k string) string { return o.env[k] },
		isTerminal: func(io.Reader) bool { return o.tty },
		now:        func() time.Time { return testNow },
	}.add(root)
	if api != nil {
		args = append([]string{"--server", api.srv.URL, "--token", testToken}, args...)
	}
	var stdout, stderr bytes.Buffer
	root.SetArgs(args)
	root.SetIn(strings.NewReader(o.stdin))
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	err := root.ExecuteContext(t.Context())
	if err != nil {
		printError(&stderr, err)
	}
	return runResult{stdout.String(), stderr.String(), err}
}

func (r runResult) mustSucceed(t *testing.T) runResult {
	t.Helper()
	if r.err != nil {
		t.Fatalf("command failed: %v\nstdout:\n%s\nstderr:\n%s", r.err, r.stdout, r.stderr)
	}
	return r
}

func (r runResult) mustFail(t *testing.T, wantStderr string) runResult {
	t.Helper()
	if r.err == nil {
		t.Fatalf("command succeeded, want an error\nstdout:\n%s", r.stdout)
	}
	if r.stderr != wantStderr {
		t.Fatalf("stderr:\n%s\nwant:\n%s", r.stderr, wantStderr)
	}
	return r
}

func TestServerAndTokenFromEnvironment(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t)
	api.handle("GET /api/v1/settings", 200, `{"webhooks_enabled":true,"https_only":false,"held":0}`)
	res := run(t, nil, runOpts{env: map[string]string{"HERALD_URL": api.srv.URL + "/", "HERALD_TOKEN": testToken}}, "settings", "get")
	res.mustSucceed(t)
	if req := api.only(); req.Header.Get("Authorization") != "Bearer "+testToken || req.Path != "/api/v1/settings" {
		t.Errorf("request = %+v", req)
	}

	// Flags win over the environment.
	res = run(t, nil, runOpts{env: map[string]string{"HERALD_URL": "http://127.0.0.1:1", "HERALD_TOKEN": "wrong"}},
		"--server", api.srv.URL, "--token", testToken, "settings", "get")
	res.mustSucceed(t)
}

func TestUnauthorizedHint(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t)
	res := run(t, nil, runOpts{}, "--server", api.srv.URL, "webhook", "list")
	res.mustFail(t, "error: invalid or revoked token\nhint: pass a valid API token with --token or set HERALD_TOKEN\n")
}

func TestUnreachableServer(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + ln.Addr().String()
	ln.Close()
	res := run(t, nil, runOpts{}, "--server", addr, "token", "list")
	if res.err == nil {
		t.Fatal("want an error")
	}
	if !strings.HasPrefix(res.stderr, "error: cannot reach Herald at "+addr+" (") ||
		!strings.HasSuffix(res.stderr, "hint: is `herald serve` running? Set HERALD_URL or pass --server to point at it\n") {
		t.Errorf("stderr = %q", res.stderr)
	}
}

func TestBadServerURL(t *testing.T) {
	t.Parallel()
	res := run(t, nil, runOpts{}, "--server", "ftp://x", "token", "list")
	if res.err == nil || !strings.Contains(res.stderr, "the scheme must be http or https; set HERALD_URL or --server") {
		t.Errorf("stderr = %q", res.stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"webhook", "get"}, "error: missing ID: herald webhook get ID\nhint: run `herald webhook get --help` for usage\n"},
		{[]string{"webhook", "get", "a", "b"}, "error: unexpected argument \"b\": herald webhook get takes ID\nhint: run `herald webhook get --help` for usage\n"},
		{[]string{"webhook", "list", "--nope"}, "error: unknown flag: --nope\nhint: run `herald webhook list --help` for usage\n"},
		{[]string{"webhook", "create", "--url", "https://x", "--condition", "env"}, "error: --condition \"env\": use 'LABEL In a,b', 'LABEL NotIn a,b', 'LABEL Exists' or 'LABEL DoesNotExist'\nhint: run `herald webhook create --help` for usage\n"},
		{[]string{"webhook", "create", "--url", "https://x", "--condition", "env Like a"}, "error: --condition \"env Like a\": unknown operator \"Like\" (use In, NotIn, Exists or DoesNotExist)\nhint: run `herald webhook create --help` for usage\n"},
		{[]string{"webhook", "create", "--url", "https://x", "--condition", "env In"}, "error: --condition \"env In\": In needs values: 'env In a,b'\nhint: run `herald webhook create --help` for usage\n"},
		{[]string{"webhook", "create", "--url", "https://x", "--condition", "env Exists x"}, "error: --condition \"env Exists x\": Exists takes no values\nhint: run `herald webhook create --help` for usage\n"},
		{[]string{"webhook", "create", "--url", "https://x", "--header", "X-A"}, "error: --header \"X-A\": use key=value\nhint: run `herald webhook create --help` for usage\n"},
		{[]string{"webhook", "create", "--url", "https://x", "--username", "u", "--token-value", "t"}, "error: auth flags of two types (basic and bearer) given: pass --auth-type\nhint: run `herald webhook create --help` for usage\n"},
		{[]string{"webhook", "create", "--url", "https://x", "--ca-file", "/nonexistent/ca.pem"}, "error: open /nonexistent/ca.pem: no such file or directory\nhint: run `herald webhook create --help` for usage\n"},
		{[]string{"webhook", "create", "--name", "x"}, "error: required flag(s) \"url\" not set\n"},
		{[]string{"webhook", "update", "wh_1"}, "error: nothing to change: give at least one flag, e.g. --url\nhint: run `herald webhook update --help` for usage\n"},
		{[]string{"webhook", "recover", "wh_1", "--since", "yesterday"}, "error: --since \"yesterday\": use an RFC 3339 time (2025-01-02T15:04:05Z), a date (2025-01-02) or a duration ago (24h)\nhint: run `herald webhook recover --help` for usage\n"},
		{[]string{"event", "send", "--type", "x", "--data", "[1]"}, "error: --data must be a JSON object, like '{\"tag\":\"v1\"}'\nhint: run `herald event send --help` for usage\n"},
		{[]string{"event", "send", "--type", "x", "--label", "novalue"}, "error: --label \"novalue\": use key=value\nhint: run `herald event send --help` for usage\n"},
		{[]string{"event", "send", "--type", "x", "--severity", "huge"}, "error: --severity \"huge\": use info, warning, critical or clear\nhint: run `herald event send --help` for usage\n"},
		{[]string{"delivery", "list", "--state", "lost"}, "error: --state \"lost\": use pending, retrying, succeeded, failed, cancelled or held\nhint: run `herald delivery list --help` for usage\n"},
		{[]string{"token", "create", "--name", "x", "--role", "god"}, "error: --role \"god\": use one of platform-admin, project-admin, viewer, publisher\nhint: run `herald token create --help` for usage\n"},
		{[]string{"settings", "set"}, "error: nothing to change: give --webhooks-enabled or --https-only\nhint: run `herald settings set --help` for usage\n"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			run(t, api, runOpts{}, tc.args...).mustFail(t, tc.want)
		})
	}
	if reqs := api.requests(); len(reqs) != 0 {
		t.Errorf("usage errors sent requests: %+v", reqs)
	}
}

func TestErrorHints(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ field, flag string }{
		{"url", "--url"}, {"event_types", "--event-type"}, {"auth.password", "--password"},
		{"auth.token", "--bearer-token"}, {"auth.type", "--auth-type"}, {"tls.ca_pem", "--ca-file"},
		{"conditions[1].values", "--condition"}, {"events[0].type", "--type"}, {"projects", "--project"},
		{"nonsense", ""}, {"", ""},
	} {
		if got := flagForField(tc.field); got != tc.flag {
			t.Errorf("flagForField(%q) = %q, want %q", tc.field, got, tc.flag)
		}
	}
}

func TestParseTimeArg(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"2025-01-01T10:00:00Z", time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC)},
		{"2024-12-31", time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC)},
		{"90m", testNow.Add(-90 * time.Minute)},
	} {
		got, err := parseTimeArg("since", tc.in, testNow)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("parseTimeArg(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "-5m", "soon"} {
		if _, err := parseTimeArg("since", bad, testNow); err == nil {
			t.Errorf("parseTimeArg(%q) succeeded", bad)
		}
	}
}

func TestMainExitCodes(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t)
	api.handle("POST /api/v1/webhooks/wh_1/test", 200, `{"delivery_id":"dlv_9","ok":false,"status_code":503,"latency_ms":4,"response_excerpt":"busy"}`)
	api.handle("GET /api/v1/tokens", 200, `{"data":[]}`)
	var stdout, stderr bytes.Buffer
	base := []string{"--server", api.srv.URL, "--token", testToken}
	if code := Main(t.Context(), append(base, "token", "list"), &stdout, &stderr); code != 0 {
		t.Errorf("token list: exit %d, stderr %s", code, stderr.String())
	}
	stderr.Reset()
	if code := Main(t.Context(), append(base, "webhook", "test", "wh_1"), &stdout, &stderr); code == 0 {
		t.Error("failed webhook test exited 0")
	}
	if want := "error: the test delivery failed: the endpoint answered HTTP 503\nhint: check the URL, auth and TLS settings: `herald webhook get wh_1`\n"; stderr.String() != want {
		t.Errorf("stderr = %q, want %q", stderr.String(), want)
	}
	stderr.Reset()
	if code := Main(t.Context(), append(base, "webhook", "get"), &stdout, &stderr); code == 0 {
		t.Error("usage error exited 0")
	}
}
