package cli

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
)

const deliveryJSON = `{"id":"dlv_1","event_id":"evt_1","webhook_id":"wh_1","project":"p1","event_type":"image.pushed",
"state":"retrying","attempts":2,"next_attempt_at":"2025-01-02T12:05:00Z","last_attempt_at":"2025-01-02T12:00:00Z",
"last_status":503,"last_error":"HTTP 503","test":false,"created_at":"2025-01-02T11:59:00Z","updated_at":"2025-01-02T12:00:00Z"}`

func TestDeliveryList(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t)
	api.handle("GET /api/v1/deliveries", 200, `{"data":[`+deliveryJSON+`,
{"id":"dlv_2","event_id":"evt_2","webhook_id":"wh_1","event_type":"herald.test","state":"succeeded","attempts":1,
"next_attempt_at":"2025-01-02T11:00:00Z","last_status":200,"test":true,"created_at":"2025-01-02T11:00:00Z"}],"next_cursor":"dlv_2"}`)
	res := run(t, api, runOpts{}, "delivery", "list", "--webhook", "wh_1", "--state", "failed", "--event-type", "image.pushed",
		"--event", "evt_1", "--since", "1h", "--until", "2025-01-03", "--limit", "2", "--cursor", "dlv_0").mustSucceed(t)
	q, err := url.ParseQuery(api.only().Query)
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{"webhook": {"wh_1"}, "state": {"failed"}, "event_type": {"image.pushed"}, "event": {"evt_1"},
		"since": {"2025-01-02T11:00:00Z"}, "until": {"2025-01-03T00:00:00Z"}, "limit": {"2"}, "cursor": {"dlv_0"}}
	if q.Encode() != want.Encode() {
		t.Errorf("query = %s\nwant    %s", q.Encode(), want.Encode())
	}
	wantOut := "" +
		"ID     WEBHOOK  EVENT TYPE    STATE             ATTEMPTS  LAST RESULT   NEXT ATTEMPT          CREATED\n" +
		"dlv_1  wh_1     image.pushed  retrying          2         503 HTTP 503  2025-01-02T12:05:00Z  2025-01-02T11:59:00Z\n" +
		"dlv_2  wh_1     herald.test   succeeded (test)  1         200           -                     2025-01-02T11:00:00Z\n"
	if res.stdout != wantOut {
		t.Errorf("stdout:\n%s\nwant:\n%s", res.stdout, wantOut)
	}
	if res.stderr != "More deliveries: add --cursor dlv_2 (or --all).\n" {
		t.Errorf("stderr = %q", res.stderr)
	}
}

func TestDeliveryListAll(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t)
	api.handleFunc("GET /api/v1/deliveries", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Query().Get("cursor") {
		case "":
			_, _ = w.Write([]byte(`{"data":[{"id":"dlv_3"},{"id":"dlv_2"}],"next_cursor":"dlv_2"}`))
		case "dlv_2":
			_, _ = w.Write([]byte(`{"data":[{"id":"dlv_1"}],"next_cursor":""}`))
		default:
			apiError(w, 400, "invalid", "bad cursor", "cursor")
		}
	})
	res := run(t, api, runOpts{}, "delivery", "list", "--all", "--json").mustSucceed(t)
	var got struct {
		Data       []struct{ ID string } `json:"data"`
		NextCursor *string               `json:"next_cursor"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Data) != 3 || got.Data[2].ID != "dlv_1" || got.NextCursor != nil {
		t.Errorf("stdout = %s", res.stdout)
	}
	if n := len(api.requests()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

func TestDeliveryGet(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t)
	api.handle("GET /api/v1/deliveries/dlv_1", 200, deliveryJSON[:len(deliveryJSON)-1]+`,"attempt_log":[
{"id":"att_1","delivery_id":"dlv_1","number":1,"started_at":"2025-01-02T11:59:00Z","latency":"1.5s","request_headers":{},"status_code":503,"response_body":"upstream\nbusy"},
{"id":"att_2","delivery_id":"dlv_1","number":2,"started_at":"2025-01-02T12:00:00Z","latency":"10ms","request_headers":{},"error":"timeout awaiting headers"}]}`)
	res := run(t, api, runOpts{}, "delivery", "get", "dlv_1").mustSucceed(t)
	want := `ID:            dlv_1
Webhook:       wh_1
Event:         evt_1
Event type:    image.pushed
Project:       p1
State:         retrying
Attempts:      2
Last result:   503 HTTP 503
Next attempt:  2025-01-02T12:05:00Z
Created:       2025-01-02T11:59:00Z
Updated:       2025-01-02T12:00:00Z

Attempts:
#  STARTED               STATUS  LATENCY    ERROR / RESPONSE
1  2025-01-02T11:59:00Z  503     1500.0 ms  upstream busy
2  2025-01-02T12:00:00Z  -       10.0 ms    timeout awaiting headers
`
	if res.stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", res.stdout, want)
	}
	res = run(t, api, runOpts{}, "delivery", "get", "dlv_1", "--json").mustSucceed(t)
	var got struct {
		Attempts []struct{ Number int } `json:"attempt_log"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &got); err != nil || len(got.Attempts) != 2 {
		t.Errorf("json: %v\n%s", err, res.stdout)
	}
}

func TestDeliveryRetry(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t)
	api.handle("POST /api/v1/deliveries/dlv_1/retry", 200, deliveryJSON)
	api.handleFunc("POST /api/v1/deliveries/dlv_2/retry", func(w http.ResponseWriter, r *http.Request) {
		apiError(w, 409, "conflict", "delivery dlv_2 is already queued", "")
	})
	res := run(t, api, runOpts{}, "delivery", "retry", "dlv_1").mustSucceed(t)
	if res.stdout != "Delivery dlv_1 is queued again (state retrying, due 2025-01-02T12:05:00Z).\n" {
		t.Errorf("stdout = %q", res.stdout)
	}
	if req := api.only(); req.Method != "POST" || req.Body != "" {
		t.Errorf("request = %s %q", req.Method, req.Body)
	}
	run(t, api, runOpts{}, "delivery", "retry", "dlv_2").mustFail(t, "error: delivery dlv_2 is already queued\n")
}
