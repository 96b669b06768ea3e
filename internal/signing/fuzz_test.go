package signing

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// FuzzVerify signs arbitrary messages with arbitrary keys and verifies
// arbitrary signature headers. Properties: Verify(Sign(x)) holds, for each
// secret of a rotation and for the official Standard Webhooks library; a
// changed body, message id or timestamp does not verify; a timestamp outside
// the tolerance is refused as too old or too new; and a fuzzed header
// verifies only if it carries the exact signature Sign makes.
func FuzzVerify(f *testing.F) {
	// key, msgID, unix seconds, body, a signature header to try, skew (s)
	f.Add([]byte("0123456789abcdef0123456789abcdef"), "msg_2K8r5vQ0zY", int64(1767225600), []byte(`{"type":"image.push","data":{"repository":"library/nginx"}}`), "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=", int64(0))
	f.Add([]byte("a 24-byte key, minimum.."), "evt_1", int64(1700000000), []byte(``), "v1,x v1,y", int64(299))
	f.Add([]byte("k"), "m", int64(0), []byte("\x00\xff"), "", int64(-301))
	f.Fuzz(func(t *testing.T, key []byte, msgID string, unix int64, body []byte, header string, skew int64) {
		if len(key) < MinKeyBytes || len(key) > MaxKeyBytes || msgID == "" {
			return
		}
		unix %= 1 << 40 // within time.Time's comfortable range, either sign
		secret := Prefix + base64.StdEncoding.EncodeToString(key)
		if err := ValidateSecret(secret); err != nil {
			t.Fatalf("a %d-byte key makes an invalid secret: %v", len(key), err)
		}
		other := Prefix + base64.StdEncoding.EncodeToString(append([]byte("other"), key[5:]...))
		ts := time.Unix(unix, 0)
		tsHeader := strconv.FormatInt(unix, 10)
		sig, err := Sign([]string{secret, other}, msgID, ts, body)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(strings.Fields(sig)); n != 2 {
			t.Fatalf("two secrets gave %d signatures: %q", n, sig)
		}
		for _, s := range []string{secret, other} {
			if err := Verify(s, msgID, tsHeader, sig, body, ts, 0); err != nil {
				t.Fatalf("Verify(Sign(x)) with one secret of the rotation: %v", err)
			}
		}
		official, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		hdr := http.Header{"Webhook-Id": {msgID}, "Webhook-Timestamp": {tsHeader}, "Webhook-Signature": {sig}}
		if err := official.VerifyIgnoringTimestamp(body, hdr); err != nil {
			t.Fatalf("the official library does not verify %q: %v", sig, err)
		}
		one, _ := Sign([]string{secret}, msgID, ts, body)
		if err := Verify(secret, msgID, tsHeader, sig, append(append([]byte(nil), body...), 'x'), ts, 0); !errors.Is(err, ErrNoMatch) {
			t.Fatalf("a changed body: %v, want ErrNoMatch", err)
		}
		if err := Verify(secret, msgID+"x", tsHeader, sig, body, ts, 0); !errors.Is(err, ErrNoMatch) {
			t.Fatalf("a changed message id: %v, want ErrNoMatch", err)
		}
		if err := Verify(secret, msgID, strconv.FormatInt(unix+1, 10), sig, body, ts, 0); !errors.Is(err, ErrNoMatch) {
			t.Fatalf("a changed timestamp: %v, want ErrNoMatch", err)
		}
		skew %= 1 << 32
		now := ts.Add(time.Duration(skew) * time.Second)
		err = Verify(secret, msgID, tsHeader, sig, body, now, 0)
		switch d := time.Duration(skew) * time.Second; {
		case d > DefaultTolerance:
			if !errors.Is(err, ErrTooOld) {
				t.Fatalf("%s late: %v, want ErrTooOld", d, err)
			}
		case -d > DefaultTolerance:
			if !errors.Is(err, ErrTooNew) {
				t.Fatalf("%s early: %v, want ErrTooNew", -d, err)
			}
		default:
			if err != nil {
				t.Fatalf("%s off, within the tolerance: %v", d, err)
			}
		}
		// An arbitrary header verifies only if it holds the real signature.
		err = Verify(secret, msgID, tsHeader, header, body, ts, 0)
		has := false
		for _, f := range strings.Fields(header) {
			has = has || f == one
		}
		if (err == nil) != has {
			t.Fatalf("header %q: Verify = %v, but it holds the signature %q: %v", header, err, one, has)
		}
		if err != nil && header != "" && !errors.Is(err, ErrNoMatch) {
			t.Fatalf("header %q: %v, want ErrNoMatch", header, err)
		}
	})
}
