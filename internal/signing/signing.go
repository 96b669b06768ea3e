// Package signing implements Standard Webhooks signatures
// (https://www.standardwebhooks.com): the webhook-signature header Herald
// sends with every request, and the matching verification.
//
// The signed content is msgID + "." + unix seconds + "." + body, the MAC is
// HMAC-SHA256 keyed with the base64-decoded part of a "whsec_" secret, and a
// signature is written "v1,<base64 MAC>". During a secret rotation the header
// carries one signature per secret, space separated, so receivers still on
// the previous secret keep verifying.
package signing

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Prefix starts every secret Herald generates. Decoding also accepts a bare
// base64 key, as the official libraries do.
const Prefix = "whsec_"

// Key sizes allowed by the Standard Webhooks specification. NewSecret uses 32.
const (
	MinKeyBytes = 24
	MaxKeyBytes = 64
)

// DefaultTolerance is how far a webhook-timestamp may be from now before
// Verify rejects it, against replays. It is the specification's 5 minutes.
const DefaultTolerance = 5 * time.Minute

const version = "v1"

// b64Len is the length of a base64 HMAC-SHA256; a signature is
// "v1," and those 44 characters.
const b64Len = (sha256.Size + 2) / 3 * 4

// Errors returned by Verify, to be matched with errors.Is.
var (
	ErrMissingHeaders   = errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	ErrInvalidTimestamp = errors.New("webhook-timestamp is not unix seconds")
	ErrTooOld           = errors.New("webhook-timestamp too old")
	ErrTooNew           = errors.New("webhook-timestamp too new")
	ErrNoMatch          = errors.New("no matching signature")
)

// NewSecret returns a fresh signing secret: "whsec_" and the base64 of 32
// random bytes.
func NewSecret() string {
	var b [32]byte
	rand.Read(b[:]) // crypto/rand.Read never fails (it panics if the OS cannot supply randomness).
	return Prefix + base64.StdEncoding.EncodeToString(b[:])
}

// DecodeSecret returns the HMAC key of a secret: the standard base64 decoding
// of what follows "whsec_" (the prefix is optional). An empty key is an error.
func DecodeSecret(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, Prefix))
	if err != nil {
		return nil, fmt.Errorf("signing secret is not whsec_ followed by base64: %w", err)
	}
	if len(key) == 0 {
		return nil, errors.New("signing secret is empty")
	}
	return key, nil
}

// ValidateSecret checks a secret supplied by a user: the "whsec_" prefix and a
// key of 24 to 64 bytes, as the specification requires. Signing itself accepts
// any non-empty key, so secrets stored before this check keep working.
func ValidateSecret(secret string) error {
	if !strings.HasPrefix(secret, Prefix) {
		return errors.New("signing secret must start with whsec_")
	}
	key, err := DecodeSecret(secret)
	if err != nil {
		return err
	}
	if len(key) < MinKeyBytes || len(key) > MaxKeyBytes {
		return fmt.Errorf("signing secret must decode to %d to %d bytes, not %d", MinKeyBytes, MaxKeyBytes, len(key))
	}
	return nil
}

// Signer signs with one or more secrets decoded once. Build one per webhook
// (and rebuild it when the secrets change) so the hot path neither decodes
// base64 nor recomputes the HMAC key pads. A Signer is safe for concurrent use.
type Signer struct {
	keys []*keyedMAC
}

// keyedMAC pools HMAC states for one key. hmac's Reset restores the
// precomputed inner and outer pads, so a pooled state costs two SHA-256
// blocks less per signature than hmac.New, and with its scratch space it
// allocates nothing.
type keyedMAC struct {
	pool sync.Pool // of *macState
}

type macState struct {
	h      hash.Hash
	prefix []byte // msgID.unix.
	sum    [sha256.Size]byte
}

func newKeyedMAC(key []byte) *keyedMAC {
	k := append([]byte(nil), key...)
	return &keyedMAC{pool: sync.Pool{New: func() any {
		return &macState{h: hmac.New(sha256.New, k)}
	}}}
}

// NewSigner decodes secrets (current first, then a previous one during a
// rotation). It fails on an empty list or a secret that does not decode.
func NewSigner(secrets ...string) (*Signer, error) {
	if len(secrets) == 0 {
		return nil, errors.New("no signing secret")
	}
	s := &Signer{keys: make([]*keyedMAC, 0, len(secrets))}
	for _, sec := range secrets {
		key, err := DecodeSecret(sec)
		if err != nil {
			return nil, err
		}
		s.keys = append(s.keys, newKeyedMAC(key))
	}
	return s, nil
}

// Sign returns the webhook-signature value: "v1,<base64>" per secret, space
// separated, in the order the secrets were given.
func (s *Signer) Sign(msgID string, ts time.Time, body []byte) string {
	var tsBuf [20]byte
	unix := strconv.AppendInt(tsBuf[:0], ts.Unix(), 10)
	var b strings.Builder
	b.Grow(len(s.keys) * (len(version) + 2 + b64Len))
	var enc [b64Len]byte
	for i, k := range s.keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		k.encode(&enc, msgID, unix, body)
		b.WriteString(version)
		b.WriteByte(',')
		b.Write(enc[:])
	}
	return b.String()
}

// encode writes the base64 MAC of msgID.unix.body to dst. The body is fed
// to the hash as is, never concatenated, so large bodies are not copied.
func (k *keyedMAC) encode(dst *[b64Len]byte, msgID string, unix, body []byte) {
	st := k.pool.Get().(*macState)
	st.h.Reset()
	st.prefix = append(append(append(append(st.prefix[:0], msgID...), '.'), unix...), '.')
	st.h.Write(st.prefix)
	st.h.Write(body)
	base64.StdEncoding.Encode(dst[:], st.h.Sum(st.sum[:0]))
	k.pool.Put(st)
}

// Sign is the one-shot form of Signer.Sign, for callers that sign rarely
// (tests, the test-event endpoint). It fails on an empty list or a secret
// that does not decode.
func Sign(secrets []string, msgID string, ts time.Time, body []byte) (string, error) {
	s, err := NewSigner(secrets...)
	if err != nil {
		return "", err
	}
	return s.Sign(msgID, ts, body), nil
}

// Verify checks a request signed with secret: the headers' values, the body
// and the time now. It accepts the request when the timestamp is within
// tolerance of now (DefaultTolerance when tolerance <= 0) and any of the
// space-separated "v1,<base64>" signatures matches; other versions are
// ignored. Signatures are compared in constant time.
func Verify(secret string, msgID, tsHeader, sigHeader string, body []byte, now time.Time, tolerance time.Duration) error {
	if msgID == "" || tsHeader == "" || sigHeader == "" {
		return ErrMissingHeaders
	}
	unix, err := strconv.ParseInt(tsHeader, 10, 64)
	if err != nil {
		return ErrInvalidTimestamp
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	ts := time.Unix(unix, 0)
	if now.Sub(ts) > tolerance {
		return ErrTooOld
	}
	if ts.Sub(now) > tolerance {
		return ErrTooNew
	}
	key, err := DecodeSecret(secret)
	if err != nil {
		return err
	}
	// Sign the timestamp as it parsed, not as sent ("+1700000000"), exactly
	// as the official libraries do.
	var want [b64Len]byte
	newKeyedMAC(key).encode(&want, msgID, strconv.AppendInt(nil, unix, 10), body)
	for _, sig := range strings.Fields(sigHeader) {
		v, b64, ok := strings.Cut(sig, ",")
		if !ok || v != version {
			continue
		}
		if hmac.Equal([]byte(b64), want[:]) {
			return nil
		}
	}
	return ErrNoMatch
}
