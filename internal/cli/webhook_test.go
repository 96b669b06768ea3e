package cli

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/herald-hq/herald"
)

// webhookReq is the contract's webhook request body, secrets in clear.
type webhookReq struct {
	Name       *string            `json:"name"`
	Project    *string            `json:"project"`
	URL        *string            `json:"url"`
	Enabled    *bool              `json:"enabled"`
	Category   *string            `json:"category"`
	EventTypes []string           `json:"event_types"`
	Conditions []herald.Condition `json:"conditions"`
	Severity   *string            `json:"severity"`
	Language   *string            `json:"language"`
	Format     *string            `json:"format"`
	Template   *string            `json:"template"`
	Headers    map[string]string  `json:"headers"`
	Auth       *struct {
		Type        string `json:"type"`
		Username    string `json:"username"`
		Password    string `json:"password"`
		Token       string `json:"token"`
		HeaderName  string `json:"header_name"`
		HeaderValue string `json:"header_value"`
		CertPEM     string `json:"cert_pem"`
		KeyPEM      string `json:"key_pem"`
	} `json:"auth"`
	TLS             *herald.TLS `json:"tls"`
	ChallengeSecret *string     `json:"challenge_secret"`
	MaxAttempts     *int        `json:"max_attempts"`
	Timeout         *string     `json:"timeout"`
	RateLimit       *int        `json:"rate_limit"`
	Ordered         *bool       `json:"ordered"`
	// RetryClientErrors is sent only when --retry-client-errors is given.
	RetryClientErrors *bool `json:"retry_client_errors"`
	// StandardHeaders is sent only when --standard-headers is given.
	StandardHeaders *bool `json:"standard_headers"`
}

