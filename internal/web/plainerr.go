package web

import (
	"html/template"
	"regexp"
	"strings"
)

// plainErrors recognise the transport errors a delivery or a test records
// (Go's net, TLS and x509 texts, the SSRF guard's refusal, Herald's own
// timeouts), first match wins; each names the catalog text ("plain.<key>")
// that says what happened in plain words.
var plainErrors = []struct {
	re  *regexp.Regexp
	key string
}{
	{regexp.MustCompile(`Herald does not deliver to itself`), "self"},
	{regexp.MustCompile(`^destination .* (is|resolves to) an? .*address|guard:`), "blocked"},
	{regexp.MustCompile(`certificate signed by unknown authority|certificate is not trusted|unknown certificate authority`), "tls_unknown_ca"},
	{regexp.MustCompile(`certificate has expired|certificate is not yet valid|expired certificate`), "tls_expired"},
	{regexp.MustCompile(`certificate is (valid for|not valid for)|x509: certificate is valid`), "tls_name"},
	{regexp.MustCompile(`x509:|tls:|remote error: tls|handshake failure|first record does not look like a TLS handshake`), "tls"},
	{regexp.MustCompile(`no such host|server misbehaving|lookup .*: `), "dns"},
	{regexp.MustCompile(`connection refused`), "refused"},
	{regexp.MustCompile(`connection reset by peer|broken pipe|EOF$`), "reset"},
	{regexp.MustCompile(`network is unreachable|no route to host|host is down`), "unreachable"},
	{regexp.MustCompile(`^timeout|i/o timeout|deadline exceeded|Client.Timeout`), "timeout"},
	{regexp.MustCompile(`^redirect not followed`), "redirect"},
	{regexp.MustCompile(`^render payload: `), "render"},
	{regexp.MustCompile(`^webhook disabled`), "disabled"},
	{regexp.MustCompile(`^[A-Za-z ]+ (error|answered) \d+: `), "chat"},
}

// plainKey returns the catalog key explaining a transport error, "" when
// none fits.
func plainKey(errText string) string {
	if strings.TrimSpace(errText) == "" {
		return ""
	}
	for _, p := range plainErrors {
		if p.re.MatchString(errText) {
			return "plain." + p.key
		}
	}
	return ""
}

// explain writes an error for people: the plain-words text in the page's
// language with the technical detail one click away (a <details>); when no
// explanation fits, a general one ("plain.other"), the text still one
// click away.
func (c *catalog) explain(errText string) template.HTML {
	e := template.HTMLEscapeString
	key := plainKey(errText)
	if key == "" {
		key = "plain.other"
	}
	text, ok := c.texts[key]
	if !ok {
		return template.HTML(`<span class="err-text">` + e(errText) + `</span>`)
	}
	return template.HTML(`<span class="err-plain">` + e(text) + `</span> <details class="err-detail"><summary>` +
		e(c.T("plain.detail")) + `</summary><code>` + e(errText) + `</code></details>`)
}
