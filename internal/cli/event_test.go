package cli

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestEventSend(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t)
	api.handle("POST /api/v1/events", 202, `{"data":[{"id":"evt_1","project":"p1","duplicate":false,"deliveries":3}]}`)
	res := run(t, api, runOpts{}, "event", "send", "--type", "image.pushed", "--project", "p1",
		"--severity", "warning", "--label", "env=prod", "--label", "team=a=b", "--data", ` {"tag":"v1"} `,
		"--source", "harbor", "--subject", "library/nginx", "--id", "e-42", "--idempotency-key", "k-1",
		"--occurred-at", "2025-01-02T10:00:00+01:00").mustSucceed(t)
	req := api.only()
	if req.Method != "POST" || req.Path != "/api/v1/events" || req.Header.Get("Idempotency-Key") != "k-1" {
		t.Errorf("request = %s %s %v", req.Method, req.Path, req.Header)
	}
	var body struct {
		ID         string            `json:"id"`
		Type       string            `json:"type"`
		Project    string            `json:"project"`
		Source     string            `json:"source"`
		Subject    string            `json:"subject"`
		Severity   string            `json:"severity"`
		Labels     map[string]string `json:"labels"`
		Data       json.RawMessage   `json:"data"`
		OccurredAt string            `json:"occurred_at"`
	}
	decodeStrict(t, req.Body, &body)
	if body.ID != "e-42" || body.Type != "image.pushed" || body.Project != "p1" || body.Severity != "warning" ||
		body.Source != "harbor" || body.Subject != "library/nginx" || body.Labels["env"] != "prod" ||
		body.Labels["team"] != "a=b" || string(body.Data) != `{"tag":"v1"}` || body.OccurredAt != "2025-01-02T10:00:00+01:00" {
		t.Errorf("body = %s", req.Body)
	}
	want := "ID     PROJECT  DELIVERIES  DUPLICATE\nevt_1  p1       3           no\n"
	if res.stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", res.stdout, want)
	}
}

func TestEventSendDataFromStdinAndDuplicate(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t)
	api.handle("POST /api/v1/events", 202, `{"data":[{"id":"evt_1","project":"","duplicate":true,"deliveries":0}]}`)
	res := run(t, api, runOpts{stdin: `{"a": [1, 2]}` + "\n"}, "event", "send", "--type", "x", "--data-file", "-").mustSucceed(t)
	req := api.only()
	if want := `{"type":"x","project":"","data":{"a":[1,2]}}`; req.Body != want {
		t.Errorf("body = %s, want %s", req.Body, want)
	}
	if req.Header.Get("Idempotency-Key") != "" {
		t.Error("Idempotency-Key sent without --idempotency-key")
	}
	if res.stderr != "note: event evt_1 was already stored; nothing new was delivered\n" {
		t.Errorf("stderr = %q", res.stderr)
	}
	res = run(t, api, runOpts{}, "event", "send", "--type", "x", "--json").mustSucceed(t)
	if !strings.Contains(res.stdout, `"duplicate": true`) {
		t.Errorf("stdout = %s", res.stdout)
	}
	run(t, api, runOpts{}, "event", "send", "--type", "x", "--data", "{}", "--data-file", "f").
		mustFail(t, "error: if any flags in the group [data data-file] are set none of the others can be; [data data-file] were all set\n")
}

func TestEventSendTooLarge(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t)
	api.handleFunc("POST /api/v1/events", func(w http.ResponseWriter, r *http.Request) {
		apiError(w, 413, "too_large", "request body is larger than 262144 bytes", "")
	})
	run(t, api, runOpts{}, "event", "send", "--type", "x").
		mustFail(t, "error: request body is larger than 262144 bytes\nhint: send a smaller event, or split the batch\n")
}

func TestEventGet(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t)
	api.handle("GET /api/v1/events/evt_1", 200, `{"id":"evt_1","type":"image.pushed","project":"p1","severity":"info",
"labels":{"b":"2","a":"1"},"data":{"tag":"v1"},"occurred_at":"2025-01-02T10:00:00Z","received_at":"2025-01-02T10:00:01Z"}`)
	res := run(t, api, runOpts{}, "event", "get", "evt_1", "--project", "p1").mustSucceed(t)
	if q := api.only().Query; q != "project=p1" {
		t.Errorf("query = %q", q)
	}
	want := `ID:        evt_1
Type:      image.pushed
Project:   p1
Source:    -
Subject:   -
Severity:  info
Labels:    a=1, b=2
Occurred:  2025-01-02T10:00:00Z
Received:  2025-01-02T10:00:01Z
Data:
{
  "tag": "v1"
}
`
	if res.stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", res.stdout, want)
	}
}

func TestEventTypes(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t)
	api.handle("GET /api/v1/event-types", 200, `{"data":[
{"name":"image.pushed","category":"events","source":"harbor","description":{"en":"An image was pushed","zh-CN":"镜像已推送"}},
{"name":"host.down","category":"alarms","source":"netdata","description":{"en":"A host is unreachable"}}]}`)
	res := run(t, api, runOpts{}, "event-types", "--language", "zh-CN").mustSucceed(t)
	want := "" +
		"NAME          CATEGORY  SOURCE   DESCRIPTION\n" +
		"image.pushed  events    harbor   镜像已推送\n" +
		"host.down     alarms    netdata  A host is unreachable\n"
	if res.stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", res.stdout, want)
	}
}