const webhookJSON = `{"id":"wh_1","name":"ci","project":"p1","url":"https://ci.example.com/hook","enabled":true,
"category":"events","event_types":["image.*","chart.uploaded"],"conditions":[{"label":"env","operator":"In","values":["prod","staging"]}],
"severity":"all","language":"en","format":"standard","headers":{"X-Team":"ops"},
"auth":{"type":"basic","username":"u","password":"********"},"tls":{"skip_verify":false},
"max_attempts":0,"timeout":"0s","rate_limit":0,"ordered":false,"retry_client_errors":true,"standard_headers":true,
"created_at":"2025-01-01T10:00:00Z","updated_at":"2025-01-01T11:00:00Z"}`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestWebhookCreate(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t)
	api.handle("POST /api/v1/webhooks", 201, `{"id":"wh_1","name":"ci","project":"p1","url":"https://ci.example.com/hook","enabled":false,
"event_types":["image.*"],"format":"template","auth":{"type":"basic","username":"u","password":"********"},
"tls":{"skip_verify":true,"ca_pem":"CA"},"created_at":"2025-01-01T10:00:00Z","updated_at":"2025-01-01T10:00:00Z",
"signing_secret":"whsec_c2VjcmV0","warnings":["TLS verification is off for this webhook"]}`)
	ca := writeFile(t, "ca.pem", "-----BEGIN CERTIFICATE-----\nCA\n")
	tmpl := writeFile(t, "t.tmpl", `{"text":"{{.Type}}"}`)
	res := run(t, api, runOpts{}, "webhook", "create",
		"--name", "ci", "--project", "p1", "--url", "https://ci.example.com/hook",
		"--event-type", "image.*,chart.uploaded", "--event-type", "herald.test",
		"--header", "X-Team=ops", "--header", "X-Query=a=b,c",
		"--condition", "env In prod, staging", "--condition", "team exists",
		"--username", "u", "--password", "p@ss w0rd",
		"--skip-tls-verify", "--ca-file", ca, "--template-file", tmpl,
		"--timeout", "20s", "--max-attempts", "3", "--challenge-secret", "chal-s3cret",
		"--rate-limit", "5", "--ordered", "--disabled", "--category", "alarms", "--retry-client-errors=false",
		"--standard-headers=false",
	).mustSucceed(t)

	req := api.only()
	var b webhookReq
	decodeStrict(t, req.Body, &b)
	if *b.Name != "ci" || *b.Project != "p1" || *b.URL != "https://ci.example.com/hook" || *b.Enabled || *b.Category != "alarms" {
		t.Errorf("body = %s", req.Body)
	}
	if want := []string{"image.*", "chart.uploaded", "herald.test"}; !reflect.DeepEqual(b.EventTypes, want) {
		t.Errorf("event_types = %q, want %q", b.EventTypes, want)
	}
	if want := map[string]string{"X-Team": "ops", "X-Query": "a=b,c"}; !reflect.DeepEqual(b.Headers, want) {
		t.Errorf("headers = %v", b.Headers)
	}
	wantConds := []herald.Condition{{Label: "env", Operator: "In", Values: []string{"prod", "staging"}}, {Label: "team", Operator: "Exists"}}
	if !reflect.DeepEqual(b.Conditions, wantConds) {
		t.Errorf("conditions = %+v", b.Conditions)
	}
	if b.Auth == nil || b.Auth.Type != "basic" || b.Auth.Username != "u" || b.Auth.Password != "p@ss w0rd" {
		t.Errorf("auth = %+v (the password must be sent in clear)", b.Auth)
	}
	if b.TLS == nil || !b.TLS.SkipVerify || !strings.HasPrefix(b.TLS.CAPEM, "-----BEGIN CERTIFICATE-----") {
		t.Errorf("tls = %+v", b.TLS)
	}
	if *b.Format != "template" || *b.Template != `{"text":"{{.Type}}"}` {
		t.Errorf("format, template = %v, %v", *b.Format, *b.Template)
	}
	if *b.Timeout != "20s" || *b.MaxAttempts != 3 || *b.ChallengeSecret != "chal-s3cret" || *b.RateLimit != 5 || !*b.Ordered {
		t.Errorf("body = %s", req.Body)
	}
	if b.RetryClientErrors == nil || *b.RetryClientErrors {
		t.Errorf("retry_client_errors = %v, want false: %s", b.RetryClientErrors, req.Body)
	}
	if b.StandardHeaders == nil || *b.StandardHeaders {
		t.Errorf("standard_headers = %v, want false: %s", b.StandardHeaders, req.Body)
	}
	if strings.Contains(req.Body, "********") {
		t.Errorf("a secret was sent masked: %s", req.Body)
	}

	for _, want := range []string{
		"Created webhook wh_1.\n\n",
		"Auth:          basic (user u, password set)\n",
		"TLS:           verification OFF (insecure), custom CA\n",
		"Enabled:       no\n",
		"\nSigning secret: whsec_c2VjcmV0\nKeep the signing secret now: it will not be shown again.",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, res.stdout)
		}
	}
	if res.stderr != "warning: TLS verification is off for this webhook\n" {
		t.Errorf("stderr = %q", res.stderr)
	}
}

func TestWebhookCreateAuthTypes(t *testing.T) {
	t.Parallel()
	cert := writeFile(t, "c.pem", "CERT")
	key := writeFile(t, "k.pem", "KEY")
	for _, tc := range []struct {
		flags    []string
		wantAuth string
	}{
		{[]string{"--token-value", "tok 1"}, `{"type":"bearer","token":"tok 1"}`},
		{[]string{"--header-name", "Authorization", "--header-value", "Basic abc"}, `{"type":"header","header_name":"Authorization","header_value":"Basic abc"}`},
		{[]string{"--cert-file", cert, "--key-file", key}, `{"type":"mtls","cert_pem":"CERT","key_pem":"KEY"}`},
		{[]string{"--auth-type", "none"}, `{"type":"none"}`},
		{nil, ``},
	} {
		api := newFakeAPI(t)
		api.handle("POST /api/v1/webhooks", 201, `{"id":"wh_1","signing_secret":"whsec_x"}`)
		run(t, api, runOpts{}, append([]string{"webhook", "create", "--url", "https://x"}, tc.flags...)...).mustSucceed(t)
		var body map[string]json.RawMessage
		decodeStrict(t, api.only().Body, &body)
		if got := string(body["auth"]); got != tc.wantAuth {
			t.Errorf("%v: auth = %s, want %s", tc.flags, got, tc.wantAuth)
		}
		if string(body["enabled"]) != "true" {
			t.Errorf("%v: enabled = %s", tc.flags, body["enabled"])
		}
		if v, ok := body["retry_client_errors"]; ok {
			t.Errorf("%v: retry_client_errors = %s sent without the flag (the server defaults it to true)", tc.flags, v)
		}
		if v, ok := body["standard_headers"]; ok {
			t.Errorf("%v: standard_headers = %s sent without the flag (the server defaults it to true)", tc.flags, v)
		}
	}
}

