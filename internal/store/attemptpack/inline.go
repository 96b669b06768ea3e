package attemptpack

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/herald-hq/herald"
)

// Inline is a delivery's first attempt as a store keeps it on the
// delivery's own row (migration 0016): one BLOB in place of the ten first_*
// columns of migration 0014, which cost a column header each and kept the
// response headers as JSON, the signature as base64 text and the start as an
// absolute 8-byte time. EncodeInline and DecodeInline convert; times are
// microseconds since the Unix epoch, as both stores keep them.
type Inline struct {
	Started   int64 // µs
	LatencyNS int64
	Status    int
	Error     string
	// ResponseHeaders are the response's headers; nil and empty are told
	// apart, as JSON did.
	ResponseHeaders map[string][]string
	ResponseBody    string
	Truncated       bool // request body truncated
	// ShapeHash and BodyHash are kept as their first RefSize bytes only: a
	// reader finds the shape or body whose hash starts with them (RefRange).
	ShapeHash []byte
	Signature string
	BodyHash  []byte // nil: empty body
}

// RefSize is how many bytes of a shape's or body's hash an Inline keeps: 8
// bytes where the hash has 16. A body is looked up among its event's few
// bodies; a shape among all shapes, where two hashes sharing 8 bytes by
// chance take ~2^32 shapes, and making one share them with a shape someone
// else's webhook sent is a second preimage of 64 bits of SHA-256. A reader
// that finds two (RefRange LIMIT 2) says so rather than pick one.
const RefSize = 8

// RefRange is the range of full hashes that start with ref: lo ≤ hash < hi,
// hi nil when there is no upper bound (ref all 0xff).
func RefRange(ref []byte) (lo, hi []byte) {
	lo = bytes.Clone(ref)
	hi = bytes.Clone(ref)
	for i := len(hi) - 1; i >= 0; i-- {
		if hi[i] < 0xff {
			hi[i]++
			return lo, hi[:i+1]
		}
	}
	return lo, nil
}

func ref(hash []byte) string { return string(hash[:min(len(hash), RefSize)]) }

// Attempt is in as the first attempt (ID id) of delivery deliveryID, its
// request still to be filled in from its parts (UnpackStored).
func (in Inline) Attempt(deliveryID, id string) *herald.Attempt {
	return &herald.Attempt{ID: id, DeliveryID: deliveryID, Number: 1,
		StartedAt: time.UnixMicro(in.Started).UTC(), Latency: herald.Duration(in.LatencyNS),
		StatusCode: in.Status, Error: in.Error, ResponseHeaders: in.ResponseHeaders,
		ResponseBody: in.ResponseBody, RequestBodyTruncated: in.Truncated}
}

// StoredBody is a request body as a store keeps it (see CutData).
type StoredBody struct {
	Hash   []byte
	Body   string
	DataAt int    // -1: Body is whole
	Event  string // the event's JSON when DataAt ≥ 0
}

// Parts looks up what an Inline refers to: the shapes, and the bodies of
// the delivery's event, whose hashes are in [lo, hi) (hi nil: no upper
// bound), at most two of each.
type Parts struct {
	Shapes func(lo, hi []byte) ([]Shape, error)
	Bodies func(lo, hi []byte) ([]StoredBody, error)
}

// ReadInline is the first attempt of delivery deliveryID that a store kept
// as b (EncodeInline), its request rebuilt from the parts its refs find. Two
// parts for one ref are an error, never a guess.
func ReadInline(deliveryID, attemptID string, b []byte, parts Parts) (*herald.Attempt, error) {
	in, err := DecodeInline(deliveryID, b)
	if err != nil {
		return nil, fmt.Errorf("delivery %s: %w", deliveryID, err)
	}
	a := in.Attempt(deliveryID, attemptID)
	shapes, err := parts.Shapes(RefRange(in.ShapeHash))
	if err != nil {
		return nil, err
	}
	if len(shapes) > 1 {
		return nil, fmt.Errorf("delivery %s: two request shapes match its first attempt's", deliveryID)
	}
	var sh Shape
	if len(shapes) == 1 {
		sh = shapes[0]
	}
	body := StoredBody{DataAt: -1}
	if in.BodyHash != nil {
		bodies, err := parts.Bodies(RefRange(in.BodyHash))
		if err != nil {
			return nil, err
		}
		if len(bodies) > 1 {
			return nil, fmt.Errorf("delivery %s: two request bodies match its first attempt's", deliveryID)
		}
		if len(bodies) == 1 {
			body = bodies[0]
		}
	}
	if err := UnpackStored(a, sh, in.Signature, body.Body, body.DataAt, body.Event, body.Hash); err != nil {
		return nil, err
	}
	return a, nil
}

