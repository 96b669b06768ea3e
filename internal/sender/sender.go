// Package sender makes Herald's outbound HTTP requests: one POST per
// attempt, with the Standard Webhooks headers, the webhook's auth, TLS and
// mTLS settings, an SSRF guard enforced when connecting, and pooled
// keep-alive connections.
//
// The sender classifies, the engine decides: Send never retries, never
// sleeps and never touches storage. It returns a Result whose Outcome says
// whether the attempt succeeded, should be retried, or found the endpoint
// gone (410), with what the attempt record needs: redacted request headers,
// response headers, the first bytes of the body, latency and error text.
package sender

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/herald-hq/herald"
)

// Defaults and bounds.
const (
	// DefaultMaxResponseBytes is how much of a response body is kept: the
	// SPEC's 4 KiB.
	DefaultMaxResponseBytes = 4096
	// MaxRecordedRequestBytes is how much of a request body an attempt
	// record keeps (Result.RequestBody); longer bodies are cut there and
	// flagged RequestBodyTruncated.
	MaxRecordedRequestBytes = 64 << 10
	// DefaultContentType is sent when the request names none.
	DefaultContentType = "application/json"
	// drainBytes bounds how much more of a response body is read and thrown
	// away so its connection can be reused; a longer body costs the
	// connection instead.
	drainBytes = 64 << 10
	// maxIdleConnsPerHost keeps up to the delivery engine's default worker
	// count of connections warm for one endpoint.
	maxIdleConnsPerHost = 256
	idleConnTimeout     = 90 * time.Second
	tlsHandshakeTimeout = 10 * time.Second
	// clientIdleTTL evicts the cached transport of a webhook not sent to
	// for this long (deleted, disabled or quiet), checked every sweepEvery.
	clientIdleTTL = 10 * time.Minute
	sweepEvery    = time.Minute
	redacted      = "[redacted]"
)

// Resolver looks up the addresses of a host; *net.Resolver implements it.
// It is an option so tests can answer with any address, as a hostile DNS
// server would.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Options configure a Sender.
type Options struct {
	// AllowCIDRs are let through the SSRF guard (network.allow_cidrs), e.g.
	// 127.0.0.0/8 in tests. Defaults to none: loopback, private, link-local,
	// cloud metadata, multicast, unspecified, CGNAT and reserved addresses
	// are refused.
	AllowCIDRs []netip.Prefix
	// UserAgent is sent with every request. Defaults to herald.UserAgent()
	// ("Herald/<version>").
	UserAgent string
	// MaxResponseBytes is how much of a response body Result keeps.
	// Defaults to 4096.
	MaxResponseBytes int
	// Resolver resolves endpoint host names for the guard. Defaults to
	// net.DefaultResolver.
	Resolver Resolver
	// ChallengeTimeout bounds an ownership challenge (Challenge), from the
	// request to the end of the answer. Defaults to 5s, the limit the
	// Netdata recipe promises receivers.
	ChallengeTimeout time.Duration
}

// Outcome is the sender's classification of an attempt. The zero value is
// Retry, so a Result nobody filled in never counts as delivered.
type Outcome int

const (
	// Retry: the attempt failed and may succeed later: network error,
	// timeout, SSRF refusal, 3xx (redirects are not followed), 408, 429,
	// 5xx and 4xx other than 410.
	Retry Outcome = iota
	// Success: the endpoint answered 2xx.
	Success
	// Gone: the endpoint answered 410; the engine disables the webhook.
	Gone
	// Fail: the attempt can never succeed (e.g. the payload cannot be
	// rendered); the delivery fails with Err as the reason, no retries.
	Fail
)

func (o Outcome) String() string {
	switch o {
	case Success:
		return "success"
	case Gone:
		return "gone"
	case Fail:
		return "fail"
	case Retry:
		return "retry"
	}
	return "outcome(" + strconv.Itoa(int(o)) + ")"
}

// Request is one attempt's payload and Standard Webhooks values.
type Request struct {
	// MsgID is the webhook-id header, stable across the retries of one
	// delivery so receivers can deduplicate.
	MsgID string
	// Timestamp is the webhook-timestamp header (unix seconds); it must be
	// the one Signature was computed with.
	Timestamp time.Time
	// Body is the payload, sent as is.
	Body []byte
	// ContentType defaults to the webhook's content_type, then to
	// application/json.
	ContentType string
	// Signature is the webhook-signature header value (signing.Signer.Sign),
	// omitted when empty.
	Signature string
	// Hops is the Herald-Hops header value: the event's hop count plus one
	// (herald.Event.Hops). Values below 1 send 1: every request from Herald
	// counts as one pass through it.
	Hops int
}

