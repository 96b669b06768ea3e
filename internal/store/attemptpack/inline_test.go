package attemptpack

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleInline() Inline {
	return Inline{
		Started:   time.Date(2026, 12, 4, 18, 45, 43, 237462000, time.UTC).UnixMicro(),
		LatencyNS: 3527609,
		Status:    204,
		ResponseHeaders: map[string][]string{
			"Date":         {"Fri, 04 Dec 2026 18:45:43 GMT"},
			"Content-Type": {"text/plain; charset=utf-8"},
			"Set-Cookie":   {"a=1", "b=2"},
		},
		ResponseBody: "ok",
		ShapeHash:    bytes.Repeat([]byte{7}, HashSize),
		Signature:    "v1,t7KVU9vXGjW8IRv6UXljUbQcqNYsGmoasd2HL92sEQA=",
		BodyHash:     bytes.Repeat([]byte{9}, HashSize),
	}
}

// What a store writes reads back the same, and is small: the delivery's
// ID gives the start's base, the Date header its second, the signature is
// kept as its 32 bytes.
func TestInlineRoundTrip(t *testing.T) {
	const id = "dlv_01m9160s62cbcvw2xtm1r36myd"
	cases := map[string]func(*Inline){
		"full": func(*Inline) {},
		"nil headers, no body, failed": func(in *Inline) {
			in.ResponseHeaders, in.BodyHash, in.Status, in.Error = nil, nil, 0, "dial tcp: connection refused"
		},
		"empty headers":            func(in *Inline) { in.ResponseHeaders = map[string][]string{} },
		"two signatures":           func(in *Inline) { in.Signature += " v1,AAAA" },
		"other signature":          func(in *Inline) { in.Signature = "sha256=abcdef" },
		"non-canonical base64":     func(in *Inline) { in.Signature = in.Signature[:len(in.Signature)-2] + "B=" },
		"no signature, truncated":  func(in *Inline) { in.Signature, in.Truncated = "", true },
		"date not in GMT form":     func(in *Inline) { in.ResponseHeaders["Date"] = []string{"Fri, 4 Dec 2026 18:45:43 GMT"} },
		"date long before start":   func(in *Inline) { in.ResponseHeaders["Expires"] = []string{"Thu, 01 Jan 1970 00:00:00 GMT"} },
		"start before the ID's ms": func(in *Inline) { in.Started = 5 },
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			in := sampleInline()
			edit(&in)
			b := EncodeInline(id, in)
			got, err := DecodeInline(id, b)
			if err != nil {
				t.Fatal(err)
			}
			// The hashes come back as their first RefSize bytes.
			in.ShapeHash = in.ShapeHash[:RefSize]
			if in.BodyHash != nil {
				in.BodyHash = in.BodyHash[:RefSize]
			}
			if !reflect.DeepEqual(got, in) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, in)
			}
			ns, err := InlineLatency(b)
			if err != nil || int64(ns) != in.LatencyNS {
				t.Fatalf("InlineLatency = %v, %v; want %d", ns, err, in.LatencyNS)
			}
		})
	}
	// The bench's first attempt: 145 bytes in ten columns before (values
	// and column headers), most of it now the HMAC and the two hash refs.
	in := sampleInline()
	in.ResponseHeaders = map[string][]string{"Date": {"Fri, 04 Dec 2026 18:45:43 GMT"}}
	in.ResponseBody = ""
	if n := len(EncodeInline(id, in)); n > 75 {
		t.Fatalf("encoded in %d bytes, want at most 75", n)
	}
}

