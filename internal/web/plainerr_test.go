package web

import "testing"

func TestPlainKey(t *testing.T) {
	for text, want := range map[string]string{
		`Post "https://a.example/h": tls: failed to verify certificate: x509: certificate signed by unknown authority`: "plain.tls_unknown_ca",
		`tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time ...`:       "plain.tls_expired",
		`tls: failed to verify certificate: x509: certificate is valid for a.example, not b.example`:                   "plain.tls_name",
		`dial tcp: lookup nowhere.invalid on 127.0.0.53:53: no such host`:                                              "plain.dns",
		`dial tcp 127.0.0.1:1: connect: connection refused`:                                                            "plain.refused",
		`timeout after 15s`: "plain.timeout",
		`destination 10.0.0.1 port 80 is this Herald's own listen address: Herald does not deliver to itself`: "plain.self",
		`read tcp 127.0.0.1:5->127.0.0.1:6: read: connection reset by peer`:                                   "plain.reset",
		`redirect not followed: Location https://b.example/`:                                                  "plain.redirect",
		`render payload: template: x`:                                                                         "plain.render",
		`webhook disabled`:                                                                                    "plain.disabled",
		`feishu error 19021: sign match fail or timestamp is not within one hour from current time`:           "plain.chat",
		`Slack answered 404: no_service`:                                                                      "plain.chat",
		`something else entirely`:                                                                             "",
		``:                                                                                                    "",
	} {
		if got := plainKey(text); got != want {
			t.Errorf("plainKey(%q) = %q, want %q", text, got, want)
		}
	}
}