// Result is what an attempt did, for the engine to decide on and the store
// to record.
type Result struct {
	// StatusCode is the response status; 0 when no response arrived.
	StatusCode int
	// Latency runs from the start of Send until the response body excerpt
	// was read (or the request failed).
	Latency time.Duration
	// RequestHeaders are the headers sent, with credentials replaced by
	// "[redacted]": the auth header_name, the webhook's secret headers and
	// every header herald.CredentialHeader names (Authorization,
	// Proxy-Authorization, Cookie, names containing token, secret, password,
	// key, auth, ...), except Herald's own webhook-signature.
	RequestHeaders http.Header
	// RequestMethod and RequestURL are the request line as sent (after chat
	// signing), the URL with credentials redacted (see RedactURL). Empty
	// when no request could be built.
	RequestMethod string
	RequestURL    string
	// RequestBody holds the first MaxRecordedRequestBytes of the body sent,
	// as text (see ResponseBody); RequestBodyTruncated says it was cut.
	RequestBody          string
	RequestBodyTruncated bool
	// ResponseHeaders are the response's headers, nil without a response.
	ResponseHeaders http.Header
	// ResponseBody holds the first MaxResponseBytes of the body as valid
	// UTF-8 without NUL bytes (invalid sequences become U+FFFD), so every
	// store can keep it as text.
	ResponseBody string
	// Err says why the attempt failed when it has no status to show:
	// network and TLS errors, timeouts, SSRF refusals, "redirect not
	// followed". It may also be set next to a status when the body could
	// not be read; the engine decides by Outcome, never by Err.
	Err string
	// Outcome classifies the attempt.
	Outcome Outcome
	// RetryAfter is the response's Retry-After (seconds or HTTP date), 0
	// when absent, unparsable or in the past. Set only on non-2xx answers.
	RetryAfter time.Duration
}

// Sender sends webhook requests. It is safe for concurrent use; make one per
// process and call CloseIdle on shutdown.
//
// Connections are pooled per webhook: a transport is cached by webhook ID
// and reused while the webhook's UpdatedAt and TLS material are unchanged,
// so a configuration change (new CA, new client certificate, skip_verify)
// takes effect on the next send. Transports unused for 10 minutes are
// dropped.
//
// Proxies from the environment (HTTP_PROXY, ...) are deliberately ignored:
// through a proxy the guard would check the proxy, not the destination.
type Sender struct {
	allow     []netip.Prefix
	userAgent string
	maxBody   int
	resolver  Resolver
	// challengeTimeout bounds Challenge.
	challengeTimeout time.Duration
	// dial connects to a checked IP literal; tests replace it to observe
	// what the guard lets through.
	dial func(ctx context.Context, network, address string) (net.Conn, error)

	// self are this node's listen addresses (SetSelfAddrs); local caches
	// the interface addresses an unspecified listener stands for.
	self  atomic.Pointer[[]netip.AddrPort]
	local localAddrs

	mu        sync.Mutex
	clients   map[string]*client
	lastSweep time.Time

	// redactedURLs caches RedactURL of the webhook URLs sent to (parsing
	// each URL for every attempt record was a measurable part of a send);
	// emptied when full.
	urlMu        sync.Mutex
	redactedURLs map[string]string
}

// redactedURLsSize bounds Sender.redactedURLs.
const redactedURLsSize = 4096

// redactedURL is RedactURL(raw), from the cache.
func (s *Sender) redactedURL(raw string) string {
	s.urlMu.Lock()
	r, ok := s.redactedURLs[raw]
	s.urlMu.Unlock()
	if ok {
		return r
	}
	r = RedactURL(raw)
	s.urlMu.Lock()
	if s.redactedURLs == nil || len(s.redactedURLs) >= redactedURLsSize {
		s.redactedURLs = make(map[string]string)
	}
	s.redactedURLs[raw] = r
	s.urlMu.Unlock()
	return r
}