func TestDecodeInlineRefusesGarbage(t *testing.T) {
	const id = "dlv_01m9160s62cbcvw2xtm1r36myd"
	b := EncodeInline(id, sampleInline())
	for name, bad := range map[string][]byte{
		"empty":         nil,
		"version":       append([]byte{9}, b[1:]...),
		"truncated":     b[:len(b)-1],
		"trailing byte": append(bytes.Clone(b), 0),
		"unknown flag":  {inlineVersion, 0x40, 0, 0, 0, 0, 0, 0, 0},
	} {
		if _, err := DecodeInline(id, bad); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

func FuzzInline(f *testing.F) {
	f.Add("dlv_01m9160s62cbcvw2xtm1r36myd", EncodeInline("dlv_01m9160s62cbcvw2xtm1r36myd", sampleInline()))
	f.Add("dlv_x", EncodeInline("dlv_x", Inline{Started: -1, ResponseHeaders: map[string][]string{"A": nil}}))
	f.Add("", []byte{inlineVersion, 1, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, id string, b []byte) {
		in, err := DecodeInline(id, b)
		if err != nil {
			return
		}
		// Whatever decodes encodes back to an Inline that decodes the same.
		again, err := DecodeInline(id, EncodeInline(id, in))
		if err != nil {
			t.Fatalf("re-encoded %+v does not decode: %v", in, err)
		}
		if !reflect.DeepEqual(again, in) {
			t.Fatalf("re-encoding changed it:\n got %+v\nwant %+v", again, in)
		}
	})
}

func TestRefRange(t *testing.T) {
	for _, tc := range []struct{ ref, lo, hi []byte }{
		{[]byte{1, 2, 3}, []byte{1, 2, 3}, []byte{1, 2, 4}},
		{[]byte{1, 0xff, 0xff}, []byte{1, 0xff, 0xff}, []byte{2}},
		{[]byte{0xff, 0xff}, []byte{0xff, 0xff}, nil},
	} {
		lo, hi := RefRange(tc.ref)
		if !bytes.Equal(lo, tc.lo) || !bytes.Equal(hi, tc.hi) || (hi == nil) != (tc.hi == nil) {
			t.Errorf("RefRange(%x) = %x, %x; want %x, %x", tc.ref, lo, hi, tc.lo, tc.hi)
		}
		full := append(bytes.Clone(tc.ref), 0xff, 0xff)
		if bytes.Compare(full, lo) < 0 || hi != nil && bytes.Compare(full, hi) >= 0 {
			t.Errorf("a hash starting with %x is outside [%x, %x)", tc.ref, lo, hi)
		}
	}
}

// ReadInline through fake parts: the attempt comes back whole from one
// shape and one body; two of either are refused.
func TestReadInline(t *testing.T) {
	a := sample()
	p, ok, err := Pack(a)
	if err != nil || !ok {
		t.Fatalf("Pack: %v, %v", ok, err)
	}
	in := Inline{Started: a.StartedAt.UnixMicro(), LatencyNS: 5, Status: 204, ResponseHeaders: map[string][]string{},
		ShapeHash: p.Shape.Hash, Signature: p.Signature, BodyHash: p.BodyHash}
	b := EncodeInline(a.DeliveryID, in)
	var gotLo [][]byte
	one := Parts{
		Shapes: func(lo, hi []byte) ([]Shape, error) {
			gotLo = append(gotLo, lo)
			return []Shape{p.Shape}, nil
		},
		Bodies: func(lo, hi []byte) ([]StoredBody, error) {
			gotLo = append(gotLo, lo)
			return []StoredBody{{Hash: p.BodyHash, Body: p.Body, DataAt: -1}}, nil
		},
	}
	got, err := ReadInline(a.DeliveryID, "att_x", b, one)
	if err != nil {
		t.Fatal(err)
	}
	if got.RequestBody != a.RequestBody || got.RequestMethod != a.RequestMethod || got.ID != "att_x" ||
		!reflect.DeepEqual(got.RequestHeaders, a.RequestHeaders) {
		t.Fatalf("read back %+v, want the request of %+v", got, a)
	}
	if len(gotLo) != 2 || !bytes.Equal(gotLo[0], p.Shape.Hash[:RefSize]) || !bytes.Equal(gotLo[1], p.BodyHash[:RefSize]) {
		t.Fatalf("looked up %x, want the refs of the shape and body", gotLo)
	}
	two := one
	two.Shapes = func(lo, hi []byte) ([]Shape, error) { return []Shape{p.Shape, p.Shape}, nil }
	if _, err := ReadInline(a.DeliveryID, "att_x", b, two); err == nil || !strings.Contains(err.Error(), "two request shapes") {
		t.Fatalf("two shapes: %v", err)
	}
	two = one
	two.Bodies = func(lo, hi []byte) ([]StoredBody, error) { return make([]StoredBody, 2), nil }
	if _, err := ReadInline(a.DeliveryID, "att_x", b, two); err == nil || !strings.Contains(err.Error(), "two request bodies") {
		t.Fatalf("two bodies: %v", err)
	}
}
