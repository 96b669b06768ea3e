package service

import (
	"context"
	"strconv"
	"strings"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

// Publish stores events for delivery once p may publish into each event's
// project. batch says whether field names get an "events[i]." prefix.
//
// Types starting with "herald." are Herald's own (herald.test,
// herald.webhook.disabled): a publisher may not post them (400 naming type),
// or it could forge Herald's notices. Every event gets the hop count of ctx
// (WithHops).
func (s *Service) Publish(ctx context.Context, p *Principal, events []*herald.Event, batch bool) ([]store.IngestItemResult, error) {
	hops := Hops(ctx)
	for i, ev := range events {
		prefix := ""
		if batch {
			prefix = "events[" + strconv.Itoa(i) + "]."
		}
		if !p.CanPublish(ev.Project) {
			return nil, &herald.Error{Code: herald.EForbidden, Field: prefix + "project", Message: "your token may not publish events to project " + strconv.Quote(ev.Project)}
		}
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(ev.Type)), herald.ReservedTypePrefix) {
			return nil, herald.InvalidKey(prefix+"type", "event.type.reserved", herald.Args{"prefix": herald.ReservedTypePrefix}, "event types starting with %q are reserved for the events Herald emits itself", herald.ReservedTypePrefix)
		}
		ev.Hops = hops
	}
	res, err := s.o.Ingester.Ingest(ctx, events)
	if err != nil {
		return nil, err
	}
	s.o.Engine.Wake()
	return res, nil
}

type hopsKey struct{}

// WithHops returns ctx carrying the hop count of the request that brings
// events (the Herald-Hops header, checked by ParseHops).
func WithHops(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, hopsKey{}, n)
}

// Hops returns the hop count WithHops put into ctx, 0 without one.
func Hops(ctx context.Context) int {
	n, _ := ctx.Value(hopsKey{}).(int)
	return n
}

// ParseHops reads a Herald-Hops header value: "" is 0 (a publisher, not a
// Herald); otherwise a number from 0 to herald.MaxHops. A larger count means
// the event already went through Herald more than MaxHops times (a webhook
// loop through Herald's own API, maybe via another Herald or a proxy): 400
// naming the header, so the loop ends there.
func ParseHops(v string) (int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, herald.InvalidKey(herald.HopsHeader, "event.hops.invalid", nil, "%s must be a non-negative number", herald.HopsHeader)
	}
	if n > herald.MaxHops {
		return 0, herald.InvalidKey(herald.HopsHeader, "event.hops.loop", herald.Args{"max": strconv.Itoa(herald.MaxHops)},
			"loop detected: this event already went through Herald %d times (%s), at most %d are accepted; check for a webhook that points at a Herald's /api/v1/events", n, herald.HopsHeader, herald.MaxHops)
	}
	return n, nil
}

// GetEvent returns event id (in project, when project != nil) if p may read it.
func (s *Service) GetEvent(ctx context.Context, p *Principal, id string, project *string) (*herald.Event, error) {
	evs, err := s.o.Store.FindEvents(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, ev := range evs {
		if project != nil && *project != ev.Project {
			continue
		}
		if p.CanRead(ev.Project) {
			return ev, nil
		}
	}
	return nil, herald.NotFound("event")
}

// ListDeliveries returns one page of the delivery log that p may read.
func (s *Service) ListDeliveries(ctx context.Context, p *Principal, f store.DeliveryFilter) ([]*herald.Delivery, string, error) {
	if f.State != "" && !herald.ValidState(f.State) {
		return nil, "", herald.InvalidKey("state", "delivery.state.invalid", herald.Args{"value": strconv.Quote(string(f.State))}, "state %q is not pending, retrying, succeeded, failed, cancelled or held", f.State)
	}
	f.Projects = p.Readable()
	if f.Projects != nil && len(f.Projects) == 0 {
		return []*herald.Delivery{}, "", nil
	}
	ds, next, err := s.o.Store.ListDeliveries(ctx, f)
	if err != nil {
		return nil, "", err
	}
	if ds == nil {
		ds = []*herald.Delivery{}
	}
	return ds, next, nil
}

// GetDelivery returns delivery id with its attempts if p may read it.
func (s *Service) GetDelivery(ctx context.Context, p *Principal, id string) (*herald.Delivery, []*herald.Attempt, error) {
	d, err := s.o.Store.GetDelivery(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if err := p.RequireRead(d.Project, "delivery"); err != nil {
		return nil, nil, err
	}
	at, err := s.o.Store.ListAttempts(ctx, d.ID)
	if err != nil {
		return nil, nil, err
	}
	if at == nil {
		at = []*herald.Attempt{}
	}
	return d, at, nil
}

// RetryDelivery puts delivery id back in the queue with a fresh schedule.
func (s *Service) RetryDelivery(ctx context.Context, p *Principal, id string) (*herald.Delivery, error) {
	d, err := s.o.Store.GetDelivery(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := p.RequireWrite(d.Project, "delivery"); err != nil {
		return nil, err
	}
	if d.Test {
		return nil, herald.ErrorfKey(herald.EConflict, "delivery.test_retry", nil, "a test delivery cannot be retried; send a new test")
	}
	d, err = s.o.Store.RetryDelivery(ctx, d.ID, s.now())
	if err != nil {
		return nil, err
	}
	s.audit(ctx, p, "delivery.retry", d.ID, d.Project, nil)
	s.o.Engine.Wake()
	return d, nil
}