// New returns a Sender with opts, defaults applied.
func New(opts Options) *Sender {
	s := &Sender{
		userAgent:        opts.UserAgent,
		maxBody:          opts.MaxResponseBytes,
		resolver:         opts.Resolver,
		challengeTimeout: opts.ChallengeTimeout,
		clients:          make(map[string]*client),
		lastSweep:        time.Now(),
	}
	for _, p := range opts.AllowCIDRs {
		if p.IsValid() {
			s.allow = append(s.allow, p.Masked())
		}
	}
	if s.userAgent == "" {
		s.userAgent = herald.UserAgent()
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxResponseBytes
	}
	if s.resolver == nil {
		s.resolver = net.DefaultResolver
	}
	if s.challengeTimeout <= 0 {
		s.challengeTimeout = DefaultChallengeTimeout
	}
	d := &net.Dialer{KeepAlive: 30 * time.Second, Control: s.control}
	s.dial = d.DialContext
	return s
}

// tlsMaterial is everything a transport is built from; a webhook whose
// material changed gets a new transport even if UpdatedAt did not move.
type tlsMaterial struct {
	skipVerify bool
	caPEM      string
	certPEM    string
	keyPEM     string
}

func materialOf(w *herald.Webhook) tlsMaterial {
	m := tlsMaterial{skipVerify: w.TLS.SkipVerify, caPEM: w.TLS.CAPEM}
	if w.Auth.Type == herald.AuthMTLS {
		m.certPEM, m.keyPEM = w.Auth.CertPEM, w.Auth.KeyPEM.Reveal()
	}
	return m
}

// client is one webhook's cached transport.
type client struct {
	updatedAt time.Time
	material  tlsMaterial
	transport *http.Transport
	http      *http.Client
	lastUsed  atomic.Int64 // unix nanoseconds
}

// Send makes one attempt: POST req.Body to w.URL within w.EffectiveTimeout()
// (15s by default), covering connect, TLS, the response and the body
// excerpt. Redirects are not followed. It never returns an error: failures
// are Results with Outcome Retry and Err set.
func (s *Sender) Send(ctx context.Context, w *herald.Webhook, req Request) Result {
	if res, ok := s.sendChat(ctx, w, req); ok { // chat.go
		return res
	}
	start := time.Now()
	timeout := w.EffectiveTimeout()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var res Result
	hreq, err := s.newRequest(ctx, w, req)
	if err != nil {
		res.Err = err.Error()
		res.Latency = time.Since(start)
		return res
	}
	res.RequestHeaders = redactHeaders(hreq.Header, w)
	res.RequestMethod, res.RequestURL = hreq.Method, s.redactedURL(w.URL)
	res.RequestBody, res.RequestBodyTruncated = recordBody(req.Body)

	c, transient, err := s.clientFor(w, start)
	if err != nil {
		res.Err = err.Error()
		res.Latency = time.Since(start)
		return res
	}
	if transient {
		defer c.transport.CloseIdleConnections()
	}

	resp, err := c.http.Do(hreq)
	if err != nil {
		res.Err = describe(ctx, err, timeout)
		res.Latency = time.Since(start)
		return res
	}
	body, readErr := readBody(resp.Body, s.maxBody)
	res.Latency = time.Since(start)
	res.StatusCode = resp.StatusCode
	res.ResponseHeaders, res.ResponseBody = scrubEcho(w, resp.Header, body)
	if readErr != nil {
		res.Err = "reading response body: " + describe(ctx, readErr, timeout)
	}

	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		res.Outcome = Success
		return res
	case code == http.StatusGone:
		res.Outcome = Gone
	case code >= 300 && code < 400:
		res.Outcome = Retry
		if loc := resp.Header.Get("Location"); loc != "" {
			res.Err = "redirect not followed: Location " + loc
		} else {
			res.Err = "redirect not followed: " + resp.Status + " without Location"
		}
	default:
		res.Outcome = Retry
	}
	res.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	return res
}

// CloseIdle closes the idle connections of every cached transport; call it
// on shutdown. In-flight requests are not interrupted.
func (s *Sender) CloseIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.clients {
		c.transport.CloseIdleConnections()
	}
}

// reservedHeader reports whether a webhook's extra headers may not set the
// canonical header name k: the Standard Webhooks headers Herald computes,
// and the framing headers net/http owns.
func reservedHeader(k string) bool {
	switch k {
	case "Webhook-Id", "Webhook-Timestamp", "Webhook-Signature", "Herald-Hops",
		"Host", "Content-Length", "Transfer-Encoding", "Connection", "Upgrade", "Te", "Trailer", "Keep-Alive":
		return true
	}
	return false
}

