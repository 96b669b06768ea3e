package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/herald-hq/herald/internal/config"
)

// oaClient calls a running Herald and checks every request and every answer
// against the OpenAPI document the server serves: a request the test means
// to be valid must pass the document, one it means to be invalid must fail
// it (the document is as strict as the server), and every answer must match
// its operation's documented status, headers and body.
type oaClient struct {
	t      *testing.T
	base   string
	doc    *openapi3.T
	router routers.Router
	opts   *openapi3filter.Options
	// seen records the statuses answered per operation.
	seen map[string]map[int]bool
}

// oaCall is one request: path is under /api/v1 and may carry a query.
type oaCall struct {
	token  string
	method string
	path   string
	body   any // nil, string, []byte, or a value to marshal
	header http.Header
	status int
	// invalid: the document must refuse the request (the server does too,
	// with status).
	invalid bool
}

func newOAClient(t *testing.T, h *herald) *oaClient {
	t.Helper()
	// The document as the server serves it, without a token.
	resp, err := http.Get(h.url + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /api/v1/openapi.json: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	onDisk, err := os.ReadFile(filepath.Join("..", "api", "openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, onDisk) {
		t.Fatal("the served document differs from internal/api/openapi.json")
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatalf("load the served document: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the served document is not valid OpenAPI 3: %v", err)
	}
	// Route against this server: its relative server /api/v1 made absolute.
	doc.Servers = openapi3.Servers{{URL: h.url + doc.Servers[0].URL}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	opts := &openapi3filter.Options{
		IncludeResponseStatus:             true,
		RejectWhenRequestBodyNotSpecified: true,
		MultiError:                        true,
		AuthenticationFunc:                bearerAuth,
	}
	// Short messages: where in the body, and why (not the whole schema).
	opts.WithCustomSchemaErrorFunc(func(e *openapi3.SchemaError) string {
		msg := "/" + strings.Join(e.JSONPointer(), "/") + ": " + e.Reason
		if e.Origin != nil {
			msg += " (" + e.Origin.Error() + ")"
		}
		return msg
	})
	c := &oaClient{t: t, base: h.url, doc: doc, router: router, opts: opts, seen: map[string]map[int]bool{}}
	c.record("getOpenAPI", resp.StatusCode)
	return c
}

// bearerAuth accepts a request that carries a bearer token; whether the
// token is any good is the server's business.
func bearerAuth(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecuritySchemeName != "bearerAuth" {
		return fmt.Errorf("unknown security scheme %q", in.SecuritySchemeName)
	}
	scheme, tok, ok := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return errors.New("no bearer token")
	}
	return nil
}

func (c *oaClient) record(op string, status int) {
	if c.seen[op] == nil {
		c.seen[op] = map[int]bool{}
	}
	c.seen[op][status] = true
}

func (c *oaClient) newRequest(call oaCall, body []byte) *http.Request {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(call.method, c.base+"/api/v1"+call.path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if call.token != "" {
		req.Header.Set("Authorization", "Bearer "+call.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range call.header {
		req.Header[k] = v
	}
	return req
}

// do runs call, checks it and its answer against the document, decodes a
// 2xx JSON answer into out (if not nil) and returns the raw body.
func (c *oaClient) do(call oaCall, out any) []byte {
	c.t.Helper()
	var body []byte
	switch b := call.body.(type) {
	case nil:
	case string:
		body = []byte(b)
	case []byte:
		body = b
	default:
		js, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		body = js
	}
	name := call.method + " /api/v1" + call.path

	// The request, against the document (on a copy: validation reads the body).
	check := c.newRequest(call, body)
	route, params, err := c.router.FindRoute(check)
	if err != nil {
		c.t.Fatalf("%s: no operation in the document: %v", name, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: check, PathParams: params, Route: route, Options: c.opts}
	reqErr := openapi3filter.ValidateRequest(context.Background(), in)
	switch {
	case reqErr != nil && !call.invalid:
		c.t.Errorf("%s: the document refuses a request the test means to be valid: %v", name, reqErr)
	case reqErr == nil && call.invalid:
		c.t.Errorf("%s: the document accepts a request it should refuse (the server answers %d)", name, call.status)
	}

	// The real request.
	resp, err := http.DefaultClient.Do(c.newRequest(call, body))
	if err != nil {
		c.t.Fatalf("%s: %v", name, err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		c.t.Fatalf("%s: read the answer: %v", name, err)
	}
	c.record(route.Operation.OperationID, resp.StatusCode)
	if resp.StatusCode != call.status {
		c.t.Fatalf("%s: status %d, want %d: %s", name, resp.StatusCode, call.status, raw)
	}

	// The answer, against the document.
	rin := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(raw)), Options: c.opts,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), rin); err != nil {
		c.t.Errorf("%s: answer %d does not match the document: %v\n%.2000s", name, resp.StatusCode, err, raw)
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s: decode %s: %v", name, raw, err)
		}
	}
	return raw
}

// errorField returns the code and field of an error answer.
func errorField(t *testing.T, raw []byte) (string, string) {
	t.Helper()
	e := decodeError(t, raw)
	return e.Error.Code, e.Error.Field
}

// TestOpenAPILiveFlow drives every operation of the API on a real Herald
// (SQLite in a temp dir, loopback receivers) and validates every request and
// answer against the served document: successes and the error answers the
// flow can provoke (400, 401, 403, 404, 409, 413, 422, 429, 431).
func TestOpenAPILiveFlow(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	c := newOAClient(t, h)
	const adm = adminToken
	get := func(path string, status int, out any) []byte {
		t.Helper()
		return c.do(oaCall{token: adm, method: "GET", path: path, status: status}, out)
	}
	send := func(method, path string, body any, status int, out any) []byte {
		t.Helper()
		return c.do(oaCall{token: adm, method: method, path: path, body: body, status: status}, out)
	}
	refused := func(method, path string, body any, status int) []byte {
		t.Helper()
		return c.do(oaCall{token: adm, method: method, path: path, body: body, status: status, invalid: true}, nil)
	}

	// Receivers: one that answers the ownership challenge and 200 to
	// deliveries, one that answers the challenge wrong, one failing with 500.
	good := newChallengeEndpoint(t, "chal-key")
	wrong := newChallengeEndpoint(t, "chal-key")
	wrong.set("wrong-secret")
	failing := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "broken on purpose", http.StatusInternalServerError)
	})

	// --- Tokens (first, so the roles exist for the rest).
	var viewer, publisher struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	send("POST", "/tokens", map[string]any{"name": "viewer", "role": "viewer", "projects": []string{}}, 201, &viewer)
	send("POST", "/tokens", map[string]any{"name": "pub", "role": "publisher", "projects": []string{"prj"}}, 201, &publisher)
	var doomed struct {
		ID string `json:"id"`
	}
	send("POST", "/tokens", map[string]any{"name": "doomed", "role": "project-admin", "projects": []string{"prj"}}, 201, &doomed)
	refused("POST", "/tokens", map[string]any{"name": "x", "role": "king"}, 400)
	refused("POST", "/tokens", map[string]any{"name": "x", "role": "viewer", "extra": 1}, 400)
	send("POST", "/tokens", map[string]any{"name": "x", "role": "project-admin"}, 400, nil) // needs a project: the server's rule
	var tokens struct {
		Data []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"data"`
	}
	get("/tokens", 200, &tokens)
	own := ""
	for _, tk := range tokens.Data {
		if strings.HasPrefix(tk.Name, "bootstrap admin") {
			own = tk.ID
		}
	}
	if own == "" {
		t.Fatalf("the bootstrap token is not listed: %+v", tokens.Data)
	}
	send("DELETE", "/tokens/"+doomed.ID, nil, 204, nil)
	send("DELETE", "/tokens/"+doomed.ID, nil, 404, nil)
	send("DELETE", "/tokens/"+own, nil, 409, nil)
	c.do(oaCall{token: viewer.Token, method: "GET", path: "/tokens", status: 403}, nil)

	// --- Authentication.
	c.do(oaCall{method: "GET", path: "/webhooks", status: 401, invalid: true}, nil)
	c.do(oaCall{token: "hrld_not-a-token", method: "GET", path: "/settings", status: 401}, nil)

	// --- Webhooks.
	var w1 struct {
		ID            string   `json:"id"`
		SigningSecret string   `json:"signing_secret"`
		Warnings      []string `json:"warnings"`
	}
	send("POST", "/webhooks", map[string]any{
		"name": "registry", "project": "prj", "url": good.URL, "enabled": true, "category": "events",
		"event_types": []string{"image.*", "alert.*"},
		"conditions": []map[string]any{
			{"label": "repository", "operator": "In", "values": []string{"prj/app", "prj/web"}},
			{"label": "data.tag", "operator": "Exists"},
		},
		"severity": "all", "language": "zh-CN", "format": "standard",
		"headers":          map[string]string{"X-Team": "platform"},
		"auth":             map[string]any{"type": "bearer", "token": "s3cr3t"},
		"tls":              map[string]any{"skip_verify": false},
		"challenge_secret": "chal-key",
		"max_attempts":     3, "timeout": "5s", "rate_limit": 0, "ordered": false,
	}, 201, &w1)
	if !strings.HasPrefix(w1.SigningSecret, "whsec_") || len(w1.Warnings) == 0 {
		t.Fatalf("created webhook: %+v", w1)
	}
	var w2 struct {
		ID string `json:"id"`
	}
	send("POST", "/webhooks", map[string]any{
		"name": "failing", "project": "prj", "url": failing.URL, "event_types": []string{"*"},
		"format": "template", "template": `{"t": {{ json .Event.Type }}}`, "content_type": "application/json",
		"auth":         map[string]any{"type": "basic", "username": "u", "password": "p"},
		"max_attempts": 1, "severity": "alerts",
	}, 201, &w2)
	var w3 struct {
		ID string `json:"id"`
	}
	send("POST", "/webhooks", map[string]any{
		"name": "platform", "url": good.URL, "event_types": []string{"herald.*"}, "category": "alarms",
		"auth": map[string]any{"type": "header", "header_name": "X-Key", "header_value": "k"},
		"tls":  map[string]any{"skip_verify": true},
	}, 201, &w3)

	refused("POST", "/webhooks", map[string]any{"name": "no url", "event_types": []string{"*"}}, 400)
	refused("POST", "/webhooks", map[string]any{"name": "n", "url": good.URL, "event_types": []string{}}, 400)
	refused("POST", "/webhooks", map[string]any{"name": "n", "url": good.URL, "event_types": []string{"*"}, "category": "misc"}, 400)
	refused("POST", "/webhooks", map[string]any{"name": "n", "url": good.URL, "event_types": []string{"*"}, "format": "xml"}, 400)
	refused("POST", "/webhooks", map[string]any{"name": "n", "url": good.URL, "event_types": []string{"*"}, "auth": map[string]any{"type": "digest"}}, 400)
	refused("POST", "/webhooks", map[string]any{"name": "n", "url": good.URL, "event_types": []string{"*"},
		"conditions": []map[string]any{{"label": "x", "operator": "Like"}}}, 400)
	refused("POST", "/webhooks", map[string]any{"name": "n", "url": good.URL, "event_types": []string{"*"}, "colour": "red"}, 400)
	refused("POST", "/webhooks", `{"name": "n", "url": `, 400)
	raw := send("POST", "/webhooks", map[string]any{"name": "n", "url": "ftp://x", "event_types": []string{"*"}}, 400, nil)
	if code, field := errorField(t, raw); code != "invalid" || field != "url" {
		t.Fatalf("bad url: %s", raw)
	}
	send("POST", "/webhooks", map[string]any{"name": "registry", "project": "prj", "url": good.URL, "event_types": []string{"*"}}, 409, nil)
	raw = send("POST", "/webhooks", map[string]any{"name": "challenged", "url": wrong.URL, "event_types": []string{"*"}, "challenge_secret": "chal-key"}, 422, nil)
	if code, field := errorField(t, raw); code != "unprocessable" || field != "challenge_secret" {
		t.Fatalf("failed challenge: %s", raw)
	}
	send("POST", "/webhooks", map[string]any{"name": "big", "url": good.URL, "event_types": []string{"*"},
		"headers": map[string]string{"X-Pad": strings.Repeat("a", 1<<20)}}, 413, nil)
	c.do(oaCall{token: viewer.Token, method: "POST", path: "/webhooks", body: map[string]any{"name": "v", "project": "prj", "url": good.URL, "event_types": []string{"*"}}, status: 403}, nil)

	var unsaved struct {
		OK         bool   `json:"ok"`
		DeliveryID string `json:"delivery_id"`
	}
	send("POST", "/webhooks/test", map[string]any{"name": "try", "project": "prj", "url": good.URL, "event_types": []string{"*"}}, 200, &unsaved)
	if !unsaved.OK || unsaved.DeliveryID != "" {
		t.Fatalf("unsaved test: %+v", unsaved)
	}
	refused("POST", "/webhooks/test", map[string]any{"url": good.URL}, 400)

	get("/webhooks", 200, nil)
	get("/webhooks?project=prj", 200, nil)
	get("/webhooks?project=", 200, nil)
	get("/webhooks/"+w1.ID, 200, nil)
	get("/webhooks/wh_nope", 404, nil)
	c.do(oaCall{token: publisher.Token, method: "GET", path: "/webhooks/" + w1.ID, status: 404}, nil)

	send("PATCH", "/webhooks/"+w1.ID, map[string]any{"enabled": false}, 200, nil)
	send("PATCH", "/webhooks/"+w1.ID, map[string]any{"enabled": true, "auth": map[string]any{"type": "bearer", "token": "********"}, "challenge_secret": "********"}, 200, nil)
	send("PATCH", "/webhooks/wh_nope", map[string]any{"enabled": false}, 404, nil)
	refused("PATCH", "/webhooks/"+w1.ID, map[string]any{"max_attempts": 99}, 400)
	refused("PATCH", "/webhooks/"+w1.ID, map[string]any{"timeout": "soon"}, 400)
	send("PATCH", "/webhooks/"+w1.ID, map[string]any{"timeout": "1h"}, 400, nil) // a duration, but out of range
	send("PATCH", "/webhooks/"+w2.ID, map[string]any{"name": "registry"}, 409, nil)
	send("PATCH", "/webhooks/"+w1.ID, map[string]any{"url": wrong.URL}, 400, nil) // another origin: the credentials must come along
	send("PATCH", "/webhooks/"+w1.ID, map[string]any{"url": wrong.URL, "auth": map[string]any{"type": "bearer", "token": "s3cr3t"}, "challenge_secret": "chal-key"}, 422, nil)
	c.do(oaCall{token: viewer.Token, method: "PATCH", path: "/webhooks/" + w1.ID, body: map[string]any{"enabled": false}, status: 403}, nil)

	var tested struct {
		OK         bool   `json:"ok"`
		StatusCode int    `json:"status_code"`
		DeliveryID string `json:"delivery_id"`
	}
	send("POST", "/webhooks/"+w1.ID+"/test", nil, 200, &tested)
	if !tested.OK || tested.StatusCode != 200 || tested.DeliveryID == "" {
		t.Fatalf("test send: %+v", tested)
	}
	send("POST", "/webhooks/"+w2.ID+"/test", nil, 200, nil) // the endpoint answers 500: ok false, still 200
	send("POST", "/webhooks/wh_nope/test", nil, 404, nil)
	refused("POST", "/webhooks/"+w1.ID+"/test", map[string]any{"x": 1}, 400) // the optional body has event_type only
	send("POST", "/webhooks/"+w1.ID+"/test", map[string]any{"event_type": "image.push"}, 200, nil)

	var verified struct {
		OK bool `json:"ok"`
	}
	send("POST", "/webhooks/"+w1.ID+"/verify", nil, 200, &verified)
	if !verified.OK {
		t.Fatal("verify of a good endpoint failed")
	}
	send("POST", "/webhooks/"+w2.ID+"/verify", nil, 400, nil) // no challenge_secret
	good.set("wrong-secret")
	var notVerified struct {
		OK     bool   `json:"ok"`
		Reason string `json:"reason"`
	}
	send("POST", "/webhooks/"+w1.ID+"/verify", nil, 200, &notVerified)
	if notVerified.OK || notVerified.Reason != "wrong_token" {
		t.Fatalf("verify against a wrong answer: %+v", notVerified)
	}
	good.set("recipe")
	send("POST", "/webhooks/wh_nope/verify", nil, 404, nil)

	var rotated struct {
		SigningSecret string     `json:"signing_secret"`
		Until         *time.Time `json:"previous_secret_valid_until"`
	}
	send("POST", "/webhooks/"+w1.ID+"/rotate-secret", nil, 200, &rotated)
	if rotated.Until == nil {
		t.Fatal("rotation without a body has no grace period")
	}
	rotated.Until = nil
	send("POST", "/webhooks/"+w1.ID+"/rotate-secret", map[string]any{"grace": "0s"}, 200, &rotated)
	if rotated.Until != nil {
		t.Fatal("grace 0s kept the previous secret")
	}
	send("POST", "/webhooks/"+w1.ID+"/rotate-secret", map[string]any{"grace": "9999h"}, 400, nil)
	refused("POST", "/webhooks/"+w1.ID+"/rotate-secret", map[string]any{"grace": "1h", "why": "x"}, 400)
	send("POST", "/webhooks/wh_nope/rotate-secret", nil, 404, nil)
	var shown struct {
		SigningSecret string `json:"signing_secret"`
	}
	send("GET", "/webhooks/"+w1.ID+"/signing-secret", nil, 200, &shown)
	if shown.SigningSecret != rotated.SigningSecret {
		t.Fatal("the signing secret shown is not the one the last rotation returned")
	}
	send("GET", "/webhooks/wh_nope/signing-secret", nil, 404, nil)

	// --- Events.
	var accepted struct {
		Data []struct {
			ID        string `json:"id"`
			Duplicate bool   `json:"duplicate"`
		} `json:"data"`
	}
	ev := map[string]any{
		"type": "image.push", "project": "prj", "source": "harbor", "subject": "prj/app:1.0", "severity": "info",
		"labels": map[string]string{"repository": "prj/app"}, "data": map[string]any{"tag": "1.0"},
		"message": "pushed", "occurred_at": "2026-01-02T15:04:05Z",
	}
	idem := http.Header{"Idempotency-Key": {"push-1"}}
	c.do(oaCall{token: adm, method: "POST", path: "/events", body: ev, header: idem, status: 202}, &accepted)
	c.do(oaCall{token: adm, method: "POST", path: "/events", body: ev, header: idem, status: 202}, &accepted)
	if len(accepted.Data) != 1 || accepted.Data[0].ID != "push-1" || !accepted.Data[0].Duplicate {
		t.Fatalf("repeated Idempotency-Key: %+v", accepted)
	}
	send("POST", "/events", map[string]any{"events": []map[string]any{
		{"type": "image.push", "project": "prj", "labels": map[string]string{"repository": "prj/web"}, "data": map[string]any{"tag": "2"}, "occurred_at": 1767366245},
		{"type": "image.delete", "project": "prj", "labels": map[string]string{"repository": "prj/app"}, "data": map[string]any{"tag": "1"}},
		{"type": "alarm.cpu", "project": "prj", "severity": "critical", "data": 42},
	}}, 202, &accepted)
	if len(accepted.Data) != 3 {
		t.Fatalf("batch: %+v", accepted)
	}
	c.do(oaCall{token: adm, method: "POST", path: "/events", body: map[string]any{"events": []map[string]any{{"type": "a"}}}, header: idem, status: 400}, nil)
	refused("POST", "/events", map[string]any{"project": "prj"}, 400)
	refused("POST", "/events", map[string]any{"type": "x", "severity": "loud"}, 400)
	refused("POST", "/events", map[string]any{"events": []map[string]any{}}, 400)
	refused("POST", "/events", map[string]any{"events": []map[string]any{{"type": "x", "colour": "red"}}}, 400)
	refused("POST", "/events", "", 400)
	send("POST", "/events", map[string]any{"type": "x", "data": map[string]any{"b": strings.Repeat("a", 257<<10)}}, 413, nil)
	c.do(oaCall{token: publisher.Token, method: "POST", path: "/events", body: map[string]any{"type": "x", "project": "other"}, status: 403}, nil)
	c.do(oaCall{token: publisher.Token, method: "POST", path: "/events", body: map[string]any{"type": "image.pull", "project": "prj"}, status: 202}, nil)

	get("/events/push-1?project=prj", 200, nil)
	get("/events/"+accepted.Data[2].ID, 200, nil)
	get("/events/push-1?project=", 404, nil)
	get("/events/evt_nope", 404, nil)

	// --- Alertmanager.
	am := map[string]any{
		"version": "4", "groupKey": "{}:{alertname=\"Disk\"}", "truncatedAlerts": 0, "status": "firing",
		"receiver": "herald", "groupLabels": map[string]string{"alertname": "Disk"},
		"commonLabels": map[string]string{"alertname": "Disk"}, "commonAnnotations": map[string]string{},
		"externalURL": "http://alertmanager:9093",
		"alerts": []map[string]any{{
			"status": "firing", "labels": map[string]string{"alertname": "Disk", "severity": "critical", "repository": "prj/app"},
			"annotations": map[string]string{"summary": "disk full"}, "startsAt": "2026-01-02T15:04:05Z",
			"endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prometheus/graph", "fingerprint": "abc123",
		}},
	}
	send("POST", "/alertmanager?project=prj", am, 202, nil)
	refused("POST", "/alertmanager?project=prj", map[string]any{"version": "4", "alerts": []any{}}, 400)
	refused("POST", "/alertmanager?project=prj", map[string]any{"version": "3", "alerts": []any{map[string]any{"status": "firing"}}}, 400)
	c.do(oaCall{token: publisher.Token, method: "POST", path: "/alertmanager?project=other", body: am, status: 403}, nil)

	// --- Deliveries.
	type dlv struct {
		ID        string `json:"id"`
		WebhookID string `json:"webhook_id"`
		State     string `json:"state"`
		Test      bool   `json:"test"`
	}
	var page struct {
		Data       []dlv  `json:"data"`
		NextCursor string `json:"next_cursor"`
	}
	eventually(t, 15*time.Second, "deliveries to finish", func() bool {
		get("/deliveries?webhook="+w1.ID+"&state=succeeded&event_type=image.push&limit=500", 200, &page)
		n := len(page.Data)
		get("/deliveries?webhook="+w2.ID+"&state=failed&event_type=alarm.cpu&limit=500", 200, &page)
		return n >= 2 && len(page.Data) >= 1
	})
	failed := page.Data[0].ID
	if page.Data[0].Test {
		t.Fatalf("the alarm.cpu delivery is a test: %+v", page.Data[0])
	}
	get("/deliveries?limit=1", 200, &page)
	if page.NextCursor == "" {
		t.Fatal("a page of 1 of several deliveries has no next_cursor")
	}
	get("/deliveries?limit=1&cursor="+page.NextCursor, 200, nil)
	get("/deliveries?since=1h&until="+time.Now().Add(time.Hour).UTC().Format(time.RFC3339), 200, nil)
	get("/deliveries?event=push-1", 200, nil)
	c.do(oaCall{token: adm, method: "GET", path: "/deliveries?state=lost", status: 400, invalid: true}, nil)
	c.do(oaCall{token: adm, method: "GET", path: "/deliveries?limit=0", status: 400, invalid: true}, nil)
	c.do(oaCall{token: adm, method: "GET", path: "/deliveries?limit=501", status: 400, invalid: true}, nil)
	get("/deliveries?since=yesterday", 400, nil)
	c.do(oaCall{token: publisher.Token, method: "GET", path: "/deliveries", status: 200}, nil)

	var detail struct {
		Log []struct {
			RequestHeaders map[string][]string `json:"request_headers"`
		} `json:"attempt_log"`
	}
	get("/deliveries/"+failed, 200, &detail)
	if len(detail.Log) == 0 {
		t.Fatal("a failed delivery has no attempts")
	}
	get("/deliveries/"+tested.DeliveryID, 200, nil)
	get("/deliveries/dlv_nope", 404, nil)
	get("/deliveries/export?format=json&state=failed", 200, nil)
	get("/deliveries/export?format=csv", 200, nil)
	refused("GET", "/deliveries/export?format=xml", nil, 400)
	send("POST", "/deliveries/"+failed+"/retry", nil, 200, nil)
	send("POST", "/deliveries/"+tested.DeliveryID+"/retry", nil, 409, nil)
	send("POST", "/deliveries/dlv_nope/retry", nil, 404, nil)
	c.do(oaCall{token: viewer.Token, method: "POST", path: "/deliveries/" + failed + "/retry", status: 403}, nil)

	var recovered struct {
		Recovered int `json:"recovered"`
	}
	send("POST", "/webhooks/"+w2.ID+"/recover", map[string]any{"since": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}, 200, &recovered)
	send("POST", "/webhooks/"+w2.ID+"/recover", map[string]any{"since": time.Now().Add(-time.Hour).Unix()}, 200, nil)
	refused("POST", "/webhooks/"+w2.ID+"/recover", map[string]any{}, 400)
	refused("POST", "/webhooks/"+w2.ID+"/recover", map[string]any{"since": "yesterday"}, 400)
	send("POST", "/webhooks/wh_nope/recover", map[string]any{"since": "2026-01-02T15:04:05Z"}, 404, nil)

	var status struct {
		Data []struct {
			EventType string `json:"event_type"`
		} `json:"data"`
	}
	get("/webhooks/"+w1.ID+"/status", 200, &status)
	if len(status.Data) == 0 {
		t.Fatal("no per-event-type status after deliveries")
	}
	get("/webhooks/wh_nope/status", 404, nil)
	get("/webhooks/"+w2.ID+"/status", 200, nil) // with status codes and errors
	var failingHook struct {
		FailingSince *time.Time `json:"failing_since"`
	}
	get("/webhooks/"+w2.ID, 200, &failingHook)
	if failingHook.FailingSince == nil {
		t.Fatal("a webhook whose deliveries fail has no failing_since")
	}

	// --- Catalog and settings.
	get("/event-types", 200, nil)
	c.do(oaCall{token: publisher.Token, method: "GET", path: "/event-types", status: 200}, nil)
	var settings struct {
		Held int `json:"held"`
	}
	get("/settings", 200, &settings)
	c.do(oaCall{token: publisher.Token, method: "GET", path: "/settings", status: 403}, nil)
	send("PATCH", "/settings", map[string]any{"webhooks_enabled": false}, 200, nil)
	send("POST", "/events", map[string]any{"type": "image.push", "project": "prj", "labels": map[string]string{"repository": "prj/app"}, "data": map[string]any{"tag": "3"}}, 202, nil)
	eventually(t, 10*time.Second, "a held delivery", func() bool {
		get("/settings", 200, &settings)
		return settings.Held > 0
	})
	get("/deliveries?state=held", 200, nil)
	send("PATCH", "/settings", map[string]any{"webhooks_enabled": true, "https_only": false}, 200, nil)
	refused("PATCH", "/settings", map[string]any{"webhooks_enabled": "yes"}, 400)
	refused("PATCH", "/settings", map[string]any{"maintenance": true}, 400)
	c.do(oaCall{token: viewer.Token, method: "PATCH", path: "/settings", body: map[string]any{"https_only": true}, status: 403}, nil)

	// --- Users.
	var user struct {
		ID string `json:"id"`
	}
	send("POST", "/users", map[string]any{"username": "alice", "password": "correct horse battery", "role": "viewer", "projects": []string{"prj"}}, 201, &user)
	send("POST", "/users", map[string]any{"username": "alice", "password": "correct horse battery", "role": "viewer"}, 409, nil)
	refused("POST", "/users", map[string]any{"username": "bob", "password": "short", "role": "viewer"}, 400)
	refused("POST", "/users", map[string]any{"username": "bob", "password": "long enough pass", "role": "publisher"}, 400)
	get("/users", 200, nil)
	c.do(oaCall{token: viewer.Token, method: "GET", path: "/users", status: 403}, nil)
	send("DELETE", "/users/"+user.ID, nil, 204, nil)
	send("DELETE", "/users/"+user.ID, nil, 404, nil)

	// --- Audit.
	var audit struct {
		Data       []json.RawMessage `json:"data"`
		NextCursor string            `json:"next_cursor"`
	}
	get("/audit?limit=2", 200, &audit)
	if audit.NextCursor == "" {
		t.Fatal("a page of 2 of many audit entries has no next_cursor")
	}
	get("/audit?limit=2&cursor="+audit.NextCursor, 200, nil)
	get("/audit?project=prj", 200, nil)
	c.do(oaCall{token: adm, method: "GET", path: "/audit?limit=x", status: 400, invalid: true}, nil)
	c.do(oaCall{token: viewer.Token, method: "GET", path: "/audit", status: 403}, nil)

	// --- Delete.
	send("DELETE", "/webhooks/"+w3.ID, nil, 204, nil)
	send("DELETE", "/webhooks/"+w3.ID, nil, 404, nil)
	c.do(oaCall{token: viewer.Token, method: "DELETE", path: "/webhooks/" + w1.ID, status: 403}, nil)

	// --- An endpoint that does not exist: no operation, the JSON error.
	req, _ := http.NewRequest("GET", h.url+"/api/v1/nope", nil)
	if _, _, err := c.router.FindRoute(req); err == nil {
		t.Fatal("the document has a route for /api/v1/nope")
	}
	code, raw := h.do(adm, "GET", "/api/v1/nope", nil, nil)
	var body any
	if err := json.Unmarshal(raw, &body); code != 404 || err != nil {
		t.Fatalf("GET /api/v1/nope: %d %s", code, raw)
	}
	if err := c.doc.Components.Schemas["ErrorNotFound"].Value.VisitJSON(body); err != nil {
		t.Fatalf("GET /api/v1/nope: %v", err)
	}

	// --- 431: headers over the server's limit, answered before any handler.
	addr := strings.TrimPrefix(h.url, "http://")
	big := rawRequest(t, addr, "GET /api/v1/settings HTTP/1.1\r\nHost: herald\r\nAuthorization: Bearer "+adm+"\r\nX-Big: "+strings.Repeat("a", 128<<10)+"\r\n")
	c.checkRaw("GET", "/settings", big, http.StatusRequestHeaderFieldsTooLarge)

	// --- 429: a server whose tokens may post one event per 100 s.
	slow := start(t, func(cfg *config.Config) { cfg.Ingest.RateLimit = 0.01; cfg.Ingest.RateBurst = 1 })
	sc := newOAClient(t, slow)
	sc.do(oaCall{token: adm, method: "POST", path: "/events", body: map[string]any{"type": "x"}, status: 202}, nil)
	sc.do(oaCall{token: adm, method: "POST", path: "/events", body: map[string]any{"type": "x"}, status: 429}, nil)
	sc.do(oaCall{token: adm, method: "POST", path: "/alertmanager", body: am, status: 429}, nil)
	for op, st := range sc.seen {
		for s := range st {
			c.record(op, s)
		}
	}

	c.checkCoverage()
}

// checkRaw validates an answer read off a raw connection (a request the
// http client would not send) against the document's operation for
// method and path.
func (c *oaClient) checkRaw(method, path string, resp *http.Response, status int) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+"/api/v1"+path, nil)
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		c.t.Fatal(err)
	}
	if resp.StatusCode != status {
		c.t.Fatalf("%s %s: status %d, want %d", method, path, resp.StatusCode, status)
	}
	c.record(route.Operation.OperationID, resp.StatusCode)
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: c.opts}
	rin := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(strings.NewReader(http.StatusText(status))), Options: c.opts,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), rin); err != nil {
		c.t.Errorf("%s %s: answer %d does not match the document: %v", method, path, resp.StatusCode, err)
	}
}

// checkCoverage fails unless every operation of the document got a 2xx
// answer, and the flow provoked every error status it can.
func (c *oaClient) checkCoverage() {
	c.t.Helper()
	statuses := map[int]bool{}
	for path, item := range c.doc.Paths.Map() {
		for method, op := range item.Operations() {
			ok := false
			for s := range c.seen[op.OperationID] {
				statuses[s] = true
				ok = ok || s/100 == 2
			}
			if !ok {
				c.t.Errorf("%s %s (%s) was never answered with a 2xx", method, path, op.OperationID)
			}
		}
	}
	for _, s := range []int{400, 401, 403, 404, 409, 413, 422, 429, 431} {
		if !statuses[s] {
			c.t.Errorf("the flow never provoked a %d", s)
		}
	}
	if testing.Verbose() {
		var lines []string
		for op, st := range c.seen {
			var codes []int
			for s := range st {
				codes = append(codes, s)
			}
			slices.Sort(codes)
			lines = append(lines, fmt.Sprintf("%s %v", op, codes))
		}
		sort.Strings(lines)
		c.t.Logf("statuses per operation:\n%s", strings.Join(lines, "\n"))
	}
}
