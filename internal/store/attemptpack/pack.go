// Package attemptpack splits the request an attempt recorded into the parts
// that repeat and the parts that do not, so that a store keeps each repeated
// part once. Both stores use it, which keeps their rows identical.
//
// An attempt's request is its method, URL, headers and body. Of those, only
// three header values change from one attempt to the next: Webhook-Id (the
// delivery's ID), Webhook-Timestamp (the attempt's start, in Unix seconds)
// and Webhook-Signature. The rest (method, redacted URL, Content-Type,
// User-Agent, redacted auth, the webhook's own headers, Herald-Hops) is the
// same for every attempt of a webhook until it is edited: that is the
// request's Shape, stored once under its hash. The body is the same for
// every webhook of an event that uses the same format and language: it is
// stored once per event under its hash, and when it holds the event's data
// verbatim (the standard and CloudEvents envelopes do), without that data:
// the event keeps it already (CutData, JoinBody). What stays on the attempt
// row is the signature and the two hashes: about 90 bytes instead of the
// ~2 KB of a 1 KiB event's request written out in full.
//
// Webhook-Id and Webhook-Timestamp are kept in the shape as placeholders
// only when they equal what Unpack will put back (the delivery ID and the
// start second); any other value (a test send's, say) stays literal. The
// placeholders start with a NUL byte, which no HTTP header value can hold,
// so a real value is never mistaken for one.
package attemptpack

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/herald-hq/herald"
)

// HashSize is the length of shape and body hashes: the first 16 bytes of
// SHA-256, so two different parts collide with odds of 2^-64 after 2^32
// parts of one event.
const HashSize = 16

// Header names the packing knows (canonical form, as net/http sends them).
const (
	headerID        = "Webhook-Id"
	headerTimestamp = "Webhook-Timestamp"
	headerSignature = "Webhook-Signature"
)

// Placeholders of the shape's headers.
const (
	placeholderID        = "\x00id"
	placeholderTimestamp = "\x00ts"
)

// Shape is the part of a request that repeats across attempts.
type Shape struct {
	Hash    []byte
	Method  string
	URL     string
	Headers string // JSON object of header lists, placeholders in place
}

// Packed is an attempt's request in stored form.
type Packed struct {
	Shape     Shape
	Signature string // Webhook-Signature as sent; "" when none was
	BodyHash  []byte // nil for an empty body
	// Body is the body as stored: whole when DataAt is negative, else
	// without the event's data, which JoinBody puts back at byte DataAt.
	Body   string
	DataAt int
}

// MinCut is the shortest event data CutData takes out of a body: below it
// the saving is not worth a join on reading.
const MinCut = 64

// CutData takes the event's data out of the stored body when the body holds
// it verbatim (data as the event stores it, the body hashed whole as
// before), so a body costs only its envelope beyond the event itself.
func (p *Packed) CutData(data []byte) {
	if p.DataAt >= 0 || len(data) < MinCut || len(p.Body) < len(data) {
		return
	}
	if i := strings.Index(p.Body, string(data)); i >= 0 {
		p.Body, p.DataAt = p.Body[:i]+p.Body[i+len(data):], i
	}
}

// JoinBody rebuilds a body stored by CutData: stored with data put back at
// dataAt (a negative dataAt: stored is the whole body). hash, when not nil,
// is the body's hash, checked so that a body is never read back wrong.
func JoinBody(stored string, dataAt int, data []byte, hash []byte) (string, error) {
	if dataAt < 0 {
		return stored, nil
	}
	if dataAt > len(stored) {
		return "", fmt.Errorf("request body: data offset %d past the stored %d bytes", dataAt, len(stored))
	}
	body := stored[:dataAt] + string(data) + stored[dataAt:]
	if hash != nil && subtle.ConstantTimeCompare(Hash(body), hash) != 1 {
		return "", fmt.Errorf("request body: rebuilt from its event, it does not match its hash")
	}
	return body, nil
}