// newRequest builds the POST. Headers are layered so that later layers win:
// the webhook's extra headers, then Content-Type and User-Agent, then auth,
// then the Standard Webhooks headers (left out when the webhook's
// StandardHeaders is off; extra headers still may not set them).
func (s *Sender) newRequest(ctx context.Context, w *herald.Webhook, req Request) (*http.Request, error) {
	// NewRequestWithContext parses the URL (its error is url.Parse's).
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(req.Body))
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			return nil, fmt.Errorf("invalid url: %w", uerr.Err)
		}
		return nil, err
	}
	if u := hreq.URL; u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("url scheme must be http or https, not %q", u.Scheme)
	} else if u.Host == "" {
		return nil, errors.New("url has no host")
	}
	h := make(http.Header, len(w.Headers)+len(w.SecretHeaders)+8)
	for k, v := range w.Headers {
		k = http.CanonicalHeaderKey(k)
		if !reservedHeader(k) {
			h.Set(k, v)
		}
	}
	for k, v := range w.SecretHeaders {
		k = http.CanonicalHeaderKey(k)
		if !reservedHeader(k) {
			h.Set(k, v.Reveal())
		}
	}
	ct := req.ContentType
	if ct == "" {
		ct = w.ContentType
	}
	if ct == "" {
		ct = DefaultContentType
	}
	h.Set("Content-Type", ct)
	h.Set("User-Agent", s.userAgent)
	if err := setAuth(h, w.Auth); err != nil {
		return nil, err
	}
	if w.StandardHeaders {
		h.Set("Webhook-Id", req.MsgID)
		h.Set("Webhook-Timestamp", strconv.FormatInt(req.Timestamp.Unix(), 10))
		if req.Signature != "" {
			h.Set("Webhook-Signature", req.Signature)
		}
	}
	h.Set(herald.HopsHeader, strconv.Itoa(max(1, req.Hops)))
	// An Idempotency-Key entry with no value is never sent, but tells
	// net/http the POST may be replayed when a reused keep-alive connection
	// turns out to be closed before anything was written. Receivers dedupe
	// on webhook-id anyway (at-least-once), and it saves a retry round.
	if _, ok := h["Idempotency-Key"]; !ok {
		h["Idempotency-Key"] = nil
	}
	hreq.Header = h
	return hreq, nil
}

// setAuth applies the webhook's auth. mtls is handled by the transport; its
// optional header_value is sent like the header type's.
func setAuth(h http.Header, a herald.Auth) error {
	switch a.Type {
	case "", herald.AuthNone:
	case herald.AuthBasic:
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(a.Username+":"+a.Password.Reveal())))
	case herald.AuthBearer:
		h.Set("Authorization", "Bearer "+a.Token.Reveal())
	case herald.AuthHeader, herald.AuthMTLS:
		if a.HeaderValue.IsSet() {
			name := a.HeaderName
			if name == "" {
				name = "Authorization"
			}
			h.Set(name, a.HeaderValue.Reveal())
		}
	default:
		return fmt.Errorf("unknown auth type %q", a.Type)
	}
	return nil
}

// redactHeaders copies h for the attempt record with credentials replaced
// (see Result.RequestHeaders) and value-less marker entries dropped.
func redactHeaders(h http.Header, w *herald.Webhook) http.Header {
	out := make(http.Header, len(h))
	for k, v := range h {
		if len(v) == 0 {
			continue
		}
		if sensitiveHeader(k, w) {
			out[k] = []string{redacted}
		} else {
			out[k] = slices.Clone(v)
		}
	}
	return out
}

// recordBody returns the attempt record's copy of a request body: at most
// MaxRecordedRequestBytes, as text, and whether it was cut.
func recordBody(b []byte) (string, bool) {
	if len(b) <= MaxRecordedRequestBytes {
		return cleanText(b), false
	}
	return cleanText(b[:MaxRecordedRequestBytes]), true
}

