package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Creating a webhook answers with a redirect to the page that shows the
// secret: reloading it shows the secret again instead of posting the form
// again ("name already exists"); another session, or a key it did not
// get, sees no secret. Rotating does the same.
func TestCreatedPagePostRedirectGet(t *testing.T) {
	t.Parallel()
	s := startHerald(t)
	c := s.client()
	c.loginToken(adminToken)
	c.get("/webhooks/new")
	form := url.Values{"action": {"save"}, "name": {"prg"}, "url": {"https://example.com/hook"}, "event_types": {"image.push"},
		"auth_type": {"none"}, "category": {"events"}, "severity": {"all"}, "format": {"standard"}, "language": {"en"}, "enabled": {"1"}}
	c.hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, _ := http.NewRequest("POST", s.url+"/webhooks/new", strings.NewReader(url.Values{"csrf": {c.csrf}}.Encode()+"&"+form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "/created?k=") {
		t.Fatalf("create: %d, Location %q", resp.StatusCode, loc)
	}
	c.hc.CheckRedirect = nil
	if strings.Contains(loc, "whsec_") {
		t.Fatal("the secret is in the URL")
	}
	var secret string
	for i := range 2 { // the page, then a reload
		code, body := c.get(loc)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d", loc, code)
		}
		mustContain(t, body, `id="signing-secret"`, `value="whsec_`, `data-copy="#signing-secret"`, "<title>prg · Webhook created · Herald</title>")
		v := body[strings.Index(body, `value="whsec_`)+7:]
		v = v[:strings.IndexByte(v, '"')]
		if i == 1 && v != secret {
			t.Fatal("the reload shows another secret")
		}
		secret = v
	}
	var list struct{ Data []struct{ ID string } }
	s.mustAPI(http.StatusOK, "GET", "/webhooks", nil, &list)
	if len(list.Data) != 1 {
		t.Fatalf("%d webhooks after a reload", len(list.Data))
	}

	other := s.client()
	other.loginToken(adminToken)
	_, body := other.get(loc)
	mustContain(t, body, `id="secret-gone"`, "no longer shown")
	mustNotContain(t, body, "whsec_")
	_, body = c.get(strings.Split(loc, "?")[0] + "?k=guess")
	mustContain(t, body, `id="secret-gone"`)
	mustNotContain(t, body, "whsec_")

	code, body := c.post("/webhooks/"+list.Data[0].ID+"/rotate-secret", url.Values{"grace": {"0s"}, "confirm": {"yes"}})
	if code != http.StatusOK {
		t.Fatalf("rotate: %d", code)
	}
	mustContain(t, body, "Signing secret rotated", `value="whsec_`)
	mustNotContain(t, body, secret)
}
