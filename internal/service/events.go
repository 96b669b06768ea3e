package service

import (
	"context"
	"strconv"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

// Publish stores events for delivery once p may publish into each event's
// project. batch says whether field names get an "events[i]." prefix.
func (s *Service) Publish(ctx context.Context, p *Principal, events []*herald.Event, batch bool) ([]store.IngestItemResult, error) {
	for i, ev := range events {
		if !p.CanPublish(ev.Project) {
			f := "project"
			if batch {
				f = "events[" + strconv.Itoa(i) + "].project"
			}
			return nil, &herald.Error{Code: herald.EForbidden, Field: f, Message: "your token may not publish events to project " + strconv.Quote(ev.Project)}
		}
	}
	res, err := s.o.Ingester.Ingest(ctx, events)
	if err != nil {
		return nil, err
	}
	s.o.Engine.Wake()
	return res, nil
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
