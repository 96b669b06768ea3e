package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/ingest"
	"github.com/herald-hq/herald/internal/metrics"
	"github.com/herald-hq/herald/internal/service"
)

// eventInput is an event as clients send it. Unknown fields are refused.
type eventInput struct {
	ID         string            `json:"id"`
	Type       string            `json:"type"`
	Project    string            `json:"project"`
	Source     string            `json:"source"`
	Subject    string            `json:"subject"`
	Severity   string            `json:"severity"`
	Labels     map[string]string `json:"labels"`
	Data       json.RawMessage   `json:"data"`
	Message    string            `json:"message"`
	OccurredAt herald.Time       `json:"occurred_at"`
}

type eventResult struct {
	ID         string `json:"id"`
	Project    string `json:"project"`
	Duplicate  bool   `json:"duplicate"`
	Deliveries int    `json:"deliveries"`
}

// postEvents ingests one event or {"events": [...]} (at most 1000). It
// answers 202 only once the events and their deliveries are durable.
func (a *API) postEvents(w http.ResponseWriter, r *http.Request, p *service.Principal) (err error) {
	events := 1 // how many events the request carries, once known
	defer func() { a.countRefused(err, events) }()
	r, err = withHops(r)
	if err != nil {
		return err
	}
	body, err := readBody(w, r, a.o.MaxEventBytes)
	if err != nil {
		return err
	}
	inputs, batch, err := parseEvents(body)
	if err != nil {
		return err
	}
	events = len(inputs)
	if err := a.limitIngest(w, p, len(inputs)); err != nil {
		return err
	}
	if key := r.Header.Get("Idempotency-Key"); key != "" {
		if batch {
			return herald.Invalid("Idempotency-Key", "Idempotency-Key applies to a single event; give each event of a batch its own id")
		}
		if inputs[0].ID != "" && inputs[0].ID != key {
			return herald.Invalid("id", "id and the Idempotency-Key header differ")
		}
		inputs[0].ID = key
	}
	evs := make([]*herald.Event, len(inputs))
	for i, in := range inputs {
		evs[i] = &herald.Event{
			ID: in.ID, Type: in.Type, Project: in.Project, Source: in.Source, Subject: in.Subject,
			Severity: in.Severity, Labels: in.Labels, Data: in.Data, Message: in.Message,
			OccurredAt: in.OccurredAt.Time,
		}
	}
	res, err := a.svc.Publish(r.Context(), p, evs, batch)
	if err != nil {
		return err
	}
	out := make([]eventResult, len(res))
	dups := 0
	for i, rr := range res {
		out[i] = eventResult{ID: rr.EventID, Project: evs[i].Project, Duplicate: rr.Duplicate, Deliveries: rr.Deliveries}
		if rr.Duplicate {
			dups++
		}
	}
	a.o.Metrics.Ingested(metrics.IngestAccepted, len(res)-dups)
	a.o.Metrics.Ingested(metrics.IngestDuplicate, dups)
	writeJSON(w, http.StatusAccepted, list[eventResult]{Data: out})
	return nil
}

// countRefused counts the events of an ingest request that failed with err
// (nothing when err is nil): rate_limited for a 429, rejected otherwise.
// A body that cannot be parsed counts as one event.
func (a *API) countRefused(err error, events int) {
	if err == nil {
		return
	}
	result := metrics.IngestRejected
	if herald.ErrorCode(err) == herald.ERateLimited {
		result = metrics.IngestRateLimited
	}
	a.o.Metrics.Ingested(result, max(events, 1))
}

// withHops checks the Herald-Hops header of an ingest request (400 naming
// it above herald.MaxHops: a loop through Herald) and hands its count to
// the service, which stamps it on the events.
func withHops(r *http.Request) (*http.Request, error) {
	n, err := service.ParseHops(r.Header.Get(herald.HopsHeader))
	if err != nil {
		return r, err
	}
	return r.WithContext(service.WithHops(r.Context(), n)), nil
}

// parseEvents reads one event object or {"events": [...]}.
func parseEvents(body []byte) ([]eventInput, bool, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, false, herald.Invalid("", "request body is empty; send an event object or {\"events\": [...]}")
	}
	if !json.Valid(body) {
		var v any
		return nil, false, jsonError(json.Unmarshal(body, &v))
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(body, &probe); err != nil {
		return nil, false, herald.Invalid("", "request body must be a JSON object")
	}
	if raw, ok := probe["events"]; ok {
		if len(probe) != 1 {
			return nil, false, herald.Invalid("events", "a batch is {\"events\": [...]} with nothing beside it")
		}
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, false, herald.Invalid("events", "events must be an array of event objects")
		}
		if len(items) == 0 {
			return nil, false, herald.Invalid("events", "events is empty")
		}
		if len(items) > ingest.MaxBatch {
			return nil, false, herald.Invalid("events", "at most %d events per request, got %d", ingest.MaxBatch, len(items))
		}
		out := make([]eventInput, len(items))
		for i, it := range items {
			if err := decodeEvent(it, &out[i], "events["+strconv.Itoa(i)+"]."); err != nil {
				return nil, false, err
			}
		}
		return out, true, nil
	}
	var in eventInput
	if err := decodeEvent(body, &in, ""); err != nil {
		return nil, false, err
	}
	return []eventInput{in}, false, nil
}

func decodeEvent(b []byte, in *eventInput, prefix string) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(in); err != nil {
		err = jsonError(err)
		var he *herald.Error
		if errors.As(err, &he) && prefix != "" {
			he.Field = prefix + he.Field
		}
		return err
	}
	if in.Type == "" {
		return herald.Invalid(prefix+"type", "type is required")
	}
	return nil
}

func (a *API) getEvent(w http.ResponseWriter, r *http.Request, p *service.Principal) error {
	var project *string
	if q := r.URL.Query(); q.Has("project") {
		v := q.Get("project")
		project = &v
	}
	ev, err := a.svc.GetEvent(r.Context(), p, r.PathValue("id"), project)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ev)
	return nil
}

// readBody reads a request body of at most limit bytes (413 above).
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, herald.Errorf(herald.ETooLarge, "request body is larger than %d bytes", mbe.Limit)
		}
		return nil, herald.Invalid("", "could not read the request body")
	}
	return body, nil
}
