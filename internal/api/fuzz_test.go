package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/ingest"
	"github.com/herald-hq/herald/internal/service"
)

// isObject reports whether b is one valid JSON object.
func isObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return json.Valid(b) && len(b) > 0 && b[0] == '{'
}

// bareBatchItem is a batch item's prefix with no field after it.
var bareBatchItem = regexp.MustCompile(`^events\[\d+\]\.$`)

// emptyKey reports whether he refuses an object key "" (whose name is empty).
func emptyKey(he *herald.Error) bool {
	return strings.HasSuffix(he.Message, `unknown field ""`)
}

// invalidErr fails t unless err is an *herald.Error with code EInvalid, and
// returns it.
func invalidErr(t *testing.T, body []byte, err error) *herald.Error {
	t.Helper()
	var he *herald.Error
	if !errors.As(err, &he) || he.Code != herald.EInvalid || he.Message == "" {
		t.Fatalf("%q: error %#v, want an EInvalid herald.Error with a message", body, err)
	}
	return he
}

// FuzzParseEvents decodes arbitrary POST /events bodies (one event or
// {"events": [...]}). Properties: no panic; a refusal is an EInvalid
// herald.Error, naming a field whenever the body is a JSON object (the
// batch's fields as events[i].field); an accepted body is a JSON object of
// 1 to ingest.MaxBatch events each with a type, a batch exactly when it has
// "events"; and what was accepted, written back as JSON, parses to the same
// events.
func FuzzParseEvents(f *testing.F) {
	for _, s := range []string{
		`{"type":"image.push","project":"library","data":{"repository":"library/nginx","tag":"1.27"}}`,
		`{"events":[{"id":"e1","type":"image.push"},{"id":"e2","type":"chart.delete","labels":{"env":"prod"}}]}`,
		`{"type":"host.lost_connection","severity":"critical","subject":"db1","occurred_at":"2026-01-02T15:04:05Z"}`,
		`{"type":"alarm.cpu","occurred_at":1767225600,"message":"CPU 97%"}`,
		`{"type":"x","occurred_at":"yesterday"}`,
		`{"events":[{"type":"x"},{"typo":"y"}]}`,
		`{"events":[],"extra":1}`,
		`{"events":{}}`,
		`{"type":42}`,
		`{"labels":{"a":1},"type":"x"}`,
		`[{"type":"x"}]`,
		`{"type":"x"} {"type":"y"}`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, batch, err := parseEvents(body)
		if err != nil {
			he := invalidErr(t, body, err)
			if isObject(body) && (he.Field == "" || bareBatchItem.MatchString(he.Field)) && !emptyKey(he) {
				t.Fatalf("%q: %v names no field", body, err)
			}
			return
		}
		if !isObject(body) {
			t.Fatalf("%q accepted but it is not one JSON object", body)
		}
		if len(evs) == 0 || len(evs) > ingest.MaxBatch {
			t.Fatalf("%q gave %d events", body, len(evs))
		}
		var probe map[string]json.RawMessage
		json.Unmarshal(body, &probe)
		if _, ok := probe["events"]; ok != batch {
			t.Fatalf("%q: batch = %v", body, batch)
		}
		for i, ev := range evs {
			if ev.Type == "" {
				t.Fatalf("%q: event %d has no type", body, i)
			}
		}
		// Written back, it parses the same.
		var again []byte
		if batch {
			again, err = json.Marshal(map[string]any{"events": evs})
		} else {
			again, err = json.Marshal(evs[0])
		}
		if err != nil {
			return // a time outside RFC 3339's years has no JSON form to compare
		}
		evs2, batch2, err := parseEvents(again)
		if err != nil || batch2 != batch || len(evs2) != len(evs) {
			t.Fatalf("%q written back as %s: %v (batch %v, %d events)", body, again, err, batch2, len(evs2))
		}
		for i := range evs {
			a, b := evs[i], evs2[i]
			if !a.OccurredAt.Equal(b.OccurredAt.Time) {
				t.Fatalf("event %d: occurred_at %v came back as %v", i, a.OccurredAt, b.OccurredAt)
			}
			a.OccurredAt = b.OccurredAt
			if !jsonEqual(a.Data, b.Data) {
				t.Fatalf("event %d: data %s came back as %s", i, a.Data, b.Data)
			}
			a.Data, b.Data = nil, nil
			if len(a.Labels) == 0 && len(b.Labels) == 0 {
				a.Labels, b.Labels = nil, nil
			}
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("event %d: %+v came back as %+v", i, a, b)
			}
		}
	})
}

