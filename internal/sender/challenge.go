package sender

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/herald-hq/herald"
)

// DefaultChallengeTimeout is the ownership challenge's limit: the Netdata
// recipe requires an answer within 5 seconds.
const DefaultChallengeTimeout = 5 * time.Second

// maxChallengeBody bounds how much of a challenge answer is read; a
// {"response_token": "sha256=..."} object is about 70 bytes.
const maxChallengeBody = 16 << 10

// ChallengeReason says why an ownership challenge failed; "" means it passed.
type ChallengeReason string

// Challenge failure reasons.
const (
	// ChallengeWrongToken: a 200 with JSON whose response_token does not
	// match the challenge secret.
	ChallengeWrongToken ChallengeReason = "wrong_token"
	// ChallengeTimeout: no complete answer within the limit (5s).
	ChallengeTimeout ChallengeReason = "timeout"
	// ChallengeStatus: an answer other than 200 (redirects are not followed).
	ChallengeStatus ChallengeReason = "status"
	// ChallengeBadJSON: a 200 whose body is not a JSON object with a
	// response_token string.
	ChallengeBadJSON ChallengeReason = "bad_json"
	// ChallengeBlocked: the SSRF guard refused the destination.
	ChallengeBlocked ChallengeReason = "blocked"
	// ChallengeNetwork: connection or TLS failure.
	ChallengeNetwork ChallengeReason = "network"
	// ChallengeConfig: the webhook cannot be challenged as configured (no
	// challenge secret, unusable URL or TLS material).
	ChallengeConfig ChallengeReason = "config"
)

// ChallengeResult is the outcome of one ownership challenge.
type ChallengeResult struct {
	// Reason is "" when the endpoint proved it knows the challenge secret.
	Reason ChallengeReason
	// StatusCode is the answer's status, 0 without an answer.
	StatusCode int
	// Latency runs from the start of Challenge to the end of the answer.
	Latency time.Duration
	// Err explains a failure for the person saving the webhook; it never
	// quotes the secret or the expected token.
	Err string
}

// OK reports whether the challenge passed.
func (r ChallengeResult) OK() bool { return r.Reason == "" }

// Challenge runs Netdata's ownership challenge against w: GET w.URL with the
// query parameter crc_token=<random>, expecting within the challenge timeout
// (5s by default) a 200 with the JSON object
// {"response_token": "sha256=" + base64(HMAC-SHA256(challenge_secret, crc_token))}.
//
// The request goes out like a delivery: the SSRF-guarded dialer, the
// webhook's TLS options and client certificate, its auth and extra headers,
// no proxy, no redirects.
func (s *Sender) Challenge(ctx context.Context, w *herald.Webhook) ChallengeResult {
	start := time.Now()
	res := s.challenge(ctx, w, start)
	res.Latency = time.Since(start)
	return res
}

func (s *Sender) challenge(ctx context.Context, w *herald.Webhook, start time.Time) ChallengeResult {
	fail := func(reason ChallengeReason, format string, args ...any) ChallengeResult {
		return ChallengeResult{Reason: reason, Err: fmt.Sprintf(format, args...)}
	}
	secret := w.ChallengeSecret.Reveal()
	if secret == "" {
		return fail(ChallengeConfig, "the webhook has no challenge_secret")
	}
	u, err := url.Parse(w.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fail(ChallengeConfig, "url must be an http or https URL with a host")
	}
	crc := newCRCToken()
	q := u.Query()
	q.Set("crc_token", crc)
	u.RawQuery = q.Encode()

	ctx, cancel := context.WithTimeout(ctx, s.challengeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fail(ChallengeConfig, "%v", err)
	}
	h := make(http.Header, len(w.Headers)+len(w.SecretHeaders)+4)
	for k, v := range w.Headers {
		if k = http.CanonicalHeaderKey(k); !reservedHeader(k) {
			h.Set(k, v)
		}
	}
	for k, v := range w.SecretHeaders {
		if k = http.CanonicalHeaderKey(k); !reservedHeader(k) {
			h.Set(k, v.Reveal())
		}
	}
	h.Set("Accept", "application/json")
	h.Set("User-Agent", s.userAgent)
	if err := setAuth(h, w.Auth); err != nil {
		return fail(ChallengeConfig, "%v", err)
	}
	req.Header = h

	c, transient, err := s.clientFor(w, start)
	if err != nil {
		return fail(ChallengeConfig, "%v", err)
	}
	if transient {
		defer c.transport.CloseIdleConnections()
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return classifyChallengeError(ctx, err, s.challengeTimeout)
	}
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxChallengeBody))
	_, _ = io.CopyN(io.Discard, resp.Body, drainBytes)
	resp.Body.Close()
	code := resp.StatusCode
	if readErr != nil {
		r := classifyChallengeError(ctx, readErr, s.challengeTimeout)
		r.StatusCode = code
		return r
	}
	if code != http.StatusOK {
		r := fail(ChallengeStatus, "the endpoint answered %d %s to the challenge, want 200", code, http.StatusText(code))
		if code >= 300 && code < 400 {
			r.Err += " (redirects are not followed)"
		}
		r.StatusCode = code
		return r
	}
	var answer struct {
		ResponseToken *string `json:"response_token"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		r := fail(ChallengeBadJSON, `the answer is not the JSON object {"response_token": "sha256=..."}: %s; it began with %s`,
			jsonProblem(err), strconv.Quote(excerpt(cleanText(body), 80)))
		r.StatusCode = code
		return r
	}
	if answer.ResponseToken == nil {
		r := fail(ChallengeBadJSON, `the JSON answer has no "response_token" string`)
		r.StatusCode = code
		return r
	}
	if !hmac.Equal([]byte(*answer.ResponseToken), []byte(responseToken(secret, crc))) {
		r := fail(ChallengeWrongToken, `the response_token does not match: the endpoint must answer "sha256=" + base64(HMAC-SHA256(challenge_secret, crc_token)); check that it uses the same challenge_secret`)
		r.StatusCode = code
		return r
	}
	return ChallengeResult{StatusCode: code}
}

// responseToken is what an endpoint that knows secret answers to crc.
func responseToken(secret, crc string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(crc))
	return "sha256=" + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// newCRCToken returns 32 random bytes, base64url without padding: safe in a
// query string as is.
func newCRCToken() string {
	var b [32]byte
	rand.Read(b[:]) // crypto/rand.Read never fails (it panics if the OS cannot supply randomness).
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// classifyChallengeError maps a request or body error to a reason.
func classifyChallengeError(ctx context.Context, err error, limit time.Duration) ChallengeResult {
	var blocked *BlockedError
	switch {
	case errors.As(err, &blocked):
		return ChallengeResult{Reason: ChallengeBlocked, Err: blocked.Error()}
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return ChallengeResult{Reason: ChallengeTimeout, Err: "the endpoint did not answer the challenge within " + limit.String()}
	}
	return ChallengeResult{Reason: ChallengeNetwork, Err: describe(ctx, err, limit)}
}

func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("%s is a JSON %s", fieldOr(te.Field, "the body"), te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON"
	}
	if err.Error() == "unexpected end of JSON input" {
		return "empty or truncated JSON"
	}
	return "invalid JSON"
}

func fieldOr(f, def string) string {
	if f == "" {
		return def
	}
	return f
}

func excerpt(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
