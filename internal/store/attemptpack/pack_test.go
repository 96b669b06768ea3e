package attemptpack

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/herald-hq/herald"
)

func sample() *herald.Attempt {
	start := time.Date(2026, 12, 3, 11, 0, 0, 123e6, time.UTC)
	return &herald.Attempt{
		ID: "att_1", DeliveryID: "dlv_01abc", Number: 1, StartedAt: start,
		RequestMethod: "POST", RequestURL: "https://example.com/hook?token=[redacted]",
		RequestHeaders: map[string][]string{
			"Content-Type":      {"application/json"},
			"User-Agent":        {"Herald/1.0"},
			"Authorization":     {"[redacted]"},
			"Webhook-Id":        {"dlv_01abc"},
			"Webhook-Timestamp": {"1796295600"},
			"Webhook-Signature": {"v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="},
			"Herald-Hops":       {"1"},
		},
		RequestBody: `{"id":"evt_1","type":"image.pushed","data":{}}`,
	}
}

func roundTrip(t *testing.T, a *herald.Attempt) *herald.Attempt {
	t.Helper()
	p, ok, err := Pack(a)
	if err != nil || !ok {
		t.Fatalf("Pack: ok %v, err %v", ok, err)
	}
	got := &herald.Attempt{ID: a.ID, DeliveryID: a.DeliveryID, Number: a.Number, StartedAt: a.StartedAt}
	if err := Unpack(got, p.Shape, p.Signature, p.Body); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestPackRoundTrip(t *testing.T) {
	a := sample()
	got := roundTrip(t, a)
	if !reflect.DeepEqual(got.RequestHeaders, a.RequestHeaders) || got.RequestMethod != a.RequestMethod ||
		got.RequestURL != a.RequestURL || got.RequestBody != a.RequestBody {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, a)
	}
}

// The attempts of one webhook share a shape, whatever their delivery,
// start and signature; an edit of the webhook makes a new one.
func TestPackShapeShared(t *testing.T) {
	a, b := sample(), sample()
	b.DeliveryID = "dlv_01xyz"
	b.RequestHeaders["Webhook-Id"] = []string{"dlv_01xyz"}
	b.StartedAt = a.StartedAt.Add(90 * time.Second)
	b.RequestHeaders["Webhook-Timestamp"] = []string{"1796295690"}
	b.RequestHeaders["Webhook-Signature"] = []string{"v1,other"}
	pa, _, _ := Pack(a)
	pb, _, _ := Pack(b)
	if !bytes.Equal(pa.Shape.Hash, pb.Shape.Hash) || pa.Shape.Headers != pb.Shape.Headers {
		t.Fatalf("shapes differ:\n%s\n%s", pa.Shape.Headers, pb.Shape.Headers)
	}
	if pa.Signature == pb.Signature {
		t.Fatal("signatures should stay on the attempt")
	}
	b.RequestHeaders["X-Team"] = []string{"infra"}
	pc, _, _ := Pack(b)
	if bytes.Equal(pa.Shape.Hash, pc.Shape.Hash) {
		t.Fatal("an added header kept the shape")
	}
	if len(pa.Shape.Hash) != HashSize || len(pa.BodyHash) != HashSize {
		t.Fatalf("hash sizes %d, %d", len(pa.Shape.Hash), len(pa.BodyHash))
	}
}

// A Webhook-Id or Webhook-Timestamp that is not the delivery's (a test send
// signs with its own message ID) stays literal in the shape.
func TestPackKeepsForeignValues(t *testing.T) {
	a := sample()
	a.RequestHeaders["Webhook-Id"] = []string{"msg_test"}
	a.RequestHeaders["Webhook-Timestamp"] = []string{"17"}
	got := roundTrip(t, a)
	if !reflect.DeepEqual(got.RequestHeaders, a.RequestHeaders) {
		t.Fatalf("got %v", got.RequestHeaders)
	}
}

func TestPackNoRequest(t *testing.T) {
	a := &herald.Attempt{DeliveryID: "dlv_1", Error: "render payload: template: boom"}
	if _, ok, err := Pack(a); ok || err != nil {
		t.Fatalf("ok %v, err %v for an attempt without a request", ok, err)
	}
	a = sample()
	a.RequestHeaders, a.RequestBody = nil, ""
	got := roundTrip(t, a)
	if got.RequestHeaders != nil || got.RequestBody != "" {
		t.Fatalf("nil headers and empty body came back as %v, %q", got.RequestHeaders, got.RequestBody)
	}
}

