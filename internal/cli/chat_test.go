package cli

import (
	"encoding/json"
	"testing"
)

// --sign-secret implies auth type sign; --format takes the chat formats.
func TestWebhookCreateChatSign(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t)
	api.handle("POST /api/v1/webhooks", 201, `{"id":"wh_1","signing_secret":"whsec_x"}`)
	run(t, api, runOpts{}, "webhook", "create", "--url", "https://oapi.dingtalk.com/robot/send?access_token=t",
		"--format", "dingtalk", "--sign-secret", "SEC123").mustSucceed(t)
	var body map[string]json.RawMessage
	decodeStrict(t, api.only().Body, &body)
	if got := string(body["auth"]); got != `{"type":"sign","secret":"SEC123"}` {
		t.Errorf("auth = %s", got)
	}
	if got := string(body["format"]); got != `"dingtalk"` {
		t.Errorf("format = %s", got)
	}
}