// jsonEqual compares two JSON texts by value (an absent one is null).
func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if len(a) > 0 && json.Unmarshal(a, &x) != nil || len(b) > 0 && json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// FuzzDecodeWebhookInput decodes arbitrary webhook bodies the way POST and
// PATCH /webhooks do (strict: unknown fields and trailing data refused).
// Properties: no panic; a refusal is an EInvalid herald.Error (ETooLarge
// past 1 MiB), naming the field whenever the body is a JSON object; an
// accepted body is one JSON value; and the accepted input, written back as
// JSON (without its secrets, which are write-only and print masked),
// decodes to the same input.
func FuzzDecodeWebhookInput(f *testing.F) {
	for _, s := range []string{
		`{"name":"harbor-ci","url":"https://ci.example.com/hooks/harbor","event_types":["image.push","chart.*"],"project":"library"}`,
		`{"name":"ops","url":"https://ops.example.com/h","event_types":["*"],"conditions":[{"label":"severity","operator":"In","values":["critical"]}],"severity":"alerts","timeout":"10s","max_attempts":8,"rate_limit":5,"ordered":true}`,
		`{"auth":{"type":"bearer","token":"s3cret"},"headers":{"X-Env":"prod"},"format":"template","template":"{{.Type}}","content_type":"text/plain"}`,
		`{"auth":{"type":"basic","username":"u","password":"p"},"tls":{"skip_verify":true},"challenge_secret":"k","retry_client_errors":false}`,
		`{"enabled":false}`,
		`{"timeout":"soon"}`,
		`{"timeout":30}`,
		`{"name":"x","colour":"red"}`,
		`{"auth":{"type":"bearer","tokn":"x"}}`,
		`{"max_attempts":"3"}`,
		`{"event_types":"image.push"}`,
		`{"name":"a"}{"name":"b"}`,
		`{"name":"a"} trailing`,
		`null`,
		`[]`,
		`{"name":`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := readWebhookInput(httptest.NewRequest("POST", "/api/v1/webhooks", bytes.NewReader(body)))
		if err != nil {
			var he *herald.Error
			if errors.As(err, &he) && he.Code == herald.ETooLarge {
				if len(body) <= 1<<20 {
					t.Fatalf("%d bytes refused as too large", len(body))
				}
				return
			}
			he = invalidErr(t, body, err)
			if isObject(body) && he.Field == "" && !emptyKey(he) {
				t.Fatalf("%q: %v names no field", body, err)
			}
			return
		}
		if !json.Valid(bytes.TrimSpace(body)) {
			t.Fatalf("%q accepted but it is not one JSON value", body)
		}
		// Secrets marshal masked (write-only): drop them, compare the rest.
		dropSecrets := func(in *service.WebhookInput) {
			in.ChallengeSecret = nil
			if in.Auth != nil {
				in.Auth.Password, in.Auth.Token, in.Auth.HeaderValue, in.Auth.KeyPEM = nil, nil, nil, nil
			}
		}
		dropSecrets(in)
		again, err := json.Marshal(in)
		if err != nil {
			t.Fatalf("marshal %+v: %v", in, err)
		}
		back, err := readWebhookInput(httptest.NewRequest("POST", "/api/v1/webhooks", bytes.NewReader(again)))
		if err != nil {
			t.Fatalf("%q written back as %s: %v", body, again, err)
		}
		if !reflect.DeepEqual(in, back) {
			t.Fatalf("%q written back as %s decodes to %+v, want %+v", body, again, back, in)
		}
	})
}

// Values refused by herald.Duration and herald.Time name their field, as
// every other bad value does.
func TestCustomTypeErrorsNameTheField(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ body, field, msg string }{
		{`{"timeout":"soon"}`, "timeout", `timeout must be a duration such as "15s" or "2m", not a JSON string "soon"`},
		{`{"timeout":{"s":1}}`, "timeout", "not a JSON object"},
		{`{"timeout":9223372037}`, "timeout", "out of range"},
		{`{"name":"x","auth":{"type":"basic","password":1}}`, "auth.password", "auth.password must be a string"},
	} {
		_, err := readWebhookInput(httptest.NewRequest("POST", "/api/v1/webhooks", strings.NewReader(tc.body)))
		he := invalidErr(t, []byte(tc.body), err)
		if he.Field != tc.field || !strings.Contains(he.Message, tc.msg) {
			t.Errorf("%s: field %q message %q, want %q and %q", tc.body, he.Field, he.Message, tc.field, tc.msg)
		}
	}
	for _, tc := range []struct{ body, field, msg string }{
		{`{"type":"x","occurred_at":"yesterday"}`, "occurred_at", `occurred_at must be an RFC 3339 time such as 2026-01-02T15:04:05Z, not a JSON string "yesterday"`},
		{`{"events":[{"type":"x"},{"type":"x","occurred_at":true}]}`, "events[1].occurred_at", "not a JSON bool"},
	} {
		_, _, err := parseEvents([]byte(tc.body))
		he := invalidErr(t, []byte(tc.body), err)
		if he.Field != tc.field || !strings.Contains(he.Message, tc.msg) {
			t.Errorf("%s: field %q message %q, want %q and %q", tc.body, he.Field, he.Message, tc.field, tc.msg)
		}
	}
}
