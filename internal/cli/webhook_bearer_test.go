package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// The webhook's bearer token is --bearer-token (--token-value is a hidden
// alias); --token stays the API token of the command, whatever the
// subcommand.
func TestWebhookBearerTokenFlag(t *testing.T) {
	t.Parallel()
	for _, flag := range []string{"--bearer-token", "--token-value"} {
		api := newFakeAPI(t)
		api.handle("POST /api/v1/webhooks", 201, `{"id":"wh_1","signing_secret":"whsec_x"}`)
		run(t, api, runOpts{}, "webhook", "create", "--url", "https://x", flag, "s3cr3t").mustSucceed(t)
		req := api.only()
		var body map[string]json.RawMessage
		decodeStrict(t, req.Body, &body)
		if got, want := string(body["auth"]), `{"type":"bearer","token":"s3cr3t"}`; got != want {
			t.Errorf("%s: auth = %s, want %s", flag, got, want)
		}
		if got := req.Header.Get("Authorization"); got != "Bearer "+testToken {
			t.Errorf("%s: API Authorization = %q, want the API token", flag, got)
		}
	}

	// --token after the subcommand is still the API token: the fake API
	// refuses it, and no auth is sent for the webhook.
	api := newFakeAPI(t)
	api.handle("POST /api/v1/webhooks", 201, `{"id":"wh_1","signing_secret":"whsec_x"}`)
	res := run(t, api, runOpts{}, "webhook", "create", "--url", "https://x", "--token", "s3cr3t")
	if res.err == nil {
		t.Fatalf("create with --token s3cr3t succeeded: --token must be the API token")
	}
	req := api.only()
	if got := req.Header.Get("Authorization"); got != "Bearer s3cr3t" {
		t.Errorf("API Authorization = %q, want Bearer s3cr3t (the --token flag)", got)
	}
	if strings.Contains(req.Body, `"auth"`) {
		t.Errorf("--token set the webhook's auth: %s", req.Body)
	}

	// The help names --bearer-token and hides the alias.
	help := run(t, nil, runOpts{}, "webhook", "create", "--help").mustSucceed(t).stdout
	if !strings.Contains(help, "--bearer-token") || strings.Contains(help, "--token-value") {
		t.Errorf("help should show --bearer-token and hide --token-value:\n%s", help)
	}
}

// A test delivery the SSRF guard refused hints at HERALD_ALLOW_CIDRS and a
// restart, not at the URL, auth and TLS settings.
func TestWebhookTestGuardHint(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t)
	api.handle("POST /api/v1/webhooks/wh_1/test", 200, `{"delivery_id":"dl_1","ok":false,"status_code":0,"latency_ms":0,"error":"destination 127.0.0.1 is a loopback address; allow it with HERALD_ALLOW_CIDRS=127.0.0.0/8 (or network.allow_cidrs in the config file) and restart herald serve"}`)
	res := run(t, api, runOpts{}, "webhook", "test", "wh_1")
	if res.err == nil {
		t.Fatal("a failed test delivery succeeded")
	}
	if !strings.Contains(res.stderr, "hint: the SSRF guard refused the target: set HERALD_ALLOW_CIDRS (or network.allow_cidrs)") || !strings.Contains(res.stderr, "restart herald serve") {
		t.Errorf("stderr = %q", res.stderr)
	}
	if strings.Contains(res.stderr, "check the URL, auth and TLS") {
		t.Errorf("stderr gives the generic hint: %q", res.stderr)
	}
}