func TestWebhookCreateJSON(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t)
	api.handle("POST /api/v1/webhooks", 201, `{"id":"wh_1","name":"ci","signing_secret":"whsec_abc"}`)
	res := run(t, api, runOpts{}, "--json", "webhook", "create", "--url", "https://x").mustSucceed(t)
	var got map[string]any
	if err := json.Unmarshal([]byte(res.stdout), &got); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, res.stdout)
	}
	if got["signing_secret"] != "whsec_abc" || got["id"] != "wh_1" {
		t.Errorf("json = %v", got)
	}
	if !strings.Contains(res.stdout, "\n  \"id\": \"wh_1\",\n") {
		t.Errorf("JSON is not indented:\n%s", res.stdout)
	}
	if !strings.Contains(res.stderr, "will not be shown again") {
		t.Errorf("stderr = %q", res.stderr)
	}
}

func TestWebhookCreateInvalidField(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t)
	api.handleFunc("POST /api/v1/webhooks", func(w http.ResponseWriter, r *http.Request) {
		apiError(w, 400, "invalid", "url must be https while https_only is on", "url")
	})
	run(t, api, runOpts{}, "webhook", "create", "--url", "http://x").
		mustFail(t, "error: url must be https while https_only is on (field: url)\nhint: fix the value given with --url\n")

	api2 := newFakeAPI(t)
	api2.handleFunc("POST /api/v1/webhooks", func(w http.ResponseWriter, r *http.Request) {
		apiError(w, 422, "unprocessable", "ownership challenge failed: the endpoint answered 404", "")
	})
	run(t, api2, runOpts{}, "webhook", "create", "--url", "https://x", "--challenge-secret", "s").
		mustFail(t, "error: ownership challenge failed: the endpoint answered 404\n")
}

func TestWebhookList(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t)
	api.handle("GET /api/v1/webhooks", 200, `{"data":[`+webhookJSON+`,
{"id":"wh_22","name":"platform","project":"","url":"https://all.example/h","enabled":false,"disabled_reason":"410 Gone",
"event_types":["*"],"format":"cloudevents","auth":{"type":"none"}}]}`)
	res := run(t, api, runOpts{}, "webhook", "list", "--project", "p1").mustSucceed(t)
	if q := api.only().Query; q != "project=p1" {
		t.Errorf("query = %q", q)
	}
	want := "" +
		"ID     NAME      PROJECT     URL                          ENABLED        EVENT TYPES              FORMAT       AUTH\n" +
		"wh_1   ci        p1          https://ci.example.com/hook  yes            image.*, chart.uploaded  standard     basic\n" +
		"wh_22  platform  (platform)  https://all.example/h        no (410 Gone)  *                        cloudevents  none\n"
	if res.stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", res.stdout, want)
	}

	res = run(t, api, runOpts{}, "webhook", "list", "--json").mustSucceed(t)
	var got struct {
		Data []herald.Webhook `json:"data"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &got); err != nil || len(got.Data) != 2 || got.Data[1].DisabledReason != "410 Gone" {
		t.Errorf("json: %v %s", err, res.stdout)
	}

	empty := newFakeAPI(t)
	empty.handle("GET /api/v1/webhooks", 200, `{"data":[]}`)
	if res := run(t, empty, runOpts{}, "webhook", "list").mustSucceed(t); res.stdout != "No webhooks. Create one with `herald webhook create`.\n" {
		t.Errorf("stdout = %q", res.stdout)
	}
	if res := run(t, empty, runOpts{}, "webhook", "list", "--json").mustSucceed(t); res.stdout != "{\n  \"data\": []\n}\n" {
		t.Errorf("stdout = %q", res.stdout)
	}
}

func TestWebhookGet(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t)
	api.handle("GET /api/v1/webhooks/wh_1", 200, strings.TrimSuffix(webhookJSON, "}")+`,"warnings":["no event types match"]}`)
	api.handleFunc("GET /api/v1/webhooks/wh_404", func(w http.ResponseWriter, r *http.Request) {
		apiError(w, 404, "not_found", "webhook not found", "")
	})
	res := run(t, api, runOpts{}, "webhook", "get", "wh_1").mustSucceed(t)
	want := `ID:            wh_1
