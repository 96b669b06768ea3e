package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// A typo in an event type, and a category that does not match the event
// types, are saved with warnings: in the API's answer and on stderr.
func TestWebhookEventTypeWarnings(t *testing.T) {
	t.Parallel()
	must, run := startServer(t)

	out, errs, err := run("webhook", "create", "--name", "typo", "--url", "https://127.0.0.1:1/h",
		"--category", "alarms", "--event-type", "image.psuh,image.push,chart.*,alarm.cpu")
	if err != nil {
		t.Fatalf("create: %v\n%s%s", err, out, errs)
	}
	for _, want := range []string{
		`warning: event type "image.psuh" is not in the catalog`, `did you mean "image.push"?`,
		`warning: category is "alarms" but in the catalog "image.push" is events: category only labels the webhook`,
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	if strings.Contains(errs, "chart.*") || strings.Contains(errs, `"alarm.cpu"`) {
		t.Errorf("a wildcard or a matching type was warned about:\n%s", errs)
	}

	var created struct {
		ID       string   `json:"id"`
		Warnings []string `json:"warnings"`
	}
	js := must("--json", "webhook", "create", "--name", "typo2", "--url", "https://127.0.0.1:1/h", "--event-type", "image.psuh")
	if err := json.Unmarshal([]byte(js), &created); err != nil {
		t.Fatal(err)
	}
	if len(created.Warnings) != 1 || !strings.Contains(created.Warnings[0], `"image.psuh" is not in the catalog`) {
		t.Errorf("warnings = %q", created.Warnings)
	}
	// Update: fixing the type clears the warning.
	_, errs, err = run("webhook", "update", created.ID, "--event-type", "image.push")
	if err != nil || strings.Contains(errs, "catalog") {
		t.Errorf("update to a catalog type: %v, stderr %q", err, errs)
	}
	// No warning for catalog types in their category, or wildcards.
	_, errs, _ = run("webhook", "create", "--name", "ok", "--url", "https://127.0.0.1:1/h", "--event-type", "image.push,image.*,*")
	if strings.Contains(errs, "warning:") {
		t.Errorf("warnings for valid types: %q", errs)
	}

	// A target the SSRF guard refuses: the save warning says what to do.
	_, errs, err = run("webhook", "create", "--name", "private", "--url", "https://10.0.0.1/h", "--event-type", "image.push")
	if err != nil || !strings.Contains(errs, "warning: the SSRF guard refuses this target") ||
		!strings.Contains(errs, "allow it with HERALD_ALLOW_CIDRS=10.0.0.1/32 (or network.allow_cidrs in the config file) and restart herald serve") {
		t.Errorf("guarded target: %v, stderr %q", err, errs)
	}

	// The Netdata "All alerts" preset (without reachability) is accepted.
	js = must("--json", "webhook", "create", "--name", "nd", "--url", "https://127.0.0.1:1/h", "--event-type", "*",
		"--severity", "alerts-no-reachability")
	if !strings.Contains(js, `"severity": "alerts-no-reachability"`) && !strings.Contains(js, `"severity":"alerts-no-reachability"`) {
		t.Errorf("severity not saved: %s", js)
	}
}

// Turning https_only on disables the existing http webhooks, says which,
// and keeps them off until they get an https URL.
func TestHTTPSOnlyDisablesHTTPWebhooks(t *testing.T) {
	t.Parallel()
	must, run := startServer(t)
	id := func(out string) string {
		var w struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal([]byte(out), &w); err != nil {
			t.Fatal(err)
		}
		return w.ID
	}
	plain := id(must("--json", "webhook", "create", "--name", "plain", "--url", "http://127.0.0.1:1/h", "--event-type", "*"))
	off := id(must("--json", "webhook", "create", "--name", "off", "--url", "http://127.0.0.1:2/h", "--event-type", "*", "--disabled"))
	secure := id(must("--json", "webhook", "create", "--name", "secure", "--url", "https://127.0.0.1:1/h", "--event-type", "*"))

	out, errs, err := run("settings", "set", "--https-only=true")
	if err != nil {
		t.Fatalf("settings set: %v\n%s%s", err, out, errs)
	}
	if !strings.Contains(errs, "note: https_only is on: 1 http webhooks were disabled") || !strings.Contains(errs, plain) ||
		strings.Contains(errs, secure) || strings.Contains(errs, off) {
		t.Errorf("stderr:\n%s", errs)
	}
	var got struct {
		Enabled        bool   `json:"enabled"`
		DisabledReason string `json:"disabled_reason"`
	}
	json.Unmarshal([]byte(must("--json", "webhook", "get", plain)), &got)
	if got.Enabled || got.DisabledReason != "https_only is on" {
		t.Errorf("http webhook after https_only: %+v", got)
	}
	got.Enabled = false
	json.Unmarshal([]byte(must("--json", "webhook", "get", secure)), &got)
	if !got.Enabled {
		t.Errorf("https webhook was disabled")
	}
	// It cannot be switched on again with its http URL...
	if _, errs, err := run("webhook", "enable", plain); err == nil || !strings.Contains(errs, "https_only") {
		t.Errorf("enable http webhook under https_only: %v %q", err, errs)
	}
	// ...but can with an https one.
	must("webhook", "update", plain, "--url", "https://127.0.0.1:1/h", "--disabled=false")
	got.Enabled, got.DisabledReason = false, ""
	json.Unmarshal([]byte(must("--json", "webhook", "get", plain)), &got)
	if !got.Enabled || got.DisabledReason != "" {
		t.Errorf("after an https URL: %+v", got)
	}
	// Setting it on again disables nothing more; the JSON answer lists none.
	js := must("--json", "settings", "set", "--https-only=true")
	if strings.Contains(js, "disabled_webhooks") {
		t.Errorf("second switch on: %s", js)
	}
}
