package service

import (
	"context"
	"strconv"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

// DeliveryCountCap is where counting the deliveries a filter matches stops
// (the API's total, the console's "Matching deliveries"): past it the count
// reads "10,000+", so a count never scans more than this many rows.
const DeliveryCountCap = 10000

// CountMatchingDeliveries counts the deliveries of the log that f selects
// and p may read, up to max (more: there are more than max). See
// store.Store.CountMatchingDeliveries.
func (s *Service) CountMatchingDeliveries(ctx context.Context, p *Principal, f store.DeliveryFilter, max int) (int, bool, error) {
	if f.State != "" && !herald.ValidState(f.State) {
		return 0, false, herald.InvalidKey("state", "delivery.state.invalid", herald.Args{"value": strconv.Quote(string(f.State))}, "state %q is not pending, retrying, succeeded, failed, cancelled or held", f.State)
	}
	f.Projects = p.Readable()
	if f.Projects != nil && len(f.Projects) == 0 {
		return 0, false, nil
	}
	return s.o.Store.CountMatchingDeliveries(ctx, f, max)
}
