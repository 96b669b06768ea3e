package sender

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/herald-hq/herald"
)

// An endpoint that echoes the request's credentials (an error page quoting
// Authorization, an echo server) does not get them into the attempt record.
func TestEchoedCredentialsScrubbed(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("X-Echo", req.Header.Get("Authorization")+" "+req.Header.Get("X-Key"))
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte("denied: " + req.Header.Get("Authorization") + " / " + req.Header.Get("X-Key")))
	}, nil, false)
	s := New(Options{AllowCIDRs: loopback})
	for name, auth := range map[string]herald.Auth{
		"basic":  {Type: herald.AuthBasic, Username: "user", Password: "echoed-password"},
		"bearer": {Type: herald.AuthBearer, Token: "echoed-token"},
		"header": {Type: herald.AuthHeader, HeaderName: "X-Key", HeaderValue: "echoed-header-value"},
	} {
		w := newWebhook(r.srv.URL)
		w.Auth = auth
		res := s.Send(context.Background(), w, newRequest(`{}`))
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(res.ResponseBody, "denied: ") {
			t.Fatalf("%s: %+v", name, res)
		}
		basic := base64.StdEncoding.EncodeToString([]byte("user:echoed-password"))
		for _, secret := range []string{"echoed-password", "echoed-token", "echoed-header-value", basic} {
			if strings.Contains(res.ResponseBody, secret) || strings.Contains(strings.Join(res.ResponseHeaders.Values("X-Echo"), ""), secret) {
				t.Fatalf("%s: %q recorded: body %q headers %v", name, secret, res.ResponseBody, res.ResponseHeaders)
			}
		}
		if !strings.Contains(res.ResponseBody, redacted) {
			t.Fatalf("%s: body %q", name, res.ResponseBody)
		}
	}
}
