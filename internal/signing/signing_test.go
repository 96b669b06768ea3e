package signing

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

var update = flag.Bool("update", false, "rewrite the signatures in testdata/vectors.json")

// vector is one golden case of testdata/vectors.json.
type vector struct {
	Name      string   `json:"name"`
	Secrets   []string `json:"secrets"`
	MsgID     string   `json:"msg_id"`
	Timestamp int64    `json:"timestamp"`
	Body      string   `json:"body"`
	Signature string   `json:"signature"`
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) == 0 {
		t.Fatal("no vectors")
	}
	return vs
}

// headers builds the Standard Webhooks headers the official library reads.
func headers(msgID string, ts int64, sig string) http.Header {
	h := http.Header{}
	h.Set(standardwebhooks.HeaderWebhookID, msgID)
	h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(ts, 10))
	h.Set(standardwebhooks.HeaderWebhookSignature, sig)
	return h
}

// TestGoldenVectors pins the signatures so a refactor cannot change what
// receivers see. The first vector is the Standard Webhooks reference vector,
// copied from the official library's own test, not computed by us.
func TestGoldenVectors(t *testing.T) {
	vs := loadVectors(t)
	if *update {
		for i := range vs {
			if i == 0 {
				continue // the reference vector is not ours to rewrite
			}
			sig, err := Sign(vs[i].Secrets, vs[i].MsgID, time.Unix(vs[i].Timestamp, 0), []byte(vs[i].Body))
			if err != nil {
				t.Fatal(err)
			}
			vs[i].Signature = sig
		}
		b, err := json.MarshalIndent(vs, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", "vectors.json"), append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			t.Parallel()
			ts := time.Unix(v.Timestamp, 0)
			got, err := Sign(v.Secrets, v.MsgID, ts, []byte(v.Body))
			if err != nil {
				t.Fatal(err)
			}
			if got != v.Signature {
				t.Fatalf("Sign = %q, golden %q", got, v.Signature)
			}
			// Each part must be what the official library computes for its secret.
			parts := strings.Split(got, " ")
			if len(parts) != len(v.Secrets) {
				t.Fatalf("%d signatures for %d secrets", len(parts), len(v.Secrets))
			}
			for i, sec := range v.Secrets {
				wh, err := standardwebhooks.NewWebhook(sec)
				if err != nil {
					t.Fatal(err)
				}
				want, err := wh.Sign(v.MsgID, ts, []byte(v.Body))
				if err != nil {
					t.Fatal(err)
				}
				if parts[i] != want {
					t.Errorf("signature %d = %q, official library %q", i, parts[i], want)
				}
				if err := Verify(sec, v.MsgID, strconv.FormatInt(v.Timestamp, 10), got, []byte(v.Body), ts, 0); err != nil {
					t.Errorf("Verify with secret %d: %v", i, err)
				}
			}
		})
	}
}

func TestNewSecret(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 50 {
		s := NewSecret()
		if !strings.HasPrefix(s, Prefix) {
			t.Fatalf("%q lacks the whsec_ prefix", s)
		}
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, Prefix))
		if err != nil || len(key) != 32 {
			t.Fatalf("%q: key of %d bytes, err %v", s, len(key), err)
		}
		if err := ValidateSecret(s); err != nil {
			t.Fatal(err)
		}
		if seen[s] {
			t.Fatalf("duplicate secret %q", s)
		}
		seen[s] = true
	}
}

// TestRotationVerifiedByOfficialLibrary checks that a receiver on either
// secret of a rotation accepts the request, with the official verifier.
func TestRotationVerifiedByOfficialLibrary(t *testing.T) {
	t.Parallel()
	current, previous, other := NewSecret(), NewSecret(), NewSecret()
	now := time.Now()
	body := []byte(`{"type":"image.pushed","data":{"repo":"library/nginx","tag":"1.27"}}`)
	sig, err := Sign([]string{current, previous}, "msg_rotation", now, body)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(sig)); n != 2 {
		t.Fatalf("want two signatures, got %d: %q", n, sig)
	}
	h := headers("msg_rotation", now.Unix(), sig)
	for name, sec := range map[string]string{"current": current, "previous": previous} {
		wh, err := standardwebhooks.NewWebhook(sec)
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.Verify(body, h); err != nil {
			t.Errorf("official library rejects the %s secret: %v", name, err)
		}
	}
	wh, err := standardwebhooks.NewWebhook(other)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(body, h); err == nil {
		t.Error("official library accepts an unrelated secret")
	}
}

