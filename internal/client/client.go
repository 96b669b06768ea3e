// Package client is a typed Go client for Herald's JSON API under /api/v1.
// The CLI's client commands are built on it; any Go program may use it too.
//
// Every method takes a context, sends the bearer token given to New, and
// returns an *APIError (which unwraps to *herald.Error) when Herald answers
// with an error, or an *UnreachableError when it cannot be reached at all.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/herald-hq/herald"
)

// DefaultURL is where `herald serve` listens unless configured otherwise.
const DefaultURL = "http://127.0.0.1:8080"

// DefaultTimeout bounds one API call. It is generous because a webhook test
// or an ownership challenge waits for the remote endpoint.
const DefaultTimeout = 60 * time.Second

const apiPrefix = "/api/v1"

// maxErrorBody caps how much of an error answer is read.
const maxErrorBody = 64 << 10

// Client calls one Herald server. It is safe for concurrent use and keeps
// connections alive between calls.
type Client struct {
	base      string // scheme://host[:port][/path], no trailing slash
	token     string
	hc        *http.Client
	userAgent string
}

// Option configures a Client.
type Option func(*options)

type options struct {
	hc        *http.Client
	timeout   time.Duration
	userAgent string
}

// WithHTTPClient makes the Client send its requests through hc instead of its
// own keep-alive client. WithTimeout is then ignored: hc's timeout applies.
func WithHTTPClient(hc *http.Client) Option { return func(o *options) { o.hc = hc } }

// WithTimeout bounds each call (connect, request, reading the answer).
// Defaults to DefaultTimeout; 0 means no limit beyond the context's.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithUserAgent sets the User-Agent header. Defaults to herald.UserAgent().
func WithUserAgent(ua string) Option { return func(o *options) { o.userAgent = ua } }

// New returns a Client for the Herald server at baseURL ("http://host:port";
// a missing scheme means http, a trailing "/api/v1" is accepted). An empty
// baseURL means DefaultURL. token is the API bearer token; it may be empty for
// a server that will then answer 401.
func New(baseURL, token string, opts ...Option) (*Client, error) {
	o := options{timeout: DefaultTimeout, userAgent: herald.UserAgent()}
	for _, opt := range opts {
		opt(&o)
	}
	base, err := normalizeURL(baseURL)
	if err != nil {
		return nil, err
	}
	hc := o.hc
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 64
		hc = &http.Client{Transport: tr, Timeout: o.timeout}
	}
	return &Client{base: base, token: strings.TrimSpace(token), hc: hc, userAgent: o.userAgent}, nil
}

// BaseURL returns the normalized server URL, without the /api/v1 prefix.
func (c *Client) BaseURL() string { return c.base }

func normalizeURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		raw = DefaultURL
	}
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("invalid Herald URL %q: %v", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("invalid Herald URL %q: the scheme must be http or https", raw)
	}
	if u.Host == "" {
		return "", fmt.Errorf("invalid Herald URL %q: no host (use a form like http://127.0.0.1:8080)", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("invalid Herald URL %q: it must not carry a query or fragment", raw)
	}
	p := strings.TrimRight(u.Path, "/")
	p = strings.TrimSuffix(p, apiPrefix)
	return u.Scheme + "://" + u.Host + p, nil
}

// APIError is an error answer from Herald: the HTTP status and the error
// body. It unwraps to *herald.Error, so herald.ErrorCode and errors.As work.
type APIError struct {
	StatusCode int
	// RetryAfter is the server's Retry-After hint (429, 503); 0 when absent.
	RetryAfter time.Duration
	Err        *herald.Error
}

func (e *APIError) Error() string {
	if e.Err.Field != "" {
		return fmt.Sprintf("%s (field: %s)", e.Err.Message, e.Err.Field)
	}
	return e.Err.Message
}

// Unwrap returns the *herald.Error.
func (e *APIError) Unwrap() error { return e.Err }