// Pack splits a's request. ok is false when a recorded no request (its
// payload did not render, or the URL was refused before sending): the store
// keeps such an attempt in the inline columns, as before packing.
func Pack(a *herald.Attempt) (p Packed, ok bool, err error) {
	if a.RequestMethod == "" || literalPlaceholder(a.RequestHeaders) {
		return Packed{DataAt: -1}, false, nil
	}
	p.DataAt = -1
	var h map[string][]string // nil stays nil ("null")
	if a.RequestHeaders != nil {
		h = make(map[string][]string, len(a.RequestHeaders))
		for k, v := range a.RequestHeaders {
			h[k] = v
		}
	}
	if v := h[headerID]; len(v) == 1 && v[0] == a.DeliveryID {
		h[headerID] = []string{placeholderID}
	}
	if v := h[headerTimestamp]; len(v) == 1 && v[0] == strconv.FormatInt(a.StartedAt.Unix(), 10) {
		h[headerTimestamp] = []string{placeholderTimestamp}
	}
	if v := h[headerSignature]; len(v) == 1 && v[0] != "" {
		p.Signature = v[0]
		delete(h, headerSignature)
	}
	headers, err := json.Marshal(h) // map keys sorted: the same headers, the same text
	if err != nil {
		return Packed{DataAt: -1}, false, err
	}
	p.Shape = Shape{Method: a.RequestMethod, URL: a.RequestURL, Headers: string(headers)}
	p.Shape.Hash = shapeHash(p.Shape)
	if a.RequestBody != "" {
		p.Body = a.RequestBody
		p.BodyHash = Hash(a.RequestBody)
	}
	return p, true, nil
}

// Unpack fills a's request from its stored parts: a.DeliveryID and
// a.StartedAt must be set. body is the stored body of p.BodyHash ("" when
// the hash is nil).
func Unpack(a *herald.Attempt, s Shape, signature, body string) error {
	var h map[string][]string
	if err := json.Unmarshal([]byte(s.Headers), &h); err != nil {
		return fmt.Errorf("attempt %s: request shape: %w", a.ID, err)
	}
	if v := h[headerID]; len(v) == 1 && v[0] == placeholderID {
		h[headerID] = []string{a.DeliveryID}
	}
	if v := h[headerTimestamp]; len(v) == 1 && v[0] == placeholderTimestamp {
		h[headerTimestamp] = []string{strconv.FormatInt(a.StartedAt.Unix(), 10)}
	}
	if signature != "" {
		if h == nil {
			h = map[string][]string{}
		}
		h[headerSignature] = []string{signature}
	}
	a.RequestHeaders = h
	a.RequestMethod, a.RequestURL, a.RequestBody = s.Method, s.URL, body
	return nil
}

// UnpackStored is Unpack with the body as a store keeps it: when it was kept
// without its event's data (dataAt ≥ 0, see CutData), the data is taken
// from event, the event's JSON as stored, and the body rebuilt and checked
// against bodyHash.
func UnpackStored(a *herald.Attempt, s Shape, signature, body string, dataAt int, event string, bodyHash []byte) error {
	if dataAt >= 0 {
		var ev struct {
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal([]byte(event), &ev); err != nil {
			return fmt.Errorf("attempt %s: event of the request body: %w", a.ID, err)
		}
		var err error
		if body, err = JoinBody(body, dataAt, ev.Data, bodyHash); err != nil {
			return fmt.Errorf("attempt %s: %w", a.ID, err)
		}
	}
	return Unpack(a, s, signature, body)
}

// literalPlaceholder reports whether h holds a placeholder's text as a real
// value (net/http sends no NUL byte, so only a hand-made attempt can): such
// an attempt is kept inline rather than read back wrong.
func literalPlaceholder(h map[string][]string) bool {
	for _, k := range [...]string{headerID, headerTimestamp} {
		for _, v := range h[k] {
			if v == placeholderID || v == placeholderTimestamp {
				return true
			}
		}
	}
	return false
}

// Hash is the stored key of a body.
func Hash(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:HashSize]
}

func shapeHash(s Shape) []byte {
	h := sha256.New()
	// Lengths first, so no two different shapes frame to the same bytes.
	fmt.Fprintf(h, "%d:%d:%d:", len(s.Method), len(s.URL), len(s.Headers))
	h.Write([]byte(s.Method))
	h.Write([]byte(s.URL))
	h.Write([]byte(s.Headers))
	return h.Sum(nil)[:HashSize]
}
