package cli

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// --secret-header sends the value in clear to the server (which seals it);
// get shows secret headers masked; update replaces them only when given.
func TestWebhookSecretHeaders(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t)
	api.handle("POST /api/v1/webhooks", 201, strings.TrimSuffix(webhookJSON, "}")+`,"signing_secret":"whsec_c2VjcmV0"}`)
	run(t, api, runOpts{}, "webhook", "create", "--name", "ci", "--url", "https://ci.example.com/hook", "--event-type", "*",
		"--header", "X-Team=ops", "--secret-header", "X-Custom=c-s3cret", "--secret-header", "X-Other=o=1").mustSucceed(t)
	var body struct {
		Headers       map[string]string `json:"headers"`
		SecretHeaders map[string]string `json:"secret_headers"`
	}
	if err := json.Unmarshal([]byte(api.only().Body), &body); err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"X-Custom": "c-s3cret", "X-Other": "o=1"}; !reflect.DeepEqual(body.SecretHeaders, want) || body.Headers["X-Team"] != "ops" {
		t.Fatalf("body %+v", body)
	}

	api = newFakeAPI(t)
	api.handle("PATCH /api/v1/webhooks/wh_1", 200, webhookJSON)
	run(t, api, runOpts{}, "webhook", "update", "wh_1", "--secret-header", "X-Custom=********").mustSucceed(t)
	if got, want := api.only().Body, `{"secret_headers":{"X-Custom":"********"}}`; got != want {
		t.Fatalf("patch body %s, want %s", got, want)
	}
	api = newFakeAPI(t)
	api.handle("PATCH /api/v1/webhooks/wh_1", 200, webhookJSON)
	run(t, api, runOpts{}, "webhook", "update", "wh_1", "--header", "X-Team=dev").mustSucceed(t)
	if got := api.only().Body; strings.Contains(got, "secret_headers") {
		t.Fatalf("patch body %s touches the secret headers", got)
	}

	api = newFakeAPI(t)
	api.handle("GET /api/v1/webhooks/wh_1", 200, strings.TrimSuffix(webhookJSON, "}")+`,"secret_headers":{"X-Api-Key":"********"}}`)
	res := run(t, api, runOpts{}, "webhook", "get", "wh_1").mustSucceed(t)
	if !strings.Contains(res.stdout, "Headers:       X-Team: ops; X-Api-Key: ******** (secret)\n") {
		t.Fatalf("stdout:\n%s", res.stdout)
	}
}