func FuzzPackRoundTrip(f *testing.F) {
	f.Add("dlv_01abc", int64(1796295600), "POST", "https://example.com/", "Webhook-Id", "dlv_01abc", "v1,sig", "{}")
	f.Add("dlv_1", int64(0), "POST", "http://h/", "Webhook-Timestamp", "0", "", "")
	f.Fuzz(func(t *testing.T, id string, sec int64, method, url, name, value, sig, body string) {
		if method == "" {
			return
		}
		a := &herald.Attempt{DeliveryID: id, StartedAt: time.Unix(sec, 0).UTC(), RequestMethod: method,
			RequestURL: url, RequestBody: body, RequestHeaders: map[string][]string{name: {value}}}
		if sig != "" {
			a.RequestHeaders["Webhook-Signature"] = []string{sig}
		}
		p, ok, err := Pack(a)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			if !literalPlaceholder(a.RequestHeaders) {
				t.Fatalf("Pack refused %+v", a)
			}
			return // kept inline
		}
		got := &herald.Attempt{DeliveryID: id, StartedAt: a.StartedAt}
		if err := Unpack(got, p.Shape, p.Signature, p.Body); err != nil {
			t.Fatal(err)
		}
		// JSON turns invalid UTF-8 into U+FFFD; compare through the same lens.
		want := roundTripJSON(t, a.RequestHeaders)
		if !reflect.DeepEqual(roundTripJSON(t, got.RequestHeaders), want) || got.RequestMethod != method ||
			got.RequestURL != url || got.RequestBody != body {
			t.Fatalf("round trip of %+v gave %+v", a, got)
		}
	})
}

func roundTripJSON(t *testing.T, h map[string][]string) map[string][]string {
	t.Helper()
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string][]string
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// A body that holds its event's data verbatim is stored without it and
// rebuilt whole; one that does not (or whose data is short) is kept whole.
func TestCutDataJoinBody(t *testing.T) {
	data := []byte(`{"repository":"library/nginx","tag":"1.27","digest":"sha256:0123456789abcdef0123456789abcdef"}`)
	a := sample()
	a.RequestBody = `{"id":"evt_1","type":"image.pushed","data":` + string(data) + `,"message":"pushed"}`
	p, ok, err := Pack(a)
	if err != nil || !ok {
		t.Fatalf("Pack: ok %v, err %v", ok, err)
	}
	if p.DataAt != -1 {
		t.Fatalf("Pack cut data on its own: DataAt %d", p.DataAt)
	}
	hash := p.BodyHash
	p.CutData(data)
	if p.DataAt < 0 || len(p.Body) != len(a.RequestBody)-len(data) {
		t.Fatalf("CutData kept %d of %d bytes (DataAt %d)", len(p.Body), len(a.RequestBody), p.DataAt)
	}
	if !bytes.Equal(p.BodyHash, hash) {
		t.Fatal("CutData changed the body's hash: the same body of two webhooks would be stored twice")
	}
	body, err := JoinBody(p.Body, p.DataAt, data, p.BodyHash)
	if err != nil || body != a.RequestBody {
		t.Fatalf("JoinBody = %q, %v; want %q", body, err, a.RequestBody)
	}
	if _, err := JoinBody(p.Body, p.DataAt, []byte(`{"other":"data of the same length?"}`), p.BodyHash); err == nil {
		t.Fatal("JoinBody with other data passed the hash check")
	}
	if _, err := JoinBody("short", 99, data, nil); err == nil {
		t.Fatal("JoinBody accepted an offset past the stored body")
	}

	// Data the body does not hold verbatim (re-encoded), or too short to
	// be worth it: kept whole.
	for _, d := range [][]byte{bytes.ReplaceAll(data, []byte(`":"`), []byte(`": "`)), []byte(`{}`)} {
		q, _, _ := Pack(a)
		q.CutData(d)
		if q.DataAt != -1 || q.Body != a.RequestBody {
			t.Fatalf("CutData(%s) cut: DataAt %d", d, q.DataAt)
		}
	}
}

func FuzzCutJoin(f *testing.F) {
	f.Add(`{"data":`, `{"k":"0123456789012345678901234567890123456789012345678901234567890123"}`, `}`)
	f.Add(``, `xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx`, ``)
	f.Fuzz(func(t *testing.T, before, data, after string) {
		body := before + data + after
		p := Packed{Body: body, BodyHash: Hash(body), DataAt: -1}
		p.CutData([]byte(data))
		if len(data) >= MinCut && p.DataAt < 0 {
			t.Fatalf("CutData did not cut %q out of %q", data, body)
		}
		got, err := JoinBody(p.Body, p.DataAt, []byte(data), p.BodyHash)
		if err != nil || got != body {
			t.Fatalf("JoinBody = %q, %v; want %q", got, err, body)
		}
	})
}