// UnreachableError means no connection to Herald could be made: nothing is
// listening, the host does not resolve, or the network refuses.
type UnreachableError struct {
	URL string
	Err error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach Herald at %s: is `herald serve` running? set HERALD_URL (%v)", e.URL, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// call is one API request.
type call struct {
	method string
	path   string // under /api/v1, already escaped
	query  url.Values
	body   any
	header http.Header
	out    any // decoded from a 2xx answer when non-nil
}

func (c *Client) do(ctx context.Context, k call) error {
	u := c.base + apiPrefix + k.path
	if len(k.query) > 0 {
		u += "?" + k.query.Encode()
	}
	var body io.Reader
	if k.body != nil {
		b, err := json.Marshal(k.body)
		if err != nil {
			return fmt.Errorf("encoding the request body: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, k.method, u, body)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if k.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	for name, vs := range k.header {
		for _, v := range vs {
			req.Header.Add(name, v)
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return c.transportError(ctx, k, err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		_ = resp.Body.Close()
	}()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return readError(resp)
	}
	if k.out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(k.out); err != nil {
		return fmt.Errorf("reading Herald's answer to %s %s%s: %w", k.method, apiPrefix, k.path, err)
	}
	return nil
}

func (c *Client) transportError(ctx context.Context, k call, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	var dnsErr *net.DNSError
	var opErr *net.OpError
	if errors.As(err, &dnsErr) || (errors.As(err, &opErr) && opErr.Op == "dial") {
		return &UnreachableError{URL: c.base, Err: unwrapURLError(err)}
	}
	return fmt.Errorf("%s %s%s at %s: %w", k.method, apiPrefix, k.path, c.base, unwrapURLError(err))
}

// unwrapURLError drops net/http's `Get "url": ` prefix, which repeats what
// the caller already says.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func readError(resp *http.Response) error {
	e := &APIError{StatusCode: resp.StatusCode}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if n, err := strconv.Atoi(ra); err == nil && n >= 0 {
			e.RetryAfter = time.Duration(n) * time.Second
		}
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var body struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Field   string `json:"field"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &body) == nil && body.Error != nil && (body.Error.Code != "" || body.Error.Message != "") {
		e.Err = &herald.Error{Code: body.Error.Code, Message: body.Error.Message, Field: body.Error.Field}
		if e.Err.Code == "" {
			e.Err.Code = codeForStatus(resp.StatusCode)
		}
		if e.Err.Message == "" {
			e.Err.Message = http.StatusText(resp.StatusCode)
		}
		return e
	}
	// Not Herald's error shape: a proxy, or another server on that address.
	msg := fmt.Sprintf("HTTP %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	if excerpt := excerpt(raw, 200); excerpt != "" {
		msg += ": " + excerpt
	}
	if resp.StatusCode == http.StatusNotFound {
		msg += " (is this address a Herald server?)"
	}
	e.Err = &herald.Error{Code: codeForStatus(resp.StatusCode), Message: msg}
	return e
}

func excerpt(b []byte, n int) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// codeForStatus is the inverse of the API's code → status mapping, for error
// answers that carry no code.
func codeForStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return herald.EInvalid
	case http.StatusUnauthorized:
		return herald.EUnauthorized
	case http.StatusForbidden:
		return herald.EForbidden
	case http.StatusNotFound:
		return herald.ENotFound
	case http.StatusConflict:
		return herald.EConflict
	case http.StatusRequestEntityTooLarge:
		return herald.ETooLarge
	case http.StatusUnprocessableEntity:
		return herald.EUnprocessable
	case http.StatusTooManyRequests:
		return herald.ERateLimited
	case http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout:
		return herald.EUnavailable
	}
	return herald.EInternal
}

// list is the envelope of list answers.
type list[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor"`
}

func idPath(prefix, id string) string { return prefix + "/" + url.PathEscape(id) }

// requireID fails early, without a request, on an empty ID: "/webhooks/"
// would otherwise hit the list endpoint or a 404 that says nothing.
func requireID(kind, id string) error {
	if strings.TrimSpace(id) == "" {
		return herald.Invalid("id", "%s ID is empty", kind)
	}
	return nil
}
