package store

import (
	"fmt"
	"slices"
	"strings"

	"github.com/herald-hq/herald"
)

// AttachEvents gives each claimed delivery its event (seqs[i] is the event
// row of out[i]) and puts the batch back in claim order: due time, then
// creation order, which ordered webhooks rely on (RETURNING order is
// unspecified in both databases).
func AttachEvents(out []*Claimed, seqs []int64, events map[int64]*herald.Event) error {
	for i, c := range out {
		ev := events[seqs[i]]
		if ev == nil {
			return fmt.Errorf("claim deliveries: event %d of delivery %s is missing", seqs[i], c.Delivery.ID)
		}
		c.Event = ev
		c.Delivery.EventID = ev.ID
	}
	slices.SortFunc(out, func(a, b *Claimed) int {
		if c := a.Delivery.NextAttemptAt.Compare(b.Delivery.NextAttemptAt); c != 0 {
			return c
		}
		return strings.Compare(a.Delivery.ID, b.Delivery.ID)
	})
	return nil
}