// inlineVersion is the first byte of an encoded Inline.
const inlineVersion = 1

// Flags of an encoded Inline.
const (
	flagNilHeaders = 1 << iota
	flagTruncated
	flagBodyHash
	flagSignature    // a signature follows as text
	flagSignatureRaw // a signature "v1,<base64 of 32 bytes>" follows as its 32 bytes
)

// Value tags of an encoded header value.
const (
	valueText = iota // the value's bytes follow
	valueDate        // an HTTP date that round-trips: its second, less the start's
)

// rawSignaturePrefix and rawSignatureSize are the Standard Webhooks
// signature Herald sends: "v1," and the base64 of an HMAC-SHA256.
const (
	rawSignaturePrefix = "v1,"
	rawSignatureSize   = 32
)

// EncodeInline packs in for the row of the delivery deliveryID: the start is
// kept relative to the time in the delivery's ID (a ULID, made when the
// delivery was), which is a few bytes instead of eight.
func EncodeInline(deliveryID string, in Inline) []byte {
	var flags uint64
	if in.ResponseHeaders == nil {
		flags |= flagNilHeaders
	}
	if in.Truncated {
		flags |= flagTruncated
	}
	if in.BodyHash != nil {
		flags |= flagBodyHash
	}
	raw, isRaw := rawSignature(in.Signature)
	switch {
	case isRaw:
		flags |= flagSignatureRaw
	case in.Signature != "":
		flags |= flagSignature
	}
	b := make([]byte, 0, 96+len(in.Error)+len(in.ResponseBody))
	b = append(b, inlineVersion)
	b = binary.AppendUvarint(b, flags)
	b = binary.AppendVarint(b, in.Started-idMicros(deliveryID))
	b = binary.AppendVarint(b, in.LatencyNS)
	b = binary.AppendVarint(b, int64(in.Status))
	b = appendString(b, in.Error)
	b = binary.AppendUvarint(b, uint64(len(in.ResponseHeaders)))
	startSec := floorDiv(in.Started, 1e6)
	for _, name := range sortedKeys(in.ResponseHeaders) {
		vs := in.ResponseHeaders[name]
		b = appendString(b, name)
		b = binary.AppendUvarint(b, uint64(len(vs)))
		for _, v := range vs {
			if sec, ok := httpDate(v); ok {
				b = binary.AppendUvarint(b, valueDate)
				b = binary.AppendVarint(b, sec-startSec)
				continue
			}
			b = binary.AppendUvarint(b, valueText)
			b = appendString(b, v)
		}
	}
	b = appendString(b, in.ResponseBody)
	b = appendString(b, ref(in.ShapeHash))
	switch {
	case isRaw:
		b = append(b, raw...)
	case in.Signature != "":
		b = appendString(b, in.Signature)
	}
	if in.BodyHash != nil {
		b = appendString(b, ref(in.BodyHash))
	}
	return b
}

// errInline is what DecodeInline returns for bytes EncodeInline did not
// write.
var errInline = errors.New("inline attempt: malformed")

