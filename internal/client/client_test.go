package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/client"
)

type bundle struct {
	fake *fakeHerald
	c    *client.Client
	ctx  context.Context
}

func setup(t *testing.T) bundle {
	t.Helper()
	f, srv := newFake(t)
	c, err := client.New(srv.URL, f.token)
	if err != nil {
		t.Fatal(err)
	}
	return bundle{fake: f, c: c, ctx: t.Context()}
}

func ptr[T any](v T) *T { return &v }

func TestNewNormalizesURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"", client.DefaultURL},
		{"http://h:8080", "http://h:8080"},
		{"http://h:8080/", "http://h:8080"},
		{"h:8080", "http://h:8080"},
		{"https://h/herald/api/v1/", "https://h/herald"},
		{"  http://h  ", "http://h"},
	} {
		c, err := client.New(tc.in, "")
		if err != nil {
			t.Fatalf("New(%q): %v", tc.in, err)
		}
		if got := c.BaseURL(); got != tc.want {
			t.Errorf("New(%q).BaseURL() = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{"ftp://h", "http://", "http://h/?x=1"} {
		if _, err := client.New(bad, ""); err == nil {
			t.Errorf("New(%q) succeeded, want an error", bad)
		}
	}
}

func TestCreateWebhookSendsSecretsInClear(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := client.WebhookInput{
		Name: "ci", Project: "p1", URL: "https://example.com/hook",
		EventTypes:      []string{"image.*"},
		Conditions:      []herald.Condition{{Label: "env", Operator: herald.OpIn, Values: []string{"prod"}}},
		Headers:         map[string]string{"X-Team": "ops"},
		Auth:            &client.AuthInput{Type: herald.AuthBasic, Username: "u", Password: "pa55"},
		TLS:             &herald.TLS{SkipVerify: true},
		ChallengeSecret: "chal", MaxAttempts: 3, Timeout: herald.Duration(20 * time.Second),
	}
	got, err := b.c.CreateWebhook(b.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	req := b.fake.last()
	if req.Method != "POST" || req.Path != "/api/v1/webhooks" {
		t.Fatalf("request = %s %s", req.Method, req.Path)
	}
	if h := req.Header.Get("Authorization"); h != "Bearer hrld_test" {
		t.Errorf("Authorization = %q", h)
	}
	if h := req.Header.Get("Content-Type"); h != "application/json" {
		t.Errorf("Content-Type = %q", h)
	}
	if h := req.Header.Get("User-Agent"); h != herald.UserAgent() {
		t.Errorf("User-Agent = %q", h)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(req.Body), &body); err != nil {
		t.Fatal(err)
	}
	if body["enabled"] != true {
		t.Errorf("enabled = %v, want true by default", body["enabled"])
	}
	if body["timeout"] != "20s" || body["challenge_secret"] != "chal" {
		t.Errorf("timeout, challenge_secret = %v, %v", body["timeout"], body["challenge_secret"])
	}
	if strings.Contains(req.Body, "********") {
		t.Errorf("request body carries the mask instead of the secret: %s", req.Body)
	}
	if want := "password=pa55 "; !strings.Contains(b.fake.stored(got.ID), want) {
		t.Errorf("server stored %q, want it to contain %q", b.fake.stored(got.ID), want)
	}
	if got.SigningSecret != "whsec_"+got.ID || got.Name != "ci" || got.Auth.Username != "u" {
		t.Errorf("got %+v", got)
	}
	if len(got.Warnings) != 1 {
		t.Errorf("warnings = %v", got.Warnings)
	}
}

func TestWebhookInputFromRevealsSecrets(t *testing.T) {
	t.Parallel()
	b := setup(t)
	w := &herald.Webhook{Name: "n", URL: "http://x", Enabled: false,
		Auth: herald.Auth{Type: herald.AuthBearer, Token: "tok-123"}, ChallengeSecret: "c"}
	got, err := b.c.CreateWebhook(b.ctx, client.WebhookInputFrom(w))
	if err != nil {
		t.Fatal(err)
	}
	if got.Enabled {
		t.Error("Enabled: false was not kept")
	}
	if got.RetryClientErrors {
		t.Error("RetryClientErrors: false was not kept")
	}
	if got.StandardHeaders {
		t.Error("StandardHeaders: false was not kept")
	}
	if !strings.Contains(b.fake.stored(got.ID), "token=tok-123") {
		t.Errorf("server stored %q", b.fake.stored(got.ID))
	}
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.c.CreateWebhook(b.ctx, client.WebhookInput{Name: "x", URL: "ftp://nope"})
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %T %v, want *client.APIError", err, err)
	}
	if apiErr.StatusCode != 400 || apiErr.Err.Field != "url" {
		t.Errorf("got %d %+v", apiErr.StatusCode, apiErr.Err)
	}
	if herald.ErrorCode(err) != herald.EInvalid || herald.ErrorField(err) != "url" {
		t.Errorf("herald.ErrorCode/Field = %s/%s", herald.ErrorCode(err), herald.ErrorField(err))
	}
	if got, want := err.Error(), "url must be an http or https URL (field: url)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}

	_, err = b.c.GetWebhook(b.ctx, "wh_missing")
	if herald.ErrorCode(err) != herald.ENotFound {
		t.Errorf("GetWebhook(missing) = %v", err)
	}
	if _, err := b.c.GetWebhook(b.ctx, ""); herald.ErrorCode(err) != herald.EInvalid {
		t.Errorf("GetWebhook(\"\") = %v", err)
	}

	bad, err := client.New(b.c.BaseURL(), "wrong")
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.ListWebhooks(b.ctx, "")
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || apiErr.Err.Code != herald.EUnauthorized {
		t.Errorf("wrong token: %v", err)
	}
}

func TestNonHeraldErrorBody(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		http.Error(w, "<html>upstream down</html>", http.StatusBadGateway)
	}))
	t.Cleanup(srv.Close)
	c, err := client.New(srv.URL, "t")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetSettings(t.Context())
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v", err)
	}
	if apiErr.Err.Code != herald.EUnavailable || apiErr.RetryAfter != 30*time.Second {
		t.Errorf("got %+v retry %v", apiErr.Err, apiErr.RetryAfter)
	}
	if !strings.Contains(apiErr.Err.Message, "HTTP 502 Bad Gateway: <html>upstream down</html>") {
		t.Errorf("message = %q", apiErr.Err.Message)
	}
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + ln.Addr().String()
	ln.Close()
	c, err := client.New(addr, "t")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListTokens(t.Context())
	var ue *client.UnreachableError
	if !errors.As(err, &ue) {
		t.Fatalf("err = %T %v, want *client.UnreachableError", err, err)
	}
	want := "cannot reach Herald at " + addr + ": is `herald serve` running? set HERALD_URL"
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Error() = %q, want prefix %q", err.Error(), want)
	}
}