// RedactURL returns raw for an attempt record: the userinfo password and
// the values of query parameters named like a credential (CredentialQuery)
// replaced by "[redacted]". A URL that does not parse is returned without
// its query and fragment.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if i := strings.IndexAny(raw, "?#"); i >= 0 {
			return raw[:i]
		}
		return raw
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), redacted)
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		changed := false
		for k, v := range q {
			if CredentialQuery(k) {
				for i := range v {
					v[i] = redacted
				}
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}

// CredentialQuery reports whether a query parameter named name carries a
// credential: DingTalk's access_token and sign, WeCom's key, and any name
// herald.CredentialHeader flags (token, key, secret, password, signature,
// auth, ...) or containing "sign" or "sig".
func CredentialQuery(name string) bool {
	lower := strings.ToLower(name)
	return herald.CredentialHeader(name) || strings.Contains(lower, "sign") || lower == "sig" || lower == "code"
}

// minScrub is the shortest credential scrubEcho looks for: shorter values
// would mangle ordinary text and cannot be told from it anyway.
const minScrub = 4

// scrubEcho replaces the webhook's credentials in a response with
// "[redacted]" before it is recorded: an endpoint that echoes the request
// (an error page quoting Authorization, a debug echo server) must not put
// them into the attempt log. The credentials are the auth secrets, the
// basic auth header value, and the values of the secret headers.
func scrubEcho(w *herald.Webhook, h http.Header, body string) (http.Header, string) {
	a := w.Auth
	var secrets []string
	add := func(s string) {
		if len(s) >= minScrub {
			secrets = append(secrets, s)
		}
	}
	for _, s := range []string{a.Password.Reveal(), a.Token.Reveal(), a.HeaderValue.Reveal()} {
		add(s)
	}
	if a.Type == herald.AuthBasic {
		add(base64.StdEncoding.EncodeToString([]byte(a.Username + ":" + a.Password.Reveal())))
	}
	for _, v := range w.SecretHeaders {
		add(v.Reveal())
	}
	if len(secrets) == 0 {
		return h, body
	}
	// Longest first, so a secret containing another is replaced whole.
	slices.SortFunc(secrets, func(x, y string) int { return len(y) - len(x) })
	scrub := func(s string) string {
		for _, sec := range secrets {
			s = strings.ReplaceAll(s, sec, redacted)
		}
		return s
	}
	body = scrub(body)
	for k, vs := range h {
		for i, v := range vs {
			if c := scrub(v); c != v {
				vs[i] = c
			}
		}
		h[k] = vs
	}
	return h, body
}

// sensitiveHeader reports whether the request header name carries one of
// w's credentials.
func sensitiveHeader(name string, w *herald.Webhook) bool {
	if w.Auth.HeaderName != "" && strings.EqualFold(name, w.Auth.HeaderName) {
		return true
	}
	if _, ok := w.SecretHeader(name); ok {
		return true
	}
	if strings.EqualFold(name, "Webhook-Signature") {
		return false // Herald's own HMAC: useful to debug, useless to replay elsewhere
	}
	switch name {
	case "Content-Type", "User-Agent", "Webhook-Id", "Webhook-Timestamp", herald.HopsHeader:
		return false // what Herald sets on every request, none a credential (the checks above still apply)
	}
	return herald.CredentialHeader(name)
}

// clientFor returns the cached client of w, building one if w is new or
// changed. A webhook without an ID (not saved yet) gets a transient client
// the caller closes after use.
func (s *Sender) clientFor(w *herald.Webhook, now time.Time) (c *client, transient bool, err error) {
	m := materialOf(w)
	if w.ID == "" {
		c, err := s.newClient(w, m)
		return c, true, err
	}
	s.mu.Lock()
	if now.Sub(s.lastSweep) >= sweepEvery {
		s.sweepLocked(now)
	}
	c = s.clients[w.ID]
	fresh := c != nil && c.updatedAt.Equal(w.UpdatedAt) && c.material == m
	s.mu.Unlock()
	if fresh {
		c.lastUsed.Store(now.UnixNano())
		return c, false, nil
	}

	// Build outside the lock: parsing PEM should not stall other sends.
	nc, err := s.newClient(w, m)
	if err != nil {
		return nil, false, err
	}
	nc.lastUsed.Store(now.UnixNano())
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur := s.clients[w.ID]; cur != nil && cur.updatedAt.Equal(w.UpdatedAt) && cur.material == m {
		// Another send built the same client meanwhile: use it.
		nc.transport.CloseIdleConnections()
		return cur, false, nil
	}
	if old := s.clients[w.ID]; old != nil {
		old.transport.CloseIdleConnections()
	}
	s.clients[w.ID] = nc
	return nc, false, nil
}

// sweepLocked drops the clients not used since clientIdleTTL before now.
func (s *Sender) sweepLocked(now time.Time) {
	s.lastSweep = now
	cutoff := now.Add(-clientIdleTTL).UnixNano()
	for id, c := range s.clients {
		if c.lastUsed.Load() < cutoff {
			c.transport.CloseIdleConnections()
			delete(s.clients, id)
		}
	}
}

// newClient builds the transport for w: guarded dialer, TLS settings,
// keep-alive pool, HTTP/2 for https, no proxy, no redirects.
func (s *Sender) newClient(w *herald.Webhook, m tlsMaterial) (*client, error) {
	cfg, err := tlsConfig(m)
	if err != nil {
		return nil, err
	}
	t := &http.Transport{
		Proxy:                 nil,
		DialContext:           s.dialGuarded,
		TLSClientConfig:       cfg,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          0, // no global cap; per host below
		MaxIdleConnsPerHost:   maxIdleConnsPerHost,
		IdleConnTimeout:       idleConnTimeout,
		TLSHandshakeTimeout:   tlsHandshakeTimeout,
		ExpectContinueTimeout: time.Second,
		// No transparent gzip: the body excerpt is what the endpoint sent,
		// and no decompression work is spent on answers we mostly discard.
		DisableCompression: true,
	}
	return &client{
		updatedAt: w.UpdatedAt,
		material:  m,
		transport: t,
		http: &http.Client{
			Transport: t,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}, nil
}

// tlsConfig builds the client TLS configuration: verification on unless
// skip_verify; ca_pem trusted in addition to the system roots; the mTLS
// client certificate always offered (the server decides whether it fits).
func tlsConfig(m tlsMaterial) (*tls.Config, error) {
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: m.skipVerify, // the webhook's explicit skip_verify, shown as a warning in the console
	}
	if m.caPEM != "" {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM([]byte(m.caPEM)) {
			return nil, errors.New("tls.ca_pem holds no PEM certificate")
		}
		cfg.RootCAs = pool
	}
	if m.certPEM != "" || m.keyPEM != "" {
		cert, err := tls.X509KeyPair([]byte(m.certPEM), []byte(m.keyPEM))
		if err != nil {
			return nil, fmt.Errorf("auth.cert_pem/key_pem: %w", err)
		}
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return &cert, nil
		}
	}
	return cfg, nil
}