// DecodeInline is the inverse of EncodeInline, for the same deliveryID.
func DecodeInline(deliveryID string, b []byte) (Inline, error) {
	var in Inline
	if len(b) == 0 || b[0] != inlineVersion {
		return in, fmt.Errorf("inline attempt: unknown version")
	}
	r := reader{b: b[1:]}
	flags := r.uvarint()
	in.Started = r.varint() + idMicros(deliveryID)
	in.LatencyNS = r.varint()
	in.Status = int(r.varint())
	in.Error = r.string()
	n := r.uvarint()
	if n > uint64(len(r.b)) { // each header takes a byte at least
		return Inline{}, errInline
	}
	if flags&flagNilHeaders == 0 {
		in.ResponseHeaders = make(map[string][]string, n)
	} else if n != 0 {
		return Inline{}, errInline
	}
	startSec := floorDiv(in.Started, 1e6)
	for range n {
		name := r.string()
		m := r.uvarint()
		if m > uint64(len(r.b)) || r.err != nil {
			return Inline{}, errInline
		}
		vs := make([]string, 0, m)
		for range m {
			switch r.uvarint() {
			case valueText:
				vs = append(vs, r.string())
			case valueDate:
				vs = append(vs, time.Unix(startSec+r.varint(), 0).UTC().Format(http.TimeFormat))
			default:
				return Inline{}, errInline
			}
		}
		if _, dup := in.ResponseHeaders[name]; dup {
			return Inline{}, errInline
		}
		in.ResponseHeaders[name] = vs
	}
	in.ResponseBody = r.string()
	in.ShapeHash = []byte(r.string())
	if len(in.ShapeHash) > RefSize {
		return Inline{}, errInline
	}
	switch {
	case flags&flagSignatureRaw != 0:
		in.Signature = rawSignaturePrefix + base64.StdEncoding.EncodeToString(r.bytes(rawSignatureSize))
	case flags&flagSignature != 0:
		in.Signature = r.string()
	}
	if flags&flagBodyHash != 0 {
		if in.BodyHash = []byte(r.string()); len(in.BodyHash) > RefSize {
			return Inline{}, errInline
		}
	}
	in.Truncated = flags&flagTruncated != 0
	if r.err != nil || len(r.b) != 0 || flags >= flagSignatureRaw<<1 ||
		flags&flagSignature != 0 && flags&flagSignatureRaw != 0 {
		return Inline{}, errInline
	}
	return in, nil
}

// InlineLatency reads only the latency of an encoded Inline (the stats'
// samples need no more).
func InlineLatency(b []byte) (time.Duration, error) {
	if len(b) == 0 || b[0] != inlineVersion {
		return 0, fmt.Errorf("inline attempt: unknown version")
	}
	r := reader{b: b[1:]}
	r.uvarint()
	r.varint()
	ns := r.varint()
	return time.Duration(ns), r.err
}

// rawSignature returns the 32 bytes of a signature Herald makes, when s is
// exactly one such signature (its base64 canonical, so it reads back the
// same).
func rawSignature(s string) ([]byte, bool) {
	if len(s) != len(rawSignaturePrefix)+base64.StdEncoding.EncodedLen(rawSignatureSize) ||
		!strings.HasPrefix(s, rawSignaturePrefix) {
		return nil, false
	}
	raw, err := base64.StdEncoding.DecodeString(s[len(rawSignaturePrefix):])
	if err != nil || len(raw) != rawSignatureSize ||
		base64.StdEncoding.EncodeToString(raw) != s[len(rawSignaturePrefix):] {
		return nil, false
	}
	return raw, true
}

// httpDate returns the Unix second of v when v is an HTTP date in the
// form net/http writes (RFC 1123, GMT) that formats back to exactly v.
func httpDate(v string) (int64, bool) {
	if len(v) != len(http.TimeFormat) {
		return 0, false
	}
	t, err := time.Parse(http.TimeFormat, v)
	if err != nil || t.UTC().Format(http.TimeFormat) != v {
		return 0, false
	}
	return t.Unix(), true
}

// idMicros is the time in an ID's ULID (after its prefix), in µs; 0 when
// the ID holds none. Only a base for deltas: any ID gives the same value on
// encoding and decoding.
func idMicros(id string) int64 {
	s := id[strings.LastIndexByte(id, '_')+1:]
	if len(s) < 10 {
		return 0
	}
	var ms int64
	for i := range 10 {
		d := strings.IndexByte(crockfordDigits, s[i])
		if d < 0 {
			return 0
		}
		ms = ms<<5 | int64(d)
	}
	if ms >= 1<<48 {
		return 0
	}
	return ms * 1000
}

// crockfordDigits is the alphabet of herald.NewID.
const crockfordDigits = "0123456789abcdefghjkmnpqrstvwxyz"

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // the same headers, the same bytes
	return keys
}

// reader reads what EncodeInline appended; the first fault sticks in err
// and every later read returns zero values.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errInline
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errInline
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil || n > len(r.b) {
		r.err = errInline
		return nil
	}
	out := bytes.Clone(r.b[:n])
	r.b = r.b[n:]
	return out
}

func (r *reader) string() string {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errInline
		return ""
	}
	return string(r.bytes(int(n)))
}