Name:          ci
Project:       p1
URL:           https://ci.example.com/hook
Enabled:       yes
Category:      events
Event types:   image.*, chart.uploaded
Conditions:    env In prod,staging
Severity:      all
Language:      en
Format:        standard
Headers:       X-Team: ops
Auth:          basic (user u, password set)
TLS:           verify
Challenge:     -
Max attempts:  default
Timeout:       default
Rate limit:    no limit
Ordered:       no
Retry 4xx:     yes
Std headers:   yes
Created:       2025-01-01T10:00:00Z
Updated:       2025-01-01T11:00:00Z
`
	if res.stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", res.stdout, want)
	}
	if res.stderr != "warning: no event types match\n" {
		t.Errorf("stderr = %q", res.stderr)
	}
	run(t, api, runOpts{}, "webhook", "get", "wh_404").
		mustFail(t, "error: webhook not found\nhint: check the ID; `herald webhook list` shows the existing ones\n")
}

func TestWebhookUpdate(t *testing.T) {
	t.Parallel()
	t.Run("only given flags", func(t *testing.T) {
		t.Parallel()
		api := newFakeAPI(t)
		api.handle("PATCH /api/v1/webhooks/wh_1", 200, webhookJSON)
		run(t, api, runOpts{}, "webhook", "update", "wh_1", "--url", "https://new.example", "--header=",
			"--event-type", "a,b", "--timeout", "1m", "--disabled=false", "--max-attempts", "0").mustSucceed(t)
		req := api.only()
		want := `{"enabled":true,"event_types":["a","b"],"headers":{},"max_attempts":0,"timeout":"1m0s","url":"https://new.example"}`
		if req.Body != want {
			t.Errorf("body = %s\nwant   %s", req.Body, want)
		}
	})
	t.Run("retry client errors", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct{ flag, want string }{
			{"--retry-client-errors=false", `{"retry_client_errors":false}`},
			{"--retry-client-errors", `{"retry_client_errors":true}`},
			{"--standard-headers=false", `{"standard_headers":false}`},
			{"--standard-headers", `{"standard_headers":true}`},
		} {
			api := newFakeAPI(t)
			api.handle("PATCH /api/v1/webhooks/wh_1", 200, webhookJSON)
			run(t, api, runOpts{}, "webhook", "update", "wh_1", tc.flag).mustSucceed(t)
			if got := api.only().Body; got != tc.want {
				t.Errorf("%s: body = %s, want %s", tc.flag, got, tc.want)
			}
		}
	})
	t.Run("auth keeps stored secrets", func(t *testing.T) {
		t.Parallel()
		api := newFakeAPI(t)
		api.handle("GET /api/v1/webhooks/wh_1", 200, `{"id":"wh_1","auth":{"type":"basic","username":"u","password":"********"},"tls":{"skip_verify":false,"ca_pem":"OLDCA"}}`)
		api.handle("PATCH /api/v1/webhooks/wh_1", 200, webhookJSON)
		run(t, api, runOpts{}, "webhook", "update", "wh_1", "--username", "v", "--skip-tls-verify").mustSucceed(t)
		reqs := api.requests()
		if len(reqs) != 2 || reqs[0].Method != "GET" {
			t.Fatalf("requests = %+v", reqs)
		}
		want := `{"auth":{"type":"basic","username":"v","password":"********"},"tls":{"skip_verify":true,"ca_pem":"OLDCA"}}`
		if reqs[1].Body != want {
			t.Errorf("body = %s\nwant   %s", reqs[1].Body, want)
		}
	})
	t.Run("new auth type starts fresh", func(t *testing.T) {
		t.Parallel()
		api := newFakeAPI(t)
		api.handle("GET /api/v1/webhooks/wh_1", 200, `{"id":"wh_1","auth":{"type":"basic","username":"u","password":"********"}}`)
		api.handle("PATCH /api/v1/webhooks/wh_1", 200, webhookJSON)
		run(t, api, runOpts{}, "webhook", "update", "wh_1", "--token-value", "s3cr3t").mustSucceed(t)
		if got, want := api.requests()[1].Body, `{"auth":{"type":"bearer","token":"s3cr3t"}}`; got != want {
			t.Errorf("body = %s, want %s", got, want)
		}
	})
	t.Run("clear conditions", func(t *testing.T) {
		t.Parallel()
		api := newFakeAPI(t)
		api.handle("PATCH /api/v1/webhooks/wh_1", 200, webhookJSON)
		run(t, api, runOpts{}, "webhook", "update", "wh_1", "--condition=").mustSucceed(t)
		if got := api.only().Body; got != `{"conditions":[]}` {
			t.Errorf("body = %s", got)
		}
	})
}

func TestWebhookEnableDisable(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t)
	api.handle("PATCH /api/v1/webhooks/wh_1", 200, webhookJSON)
	res := run(t, api, runOpts{}, "webhook", "disable", "wh_1").mustSucceed(t)
	if body := api.only().Body; body != `{"enabled":false}` {
		t.Errorf("body = %s", body)
	}
	if res.stdout != "Webhook wh_1 (ci) is disabled.\n" {
		t.Errorf("stdout = %q", res.stdout)
	}
	run(t, api, runOpts{}, "webhook", "enable", "wh_1").mustSucceed(t)
	if body := api.requests()[1].Body; body != `{"enabled":true}` {
		t.Errorf("body = %s", body)
	}
}

func TestWebhookDelete(t *testing.T) {
	t.Parallel()
	setup := func(t *testing.T) *fakeAPI {
		api := newFakeAPI(t)
		api.handle("GET /api/v1/webhooks/wh_1", 200, webhookJSON)
		api.handle("DELETE /api/v1/webhooks/wh_1", 204, "")
		return api
	}
	deleted := func(api *fakeAPI) bool {
		for _, r := range api.requests() {
			if r.Method == "DELETE" {
				return true
			}
		}
		return false
	}

	api := setup(t)
	run(t, api, runOpts{}, "webhook", "delete", "wh_1").
		mustFail(t, "error: herald webhook delete needs confirmation: pass --yes\nhint: run `herald webhook delete --help` for usage\n")
	if deleted(api) {
		t.Error("deleted without confirmation")
	}

	api = setup(t)
	res := run(t, api, runOpts{tty: true, stdin: "n\n"}, "webhook", "delete", "wh_1")
	res.mustFail(t, "Delete webhook wh_1 (ci, https://ci.example.com/hook)? [y/N] error: cancelled: nothing was changed\n")
	if deleted(api) {
		t.Error("deleted after answering no")
	}

	api = setup(t)
	res = run(t, api, runOpts{tty: true, stdin: "yes\n"}, "webhook", "delete", "wh_1").mustSucceed(t)
	if !deleted(api) || res.stdout != "Deleted webhook wh_1.\n" {
		t.Errorf("stdout = %q, requests %+v", res.stdout, api.requests())
	}

	api = setup(t)
	run(t, api, runOpts{}, "webhook", "rm", "wh_1", "-y").mustSucceed(t)
	if r := api.only(); r.Method != "DELETE" || r.Path != "/api/v1/webhooks/wh_1" {
		t.Errorf("request = %s %s", r.Method, r.Path)
	}
}

func TestWebhookTest(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t)
	api.handle("POST /api/v1/webhooks/wh_ok/test", 200, `{"delivery_id":"dlv_1","ok":true,"status_code":200,"latency_ms":12.34,"response_excerpt":"{\"ok\":true}"}`)
	api.handle("POST /api/v1/webhooks/wh_bad/test", 200, `{"delivery_id":"dlv_2","ok":false,"status_code":0,"latency_ms":1.5,"response_excerpt":"","error":"dial tcp: connection refused"}`)
	res := run(t, api, runOpts{}, "webhook", "test", "wh_ok").mustSucceed(t)
	want := "Test delivery dlv_1: succeeded\nStatus code:  200\nLatency:      12.3 ms\nResponse:     {\"ok\":true}\n"
	if res.stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", res.stdout, want)
	}
	res = run(t, api, runOpts{}, "webhook", "test", "wh_bad").
		mustFail(t, "error: the test delivery failed: dial tcp: connection refused\nhint: check the URL, auth and TLS settings: `herald webhook get wh_bad`\n")
	if !strings.Contains(res.stdout, "Test delivery dlv_2: FAILED\n") || !strings.Contains(res.stdout, "Error:        dial tcp: connection refused\n") {
		t.Errorf("stdout:\n%s", res.stdout)
	}
	res = run(t, api, runOpts{}, "webhook", "test", "wh_bad", "--json")
	if res.err == nil || !strings.Contains(res.stdout, `"ok": false`) {
		t.Errorf("--json: err %v, stdout %s", res.err, res.stdout)
	}
}

func TestWebhookStatusAndRecover(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t)
	api.handle("GET /api/v1/webhooks/wh_1/status", 200, `{"data":[
{"event_type":"image.pushed","last_attempt_at":"2025-01-02T11:00:00Z","state":"succeeded","status_code":200,"delivery_id":"dlv_1"},
{"event_type":"image.deleted","last_attempt_at":"2025-01-02T11:30:00Z","state":"failed","status_code":503,"error":"HTTP 503","delivery_id":"dlv_2"}]}`)
	api.handle("POST /api/v1/webhooks/wh_1/recover", 200, `{"recovered":4}`)
	res := run(t, api, runOpts{}, "webhook", "status", "wh_1").mustSucceed(t)
	want := "" +
		"EVENT TYPE     STATE      STATUS  LAST ATTEMPT          DELIVERY  ERROR\n" +
		"image.pushed   succeeded  200     2025-01-02T11:00:00Z  dlv_1     -\n" +
		"image.deleted  failed     503     2025-01-02T11:30:00Z  dlv_2     HTTP 503\n"
	if res.stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", res.stdout, want)
	}
	res = run(t, api, runOpts{}, "webhook", "recover", "wh_1", "--since", "24h").mustSucceed(t)
	req := api.requests()[1]
	if req.Method != "POST" || req.Body != `{"since":"2025-01-01T12:00:00Z"}` {
		t.Errorf("request = %s %s", req.Method, req.Body)
	}
	if res.stdout != "Requeued 4 failed deliveries of webhook wh_1 (last attempt since 2025-01-01T12:00:00Z).\n" {
		t.Errorf("stdout = %q", res.stdout)
	}
	run(t, api, runOpts{}, "webhook", "recover", "wh_1").mustFail(t, "error: required flag(s) \"since\" not set\n")
}

func TestParseCondition(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want herald.Condition
	}{
		{"env In prod", herald.Condition{Label: "env", Operator: "In", Values: []string{"prod"}}},
		{"env notin a,b ,c", herald.Condition{Label: "env", Operator: "NotIn", Values: []string{"a", "b", "c"}}},
		{"  team   Exists ", herald.Condition{Label: "team", Operator: "Exists"}},
		{"x doesnotexist", herald.Condition{Label: "x", Operator: "DoesNotExist"}},
		{"region In eu west, us east", herald.Condition{Label: "region", Operator: "In", Values: []string{"eu west", "us east"}}},
	} {
		got, err := parseCondition(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseCondition(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}