// TestTamperingRejected changes one signed input at a time; both the official
// library and Verify must refuse every variant.
func TestTamperingRejected(t *testing.T) {
	t.Parallel()
	secret := NewSecret()
	now := time.Now()
	body := []byte(`{"amount":100}`)
	sig, err := Sign([]string{secret}, "msg_1", now, body)
	if err != nil {
		t.Fatal(err)
	}
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(body, headers("msg_1", now.Unix(), sig)); err != nil {
		t.Fatalf("untampered request rejected: %v", err)
	}
	cases := []struct {
		name  string
		msgID string
		ts    int64
		sig   string
		body  string
	}{
		{"body", "msg_1", now.Unix(), sig, `{"amount":1000}`},
		{"timestamp", "msg_1", now.Unix() - 1, sig, string(body)},
		{"message id", "msg_2", now.Unix(), sig, string(body)},
		{"signature", "msg_1", now.Unix(), "v1," + base64.StdEncoding.EncodeToString(make([]byte, 32)), string(body)},
		{"version", "msg_1", now.Unix(), "v2," + strings.TrimPrefix(sig, "v1,"), string(body)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := wh.Verify([]byte(tc.body), headers(tc.msgID, tc.ts, tc.sig)); err == nil {
				t.Error("official library accepts the tampered request")
			}
			err := Verify(secret, tc.msgID, strconv.FormatInt(tc.ts, 10), tc.sig, []byte(tc.body), now, 0)
			if !errors.Is(err, ErrNoMatch) {
				t.Errorf("Verify = %v, want ErrNoMatch", err)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	secret := NewSecret()
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"ok":true}`)
	good, err := Sign([]string{secret}, "msg_v", now, body)
	if err != nil {
		t.Fatal(err)
	}
	unrelated, err := Sign([]string{NewSecret()}, "msg_v", now, body)
	if err != nil {
		t.Fatal(err)
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	cases := []struct {
		name      string
		msgID     string
		ts        string
		sig       string
		now       time.Time
		tolerance time.Duration
		want      error
	}{
		{name: "valid", msgID: "msg_v", ts: ts, sig: good, now: now},
		{name: "any of several", msgID: "msg_v", ts: ts, sig: unrelated + " " + good, now: now},
		{name: "other versions and junk skipped", msgID: "msg_v", ts: ts, sig: "v2,abc nonsense v1,!!! " + good, now: now},
		{name: "extra spaces", msgID: "msg_v", ts: ts, sig: "  " + good + "  ", now: now},
		{name: "explicit plus sign", msgID: "msg_v", ts: "+" + ts, sig: good, now: now},
		{name: "at the tolerance edge", msgID: "msg_v", ts: ts, sig: good, now: now.Add(DefaultTolerance)},
		{name: "too old", msgID: "msg_v", ts: ts, sig: good, now: now.Add(DefaultTolerance + time.Second), want: ErrTooOld},
		{name: "too new", msgID: "msg_v", ts: ts, sig: good, now: now.Add(-DefaultTolerance - time.Second), want: ErrTooNew},
		{name: "custom tolerance", msgID: "msg_v", ts: ts, sig: good, now: now.Add(2 * time.Second), tolerance: time.Second, want: ErrTooOld},
		{name: "timestamp in milliseconds", msgID: "msg_v", ts: ts + "000", sig: good, now: now, want: ErrTooNew},
		{name: "timestamp not a number", msgID: "msg_v", ts: "yesterday", sig: good, now: now, want: ErrInvalidTimestamp},
		{name: "missing id", ts: ts, sig: good, now: now, want: ErrMissingHeaders},
		{name: "missing timestamp", msgID: "msg_v", sig: good, now: now, want: ErrMissingHeaders},
		{name: "missing signature", msgID: "msg_v", ts: ts, now: now, want: ErrMissingHeaders},
		{name: "wrong secret only", msgID: "msg_v", ts: ts, sig: unrelated, now: now, want: ErrNoMatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := Verify(secret, tc.msgID, tc.ts, tc.sig, body, tc.now, tc.tolerance)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestSecrets(t *testing.T) {
	t.Parallel()
	key24 := base64.StdEncoding.EncodeToString(make([]byte, 24))
	key64 := base64.StdEncoding.EncodeToString(make([]byte, 64))
	cases := []struct {
		secret    string
		decodeErr bool
		valid     bool
	}{
		{secret: "whsec_" + key24, valid: true},
		{secret: "whsec_" + key64, valid: true},
		{secret: key24}, // decodes (as the official library does) but lacks the prefix
		{secret: "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 23))},
		{secret: "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 65))},
		{secret: "whsec_not base64!", decodeErr: true},
		{secret: "whsec_", decodeErr: true},
		{secret: "", decodeErr: true},
	}
	for _, tc := range cases {
		_, err := DecodeSecret(tc.secret)
		if (err != nil) != tc.decodeErr {
			t.Errorf("DecodeSecret(%q) error = %v, want error %v", tc.secret, err, tc.decodeErr)
		}
		if err := ValidateSecret(tc.secret); (err == nil) != tc.valid {
			t.Errorf("ValidateSecret(%q) = %v, want valid %v", tc.secret, err, tc.valid)
		}
	}
	if _, err := NewSigner(); err == nil {
		t.Error("NewSigner without secrets succeeds")
	}
	if _, err := Sign([]string{NewSecret(), "whsec_%%%"}, "m", time.Now(), nil); err == nil {
		t.Error("Sign with an undecodable secret succeeds")
	}
}

// TestSignerConcurrent shares one Signer between goroutines (run with -race):
// the pooled HMAC states must never mix.
func TestSignerConcurrent(t *testing.T) {
	t.Parallel()
	secrets := []string{NewSecret(), NewSecret()}
	s, err := NewSigner(secrets...)
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1_700_000_000, 0)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				id := "msg_" + strconv.Itoa(g) + "_" + strconv.Itoa(i)
				body := []byte(strings.Repeat("x", i))
				want, err := Sign(secrets, id, ts, body)
				if err != nil {
					t.Error(err)
					return
				}
				if got := s.Sign(id, ts, body); got != want {
					t.Errorf("%s: concurrent Sign = %q, want %q", id, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func benchBody() []byte { return []byte(strings.Repeat(`{"k":"value"},`, 73)) } // ~1 KiB

func BenchmarkSigner(b *testing.B) {
	for _, n := range []int{1, 2} {
		b.Run(strconv.Itoa(n)+"secrets", func(b *testing.B) {
			secrets := []string{NewSecret(), NewSecret()}[:n]
			s, err := NewSigner(secrets...)
			if err != nil {
				b.Fatal(err)
			}
			body, ts := benchBody(), time.Now()
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				s.Sign("msg_2Xk1bench", ts, body)
			}
		})
	}
}

// BenchmarkSign is the one-shot path: decode and key setup on every call.
func BenchmarkSign(b *testing.B) {
	secrets := []string{NewSecret()}
	body, ts := benchBody(), time.Now()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Sign(secrets, "msg_2Xk1bench", ts, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOfficialLibrary is the reference point for BenchmarkSigner.
func BenchmarkOfficialLibrary(b *testing.B) {
	wh, err := standardwebhooks.NewWebhook(NewSecret())
	if err != nil {
		b.Fatal(err)
	}
	body, ts := benchBody(), time.Now()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := wh.Sign("msg_2Xk1bench", ts, body); err != nil {
			b.Fatal(err)
		}
	}
}
