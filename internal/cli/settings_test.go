package cli

import "testing"

func TestSettings(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t)
	api.handle("GET /api/v1/settings", 200, `{"webhooks_enabled":true,"https_only":false,"held":0}`)
	api.handle("PATCH /api/v1/settings", 200, `{"webhooks_enabled":false,"https_only":true,"held":12}`)
	res := run(t, api, runOpts{}, "settings", "get").mustSucceed(t)
	if want := "Webhooks enabled:  yes\nHTTPS only:        no\nHeld deliveries:   0\n"; res.stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", res.stdout, want)
	}
	res = run(t, api, runOpts{}, "settings", "set", "--webhooks-enabled=false", "--https-only").mustSucceed(t)
	if body := api.requests()[1].Body; body != `{"webhooks_enabled":false,"https_only":true}` {
		t.Errorf("body = %s", body)
	}
	if want := "Webhooks enabled:  no\nHTTPS only:        yes\nHeld deliveries:   12\n"; res.stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", res.stdout, want)
	}
	if res.stderr != "note: deliveries are held until `herald settings set --webhooks-enabled=true`\n" {
		t.Errorf("stderr = %q", res.stderr)
	}
	run(t, api, runOpts{}, "settings", "set", "--https-only=false").mustSucceed(t)
	if body := api.requests()[2].Body; body != `{"https_only":false}` {
		t.Errorf("body = %s", body)
	}
	res = run(t, api, runOpts{}, "settings", "get", "--json").mustSucceed(t)
	if want := "{\n  \"webhooks_enabled\": true,\n  \"https_only\": false,\n  \"held\": 0\n}\n"; res.stdout != want {
		t.Errorf("stdout = %q", res.stdout)
	}
}
