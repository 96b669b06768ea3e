package sender

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/format"
)

// rawReceiver records the request line and body it got and answers 200
// with a body every chat format counts as success.
type rawReceiver struct {
	mu   sync.Mutex
	uri  string
	body string
	srv  *httptest.Server
}

func newRawReceiver(t *testing.T) *rawReceiver {
	t.Helper()
	r := &rawReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.uri, r.body = req.RequestURI, string(b)
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"errcode":0,"code":0,"msg":"ok"}`)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *rawReceiver) seen() (string, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.uri, r.body
}

func TestRecordedRequest(t *testing.T) {
	t.Parallel()
	r := newRawReceiver(t)
	s := New(Options{AllowCIDRs: loopback})
	w := newWebhook(r.srv.URL + "/in?x=1&api_key=SECRET-K")
	res := s.Send(context.Background(), w, newRequest(`{"hello":"world"}`))
	if res.Outcome != Success {
		t.Fatalf("outcome %v err %q", res.Outcome, res.Err)
	}
	uri, body := r.seen()
	if uri != "/in?x=1&api_key=SECRET-K" {
		t.Fatalf("receiver saw %q", uri)
	}
	if res.RequestMethod != http.MethodPost {
		t.Errorf("method %q", res.RequestMethod)
	}
	if want := r.srv.URL + "/in?api_key=%5Bredacted%5D&x=1"; res.RequestURL != want {
		t.Errorf("url %q, want %q", res.RequestURL, want)
	}
	if res.RequestBody != body || res.RequestBodyTruncated {
		t.Errorf("body %q (truncated %v), receiver saw %q", res.RequestBody, res.RequestBodyTruncated, body)
	}

	// A body over the cap is recorded up to the cap and flagged.
	big := `{"pad":"` + strings.Repeat("é", MaxRecordedRequestBytes) + `"}`
	res = s.Send(context.Background(), w, newRequest(big))
	if res.Outcome != Success {
		t.Fatalf("outcome %v err %q", res.Outcome, res.Err)
	}
	if _, body := r.seen(); body != big {
		t.Fatalf("receiver got %d bytes, want %d", len(body), len(big))
	}
	if !res.RequestBodyTruncated || len(res.RequestBody) > MaxRecordedRequestBytes || len(res.RequestBody) < MaxRecordedRequestBytes-4 {
		t.Errorf("truncated %v, %d bytes recorded", res.RequestBodyTruncated, len(res.RequestBody))
	}
	if !strings.HasPrefix(big, res.RequestBody) {
		t.Error("recorded body is not a prefix of the body sent (a rune cut in half?)")
	}
}

func TestRecordedRequestSignedChat(t *testing.T) {
	t.Parallel()
	s := New(Options{AllowCIDRs: loopback})
	ev := chatTestEvent()
	for _, fm := range []string{herald.FormatDingTalk, herald.FormatFeishu} {
		t.Run(fm, func(t *testing.T) {
			t.Parallel()
			r := newRawReceiver(t)
			u := r.srv.URL + "/open-apis/bot/v2/hook/hook123"
			if fm == herald.FormatDingTalk {
				u = r.srv.URL + "/robot/send?access_token=tok-SECRET-123"
			}
			w := &herald.Webhook{ID: "wh_rec_" + fm, URL: u, Format: fm, Language: "en", StandardHeaders: true,
				Auth: herald.Auth{Type: herald.AuthSign, Secret: "SEC-robot-secret"}, UpdatedAt: time.Unix(1, 0)}
			fr, err := format.Render(w, ev)
			if err != nil {
				t.Fatal(err)
			}
			res := s.Send(context.Background(), w, Request{MsgID: "msg_1", Timestamp: time.Now(), Body: fr.Body, ContentType: fr.ContentType})
			if res.Outcome != Success {
				t.Fatalf("outcome %v err %q", res.Outcome, res.Err)
			}
			uri, body := r.seen()
			var sign string
			if fm == herald.FormatDingTalk {
				req, _ := http.NewRequest(http.MethodGet, uri, nil)
				sign = req.URL.Query().Get("sign")
				if res.RequestBody != body {
					t.Errorf("body %q, receiver saw %q", res.RequestBody, body)
				}
			} else {
				var m map[string]any
				if err := json.Unmarshal([]byte(body), &m); err != nil {
					t.Fatal(err)
				}
				sign, _ = m["sign"].(string)
				if want := strings.Replace(body, sign, redacted, 1); res.RequestBody != want {
					t.Errorf("body %q, want %q", res.RequestBody, want)
				}
			}
			if len(sign) < 20 {
				t.Fatalf("receiver saw no sign: %q %q", uri, body)
			}
			dump := res.RequestURL + " " + res.RequestBody
			for _, secret := range []string{sign, "tok-SECRET-123", "SEC-robot-secret"} {
				if strings.Contains(dump, secret) {
					t.Errorf("%q in the record: %s", secret, dump)
				}
			}
			if fm == herald.FormatDingTalk && !strings.Contains(res.RequestURL, "sign=%5Bredacted%5D") {
				t.Errorf("url %q", res.RequestURL)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://h/p":         "https://h/p",
		"https://h/p?a=1&b=2": "https://h/p?a=1&b=2",
		"https://u:pw@h/p":    "https://u:%5Bredacted%5D@h/p",
		"https://h/send?access_token=t&timestamp=1": "https://h/send?access_token=%5Bredacted%5D&timestamp=1",
		"https://h/?sign=abc&Signature=x&SIG=y":     "https://h/?SIG=%5Bredacted%5D&Signature=%5Bredacted%5D&sign=%5Bredacted%5D",
		"https://h/?key=k&secret=s&password=p":      "https://h/?key=%5Bredacted%5D&password=%5Bredacted%5D&secret=%5Bredacted%5D",
		"https://h/?auth=a&code=c&q=ok":             "https://h/?auth=%5Bredacted%5D&code=%5Bredacted%5D&q=ok",
		"https://h/%zz?token=t":                     "https://h/%zz",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