// readBody keeps the first limit bytes of body, drains up to drainBytes more
// so the connection can be reused, and closes it.
func readBody(body io.ReadCloser, limit int) (string, error) {
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, int64(limit)))
	if err == nil {
		_, _ = io.CopyN(io.Discard, body, drainBytes)
	}
	return cleanText(b), err
}

// cleanText makes b storable as text: a rune cut by the limit is dropped,
// invalid UTF-8 and NUL bytes become U+FFFD. It returns a copy and never
// changes b.
func cleanText(b []byte) string {
	b = cutRune(b)
	if utf8.Valid(b) && bytes.IndexByte(b, 0) < 0 {
		return string(b) // the usual case, checked without decoding rune by rune
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}

// cutRune drops a rune cut off at the end of b (by a length limit).
func cutRune(b []byte) []byte {
	n := len(b)
	for i := 1; i < utf8.UTFMax && i <= n; i++ {
		if utf8.RuneStart(b[n-i]) {
			if !utf8.FullRune(b[n-i:]) {
				b = b[:n-i]
			}
			break
		}
	}
	return b
}

// describe turns a request error into the attempt's error text: the guard's
// refusal as is, "timeout after 15s", "cancelled", or the underlying network
// or TLS error without net/http's `Post "url":` prefix (the URL may carry a
// token in its query).
func describe(ctx context.Context, err error, timeout time.Duration) string {
	var blocked *BlockedError
	if errors.As(err, &blocked) {
		return blocked.Error()
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "timeout after " + timeout.String()
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return "cancelled before the endpoint answered"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout: " + err.Error()
	}
	return err.Error()
}

// parseRetryAfter reads a Retry-After value: delay seconds or an HTTP date.
// It returns 0 for a missing, unparsable or past value.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		// Cap before converting so a huge value cannot overflow; the retry
		// policy caps it much lower anyway.
		return time.Duration(min(secs, int64(365*24*time.Hour/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
