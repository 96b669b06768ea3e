package web_test

import (
	"net/http"
	"net/url"
	"testing"
)

// The form suggests the chat format of a robot URL, offers the sign secret,
// refuses sign on a format that cannot sign next to the auth type, and a
// saved signing secret is never written back into the page.
func TestChatFormatForm(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	c := s.client()
	c.loginToken(adminToken)
	_, body := c.get("/webhooks/new")
	mustContain(t, body, `value="dingtalk"`, `value="slack"`, `value="sign"`, `name="auth_sign_secret"`, "data-format-suggest")

	form := url.Values{
		"action": {"save"}, "name": {"ding"}, "url": {"https://oapi.dingtalk.com/robot/send?access_token=x"},
		"event_types": {"alert.firing"}, "category": {"events"}, "severity": {"all"}, "format": {"slack"},
		"language": {"zh-CN"}, "enabled": {"1"}, "auth_type": {"sign"}, "auth_sign_secret": {"SECsecret-1"},
	}
	code, body := c.post("/webhooks/new", form)
	if code != http.StatusBadRequest {
		t.Fatalf("sign with slack: %d", code)
	}
	mustContain(t, body, "auth type sign needs format feishu, lark or dingtalk", "This URL looks like DingTalk")

	form.Set("format", "dingtalk")
	code, body = c.post("/webhooks/new", form)
	if code != http.StatusOK {
		t.Fatalf("create: %d\n%s", code, body)
	}
	var list struct {
		Data []struct{ ID string }
	}
	s.mustAPI(http.StatusOK, "GET", "/webhooks", nil, &list)
	if len(list.Data) != 1 {
		t.Fatalf("webhooks: %+v", list.Data)
	}
	_, body = c.get("/webhooks/" + list.Data[0].ID + "/edit")
	mustNotContain(t, body, "SECsecret-1", "This URL looks like DingTalk")
	mustContain(t, body, `value="dingtalk" selected`, `value="sign" selected`, "(unchanged; type to replace)")
}