func TestContextCanceled(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, cancel := context.WithCancel(b.ctx)
	cancel()
	if _, err := b.c.ListWebhooks(ctx, ""); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestWebhookLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t)
	created, err := b.c.CreateWebhook(b.ctx, client.WebhookInput{
		Name: "a", Project: "p1", URL: "https://a.example", EventTypes: []string{"x"},
		Headers: map[string]string{"A": "1"},
		Auth:    &client.AuthInput{Type: herald.AuthBearer, Token: "t1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.c.CreateWebhook(b.ctx, client.WebhookInput{Name: "b", Project: "p2", URL: "https://b.example"}); err != nil {
		t.Fatal(err)
	}
	list, err := b.c.ListWebhooks(b.ctx, "p1")
	if err != nil {
		t.Fatal(err)
	}
	if req := b.fake.last(); req.Query != "project=p1" {
		t.Errorf("query = %q", req.Query)
	}
	if len(list) != 1 || list[0].ID != created.ID {
		t.Errorf("list(p1) = %+v", list)
	}

	got, err := b.c.GetWebhook(b.ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Auth.Token.Reveal() != "********" {
		t.Errorf("token came back as %q, want the mask", got.Auth.Token.Reveal())
	}

	upd, err := b.c.UpdateWebhook(b.ctx, created.ID, client.WebhookPatch{
		URL: ptr("https://a2.example"), Headers: map[string]string{}, MaxAttempts: ptr(2),
	})
	if err != nil {
		t.Fatal(err)
	}
	req := b.fake.last()
	if req.Method != "PATCH" || req.Path != "/api/v1/webhooks/"+created.ID {
		t.Errorf("request = %s %s", req.Method, req.Path)
	}
	if want := `{"headers":{},"max_attempts":2,"url":"https://a2.example"}`; req.Body != want {
		t.Errorf("patch body = %s, want %s", req.Body, want)
	}
	if upd.URL != "https://a2.example" || len(upd.Headers) != 0 || upd.Name != "a" || len(upd.EventTypes) != 1 {
		t.Errorf("updated = %+v", upd.Webhook)
	}
	if !(client.WebhookPatch{}).IsEmpty() || (client.WebhookPatch{EventTypes: []string{}}).IsEmpty() {
		t.Error("IsEmpty is wrong")
	}

	off, err := b.c.SetWebhookEnabled(b.ctx, created.ID, false)
	if err != nil || off.Enabled {
		t.Fatalf("disable: %v %+v", err, off)
	}
	if req := b.fake.last(); req.Body != `{"enabled":false}` {
		t.Errorf("disable body = %s", req.Body)
	}

	if err := b.c.DeleteWebhook(b.ctx, created.ID); err != nil {
		t.Fatal(err)
	}
	if req := b.fake.last(); req.Method != "DELETE" {
		t.Errorf("method = %s", req.Method)
	}
	if err := b.c.DeleteWebhook(b.ctx, created.ID); herald.ErrorCode(err) != herald.ENotFound {
		t.Errorf("second delete = %v", err)
	}
}

func TestWebhookTestStatusRecover(t *testing.T) {
	t.Parallel()
	b := setup(t)
	wh, err := b.c.CreateWebhook(b.ctx, client.WebhookInput{Name: "a", URL: "https://a.example"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := b.c.TestWebhook(b.ctx, wh.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK || res.StatusCode != 200 || res.Latency() != 12500*time.Microsecond || res.DeliveryID != "dlv_test" {
		t.Errorf("test result = %+v", res)
	}
	if req := b.fake.last(); req.Method != "POST" || req.Path != "/api/v1/webhooks/"+wh.ID+"/test" {
		t.Errorf("request = %s %s", req.Method, req.Path)
	}

	st, err := b.c.WebhookStatus(b.ctx, wh.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 1 || st[0].EventType != "image.pushed" || st[0].StatusCode != 503 {
		t.Errorf("status = %+v", st)
	}

	since := time.Date(2025, 3, 1, 12, 0, 0, 0, time.FixedZone("X", 3600))
	n, err := b.c.Recover(b.ctx, wh.ID, since)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 || !b.fake.recoveredSince().Equal(since) {
		t.Errorf("recovered %d since %v", n, b.fake.recoveredSince())
	}
	if req := b.fake.last(); req.Body != `{"since":"2025-03-01T11:00:00Z"}` {
		t.Errorf("recover body = %s", req.Body)
	}
}

func TestSendEvents(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if _, err := b.c.CreateWebhook(b.ctx, client.WebhookInput{Name: "a", URL: "https://a.example"}); err != nil {
		t.Fatal(err)
	}
	ev := client.EventInput{Type: "image.pushed", Project: "p1", Labels: map[string]string{"env": "prod"}, Data: json.RawMessage(`{"tag":"v1"}`)}
	res, err := b.c.SendEvents(b.ctx, []client.EventInput{ev}, client.IdempotencyKey("key-1"))
	if err != nil {
		t.Fatal(err)
	}
	req := b.fake.last()
	if req.Header.Get("Idempotency-Key") != "key-1" {
		t.Errorf("Idempotency-Key = %q", req.Header.Get("Idempotency-Key"))
	}
	if want := `{"type":"image.pushed","project":"p1","labels":{"env":"prod"},"data":{"tag":"v1"}}`; req.Body != want {
		t.Errorf("body = %s, want %s", req.Body, want)
	}
	if len(res) != 1 || res[0].ID != "key-1" || res[0].Duplicate || res[0].Deliveries != 1 {
		t.Errorf("results = %+v", res)
	}
	again, err := b.c.SendEvents(b.ctx, []client.EventInput{ev}, client.IdempotencyKey("key-1"))
	if err != nil || !again[0].Duplicate {
		t.Errorf("resend: %v %+v", err, again)
	}

	batch := []client.EventInput{{ID: "e1", Type: "a", Project: "p1"}, {ID: "e2", Type: "b", Project: "p1"}}
	res, err = b.c.SendEvents(b.ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if req := b.fake.last(); !strings.HasPrefix(req.Body, `{"events":[`) || req.Header.Get("Idempotency-Key") != "" {
		t.Errorf("batch request = %s %v", req.Body, req.Header)
	}
	if len(res) != 2 || res[1].ID != "e2" {
		t.Errorf("batch results = %+v", res)
	}

	n := b.fake.count()
	if _, err := b.c.SendEvents(b.ctx, make([]client.EventInput, client.MaxBatch+1)); herald.ErrorField(err) != "events" {
		t.Errorf("oversized batch: %v", err)
	}
	if _, err := b.c.SendEvents(b.ctx, nil); herald.ErrorCode(err) != herald.EInvalid {
		t.Errorf("empty batch: %v", err)
	}
	if b.fake.count() != n {
		t.Error("invalid batches were sent to the server")
	}

	got, err := b.c.GetEvent(b.ctx, "e1", "p1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Type != "a" || b.fake.last().Query != "project=p1" {
		t.Errorf("event = %+v, query %q", got, b.fake.last().Query)
	}
}

func seedDeliveries(f *fakeHerald, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range n {
		d := &herald.Delivery{ID: fmt.Sprintf("dlv_%02d", i), WebhookID: "wh_1", EventType: "image.pushed", State: herald.StateFailed}
		f.deliveries = append(f.deliveries, d)
	}
	f.attempts["dlv_00"] = []herald.Attempt{
		{ID: "att_1", DeliveryID: "dlv_00", Number: 1, StatusCode: 500, Latency: herald.Duration(time.Second)},
		{ID: "att_2", DeliveryID: "dlv_00", Number: 2, Error: "timeout"},
	}
}

func TestDeliveries(t *testing.T) {
	t.Parallel()
	b := setup(t)
	seedDeliveries(b.fake, 5)
	since := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	page, err := b.c.ListDeliveries(b.ctx, client.DeliveryFilter{WebhookID: "wh_1", State: herald.StateFailed, Since: since, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if q := b.fake.last().Query; q != "limit=2&since=2025-01-02T03%3A04%3A05Z&state=failed&webhook=wh_1" {
		t.Errorf("query = %s", q)
	}
	if len(page.Data) != 2 || page.NextCursor != "dlv_01" {
		t.Errorf("page = %+v", page)
	}
	all, err := b.c.AllDeliveries(b.ctx, client.DeliveryFilter{Limit: 2}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 5 || all[4].ID != "dlv_04" {
		t.Errorf("all = %d deliveries", len(all))
	}
	capped, err := b.c.AllDeliveries(b.ctx, client.DeliveryFilter{Limit: 2}, 3)
	if err != nil || len(capped) != 3 {
		t.Errorf("capped: %v %d", err, len(capped))
	}

	d, err := b.c.GetDelivery(b.ctx, "dlv_00")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.AttemptList) != 2 || d.Attempts != 2 || d.AttemptList[0].Latency.Std() != time.Second || d.WebhookID != "wh_1" {
		t.Errorf("detail = %+v", d)
	}

	r, err := b.c.RetryDelivery(b.ctx, "dlv_00")
	if err != nil || r.State != herald.StateRetrying {
		t.Fatalf("retry: %v %+v", err, r)
	}
	_, err = b.c.RetryDelivery(b.ctx, "dlv_00")
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 409 {
		t.Errorf("second retry = %v", err)
	}
}

func TestTokensSettingsEventTypes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok, err := b.c.CreateToken(b.ctx, client.TokenInput{Name: "ci", Role: herald.RolePublisher, Projects: []string{"p1"}})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Secret != "hrld_"+tok.ID || tok.Role != herald.RolePublisher || tok.Projects[0] != "p1" {
		t.Errorf("token = %+v", tok)
	}
	if _, err := b.c.CreateToken(b.ctx, client.TokenInput{Name: "x", Role: "god"}); herald.ErrorField(err) != "role" {
		t.Errorf("bad role: %v", err)
	}
	if req := b.fake.last(); req.Body != `{"name":"x","role":"god","projects":[]}` {
		t.Errorf("body = %s", req.Body)
	}
	toks, err := b.c.ListTokens(b.ctx)
	if err != nil || len(toks) != 1 {
		t.Fatalf("list: %v %+v", err, toks)
	}
	if err := b.c.DeleteToken(b.ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if req := b.fake.last(); req.Method != "DELETE" || req.Path != "/api/v1/tokens/"+tok.ID {
		t.Errorf("request = %s %s", req.Method, req.Path)
	}

	s, err := b.c.GetSettings(b.ctx)
	if err != nil || !s.WebhooksEnabled || s.HTTPSOnly {
		t.Fatalf("settings: %v %+v", err, s)
	}
	s, err = b.c.UpdateSettings(b.ctx, client.SettingsPatch{WebhooksEnabled: ptr(false)})
	if err != nil || s.WebhooksEnabled {
		t.Fatalf("update: %v %+v", err, s)
	}
	if req := b.fake.last(); req.Body != `{"webhooks_enabled":false}` {
		t.Errorf("settings body = %s", req.Body)
	}

	types, err := b.c.EventTypes(b.ctx)
	if err != nil || len(types) != 1 || types[0].Description["zh-CN"] == "" {
		t.Errorf("event types: %v %+v", err, types)
	}
}

func TestRateLimitedRetryAfter(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, herald.Errorf(herald.ERateLimited, "slow down"))
	}))
	t.Cleanup(srv.Close)
	c, err := client.New(srv.URL, "t")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SendEvents(t.Context(), []client.EventInput{{Type: "x"}})
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.RetryAfter != 7*time.Second || apiErr.StatusCode != 429 {
		t.Errorf("err = %#v", err)
	}
}

func TestDeliveryDetailAttempts(t *testing.T) {
	t.Parallel()
	var d client.DeliveryDetail
	in := `{"id":"d","attempts":2,"attempt_log":[{"number":1},{"number":2}]}`
	if err := json.Unmarshal([]byte(in), &d); err != nil {
		t.Fatal(err)
	}
	if d.ID != "d" || d.Attempts != 2 || len(d.AttemptList) != 2 || d.AttemptList[1].Number != 2 {
		t.Errorf("decoded %+v", d)
	}
}
