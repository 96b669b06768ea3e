package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

var logTests = map[string]func(t *testing.T, b *bundle){
	// Pages are newest first; the cursor of the last page is "", also when
	// the last page is full.
	"Pagination": func(t *testing.T, b *bundle) {
		w := b.webhook("p")
		var created []string // oldest first
		for i := range 7 {
			res := b.ingest(at(time.Duration(i)*time.Second), []string{w.ID}, b.event("x", "p"))
			must.Equal(t, 1, res.Items[0].Deliveries)
			ds, _, err := b.s.ListDeliveries(b.ctx, store.DeliveryFilter{Limit: 1})
			must.NoError(t, err)
			created = append(created, ds[0].ID)
		}
		want := slices.Clone(created)
		slices.Reverse(want)

		var pages [][]string
		var cursors []string
		f := store.DeliveryFilter{Limit: 3}
		for {
			ds, next, err := b.s.ListDeliveries(b.ctx, f)
			must.NoError(t, err)
			var page []string
			for _, d := range ds {
				page = append(page, d.ID)
			}
			pages = append(pages, page)
			cursors = append(cursors, next)
			if next == "" {
				break
			}
			must.Equal(t, page[len(page)-1], next, "the cursor is the page's last id")
			f.Cursor = next
		}
		must.Equal(t, [][]string{want[0:3], want[3:6], want[6:7]}, pages)
		must.Equal(t, "", cursors[2])

		ds, next, err := b.s.ListDeliveries(b.ctx, store.DeliveryFilter{Limit: 3, Cursor: want[2]})
		must.NoError(t, err)
		must.Len(t, ds, 3)
		must.NotEmpty(t, next)
		ds, next, err = b.s.ListDeliveries(b.ctx, store.DeliveryFilter{Limit: 3, Cursor: want[3]})
		must.NoError(t, err)
		must.Len(t, ds, 3)
		must.Empty(t, next, "a full last page has no cursor")
	},

	"DefaultLimit": func(t *testing.T, b *bundle) {
		w := b.webhook("p")
		var evs []*herald.Event
		for range 55 {
			evs = append(evs, b.event("x", "p"))
		}
		b.ingest(t0, []string{w.ID}, evs...)
		ds, next, err := b.s.ListDeliveries(b.ctx, store.DeliveryFilter{})
		must.NoError(t, err)
		must.Len(t, ds, 50)
		must.NotEmpty(t, next)
		ds, next, err = b.s.ListDeliveries(b.ctx, store.DeliveryFilter{Cursor: next})
		must.NoError(t, err)
		must.Len(t, ds, 5)
		must.Empty(t, next)
		must.Equal(t, 50, store.PageLimit(0))
		must.Equal(t, 500, store.PageLimit(501))
	},

	"Filters": func(t *testing.T, b *bundle) {
		w1, w2, wP := b.webhook("p1"), b.webhook("p2"), b.webhook("")
		e1 := b.event("image.push", "p1")
		e2 := b.event("image.delete", "p2")
		e3 := b.event("image.push", "p2")
		e4 := b.event("chart.push", "p2")
		e4.ID = e1.ID // the same id in another project
		e3.Subject = "Team-A/Nginx_%x:1.27"
		b.ingest(t0, []string{w1.ID, wP.ID}, e1)
		b.ingest(at(1*time.Hour), []string{w2.ID, wP.ID}, e2)
		b.ingest(at(2*time.Hour), []string{w2.ID}, e3)
		b.ingest(at(3*time.Hour), []string{w2.ID}, e4)

		type key struct{ event, hook string }
		byKey := map[key]string{}
		for _, c := range b.claim(at(4*time.Hour), 100, "A", time.Hour) {
			k := key{c.Event.Type + "@" + c.Event.Project, c.Delivery.WebhookID}
			byKey[k] = c.Delivery.ID
			comp := done(c, herald.StatePending, -1, at(4*time.Hour), c.Delivery.NextAttemptAt)
			switch k {
			case key{"image.push@p1", w1.ID}:
				comp = done(c, herald.StateSucceeded, 200, at(4*time.Hour), time.Time{})
			case key{"image.delete@p2", w2.ID}:
				comp = done(c, herald.StateFailed, 500, at(4*time.Hour), time.Time{})
			}
			must.Equal(t, []bool{true}, b.complete(comp))
		}
		must.Len(t, byKey, 6)
		d := func(event string, hook *herald.Webhook) string {
			id, ok := byKey[key{event, hook.ID}]
			must.True(t, ok, "%s to %s", event, hook.Name)
			return id
		}
		var (
			e1w1, e1wP = d("image.push@p1", w1), d("image.push@p1", wP)
			e2w2, e2wP = d("image.delete@p2", w2), d("image.delete@p2", wP)
			e3w2       = d("image.push@p2", w2)
			e4w2       = d("chart.push@p2", w2)
		)
		for _, tc := range []struct {
			name string
			f    store.DeliveryFilter
			want []string
		}{
			{"none", store.DeliveryFilter{}, []string{e1w1, e1wP, e2w2, e2wP, e3w2, e4w2}},
			{"webhook", store.DeliveryFilter{WebhookID: w2.ID}, []string{e2w2, e3w2, e4w2}},
			{"platform webhook", store.DeliveryFilter{WebhookID: wP.ID}, []string{e1wP, e2wP}},
			{"unknown webhook", store.DeliveryFilter{WebhookID: "wh_gone"}, nil},
			{"project", store.DeliveryFilter{Projects: []string{"p1"}}, []string{e1w1}},
			{"no projects", store.DeliveryFilter{Projects: []string{}}, nil},
			{"platform and project", store.DeliveryFilter{Projects: []string{"", "p2"}}, []string{e1wP, e2w2, e2wP, e3w2, e4w2}},
			{"succeeded", store.DeliveryFilter{State: herald.StateSucceeded}, []string{e1w1}},
			{"failed", store.DeliveryFilter{State: herald.StateFailed}, []string{e2w2}},
			{"pending", store.DeliveryFilter{State: herald.StatePending}, []string{e1wP, e2wP, e3w2, e4w2}},
			{"event type", store.DeliveryFilter{EventType: "image.push"}, []string{e1w1, e1wP, e3w2}},
			{"event id", store.DeliveryFilter{EventID: e1.ID}, []string{e1w1, e1wP, e4w2}},
			{"event id in project", store.DeliveryFilter{EventID: e1.ID, Projects: []string{"p2"}}, []string{e4w2}},
			{"since", store.DeliveryFilter{Since: at(time.Hour)}, []string{e2w2, e2wP, e3w2, e4w2}},
			{"until", store.DeliveryFilter{Until: at(time.Hour)}, []string{e1w1, e1wP}},
			{"since until", store.DeliveryFilter{Since: at(time.Hour), Until: at(2 * time.Hour)}, []string{e2w2, e2wP}},
			{"webhook and type", store.DeliveryFilter{WebhookID: wP.ID, EventType: "image.delete"}, []string{e2wP}},
			{"project and state", store.DeliveryFilter{Projects: []string{"p2"}, State: herald.StatePending}, []string{e3w2, e4w2}},
			{"subject, any case", store.DeliveryFilter{SubjectContains: "team-a/nginx"}, []string{e3w2}},
			{"subject, LIKE characters literal", store.DeliveryFilter{SubjectContains: "_%X:"}, []string{e3w2}},
			{"subject none", store.DeliveryFilter{SubjectContains: "nginx_%y"}, nil},
			{"subject and webhook", store.DeliveryFilter{SubjectContains: e1.Subject, WebhookID: wP.ID}, []string{e1wP}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				want := slices.Clone(tc.want)
				slices.Sort(want)
				slices.Reverse(want)
				// Whole, and page by page (2 per page) with the same filter.
				f := tc.f
				f.Limit = 500
				ds, next, err := b.s.ListDeliveries(b.ctx, f)
				must.NoError(t, err)
				must.Empty(t, next)
				var got []string
				for _, d := range ds {
					got = append(got, d.ID)
				}
				must.Equal(t, want, got)

				f.Limit = 2
				got = nil
				for {
					ds, next, err := b.s.ListDeliveries(b.ctx, f)
					must.NoError(t, err)
					must.LessOrEqual(t, len(ds), 2)
					for _, d := range ds {
						got = append(got, d.ID)
					}
					if next == "" {
						break
					}
					f.Cursor = next
				}
				must.Equal(t, want, got)

				// Oldest first, page by page.
				f.Cursor, f.Oldest = "", true
				got = nil
				for {
					ds, next, err := b.s.ListDeliveries(b.ctx, f)
					must.NoError(t, err)
					for _, d := range ds {
						got = append(got, d.ID)
					}
					if next == "" {
						break
					}
					f.Cursor = next
				}
				oldest := slices.Clone(want)
				slices.Reverse(oldest)
				must.Equal(t, oldest, got)

				// Counted, bounded; the cursor does not change the count.
				f.Cursor = "dlv_zzzz"
				n, more, err := b.s.CountMatchingDeliveries(b.ctx, f, 100)
				must.NoError(t, err)
				must.Equal(t, len(want), n)
				must.False(t, more)
				n, more, err = b.s.CountMatchingDeliveries(b.ctx, f, 2)
				must.NoError(t, err)
				must.Equal(t, min(len(want), 2), n)
				must.Equal(t, len(want) > 2, more)
			})
		}
	},

	// The count stops at max: exactly max rows is not "more", max+1 is; the
	// filters the log offers (wildcard type, error and subject text, state,
	// projects) narrow the count as they narrow the list.
	"CountMatchingDeliveriesBounded": func(t *testing.T, b *bundle) {
		w, other := b.webhook("p1"), b.webhook("p2")
		var evs []*herald.Event
		for i := range 6 {
			ev := b.event("image.push", "p1")
			if i%2 == 1 {
				ev.Type = "chart.push"
			}
			evs = append(evs, ev)
		}
		b.ingest(t0, []string{w.ID}, evs...)
		b.ingest(t0, []string{other.ID}, b.event("image.push", "p2"))
		c := b.claim(at(time.Second), 1, "A", time.Minute)
		must.Len(t, c, 1)
		failed := done(c[0], herald.StateFailed, 0, at(time.Second), time.Time{})
		failed.Error = "dial tcp 127.0.0.1:9: connect: connection refused"
		failed.Attempt.Error = failed.Error
		must.Equal(t, []bool{true}, b.complete(failed))

		for _, tc := range []struct {
			name     string
			f        store.DeliveryFilter
			max, n   int
			wantMore bool
		}{
			{"all, max above", store.DeliveryFilter{}, 8, 7, false},
			{"all, exactly max", store.DeliveryFilter{}, 7, 7, false},
			{"all, one more than max", store.DeliveryFilter{}, 6, 6, true},
			{"all, max 1", store.DeliveryFilter{}, 1, 1, true},
			{"webhook", store.DeliveryFilter{WebhookID: w.ID}, 100, 6, false},
			{"wildcard type", store.DeliveryFilter{WebhookID: w.ID, EventType: "chart.*"}, 100, 3, false},
			{"wildcard type, capped", store.DeliveryFilter{EventType: "image.*"}, 3, 3, true},
			{"any type", store.DeliveryFilter{EventType: "*"}, 100, 7, false},
			{"projects", store.DeliveryFilter{Projects: []string{"p2"}}, 100, 1, false},
			{"no projects", store.DeliveryFilter{Projects: []string{}}, 100, 0, false},
			{"state", store.DeliveryFilter{State: herald.StateFailed}, 100, 1, false},
			{"error text", store.DeliveryFilter{ErrorContains: "connection REFUSED"}, 100, 1, false},
			{"error text, none", store.DeliveryFilter{ErrorContains: "no such host"}, 100, 0, false},
			{"subject", store.DeliveryFilter{SubjectContains: evs[2].Subject}, 100, 1, false},
			{"order and limit ignored", store.DeliveryFilter{WebhookID: w.ID, Oldest: true, Limit: 2}, 100, 6, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				n, more, err := b.s.CountMatchingDeliveries(b.ctx, tc.f, tc.max)
				must.NoError(t, err)
				must.Equal(t, tc.n, n)
				must.Equal(t, tc.wantMore, more)
			})
		}
	},

	"GetDelivery": func(t *testing.T, b *bundle) {
		_, err := b.s.GetDelivery(b.ctx, "dlv_missing")
		requireCode(t, err, herald.ENotFound)
	},

	// A manual retry starts a fresh schedule: RoundStart = Attempts.
	"RetryDelivery": func(t *testing.T, b *bundle) {
		w := b.webhook("p")
		b.ingest(t0, []string{w.ID}, b.event("x", "p"), b.event("y", "p"))
		cs := b.claim(t0, 10, "A", time.Minute)
		must.Len(t, cs, 2)

		_, err := b.s.RetryDelivery(b.ctx, "dlv_missing", t0)
		requireCode(t, err, herald.ENotFound)
		_, err = b.s.RetryDelivery(b.ctx, cs[0].Delivery.ID, t0)
		requireCode(t, err, herald.EConflict)

		b.complete(
			done(cs[0], herald.StateFailed, 500, at(time.Second), time.Time{}),
			store.Completion{DeliveryID: cs[1].Delivery.ID, WebhookID: w.ID, LeaseToken: "A",
				State: herald.StateCancelled, Error: "webhook disabled", Now: at(time.Second)},
		)
		d, err := b.s.RetryDelivery(b.ctx, cs[0].Delivery.ID, at(time.Hour))
		must.NoError(t, err)
		must.Equal(t, herald.StateRetrying, d.State, "it had attempts")
		must.Equal(t, 1, d.Attempts)
		requireTime(t, at(time.Hour), d.NextAttemptAt)
		requireTime(t, at(time.Hour), d.UpdatedAt)
		must.Equal(t, d, b.delivery(d.ID))
		// Retrying (not leased): retry now moves its next attempt, the
		// schedule unchanged.
		now, err := b.s.RetryDelivery(b.ctx, d.ID, at(50*time.Minute))
		must.NoError(t, err)
		must.Equal(t, herald.StateRetrying, now.State)
		requireTime(t, at(50*time.Minute), now.NextAttemptAt)
		_, err = b.s.RetryDelivery(b.ctx, d.ID, at(time.Hour))
		must.NoError(t, err)

		d, err = b.s.RetryDelivery(b.ctx, cs[1].Delivery.ID, at(time.Hour))
		must.NoError(t, err)
		must.Equal(t, herald.StatePending, d.State, "no attempts yet")

		got := b.claim(at(time.Hour), 10, "B", time.Minute)
		must.Len(t, got, 2)
		round := map[string]int{}
		for _, c := range got {
			round[c.Delivery.ID] = c.RoundStart
		}
		must.Equal(t, map[string]int{cs[0].Delivery.ID: 1, cs[1].Delivery.ID: 0}, round)

		// Fail again, retry again: the schedule restarts at 2.
		for _, c := range got {
			state := herald.StateSucceeded
			if c.Delivery.ID == cs[0].Delivery.ID {
				state = herald.StateFailed
			}
			b.complete(done(c, state, 500, at(time.Hour+time.Second), time.Time{}))
		}
		_, err = b.s.RetryDelivery(b.ctx, cs[0].Delivery.ID, at(2*time.Hour))
		must.NoError(t, err)
		c := b.claimOne(at(2*time.Hour), "C", time.Minute)
		must.Equal(t, 2, c.RoundStart)
		must.Equal(t, 2, c.Delivery.Attempts)
	},

	// While the global switch is off, a retried delivery waits as held.
	"RetryWhileOff": func(t *testing.T, b *bundle) {
		w := b.webhook("p")
		b.ingest(t0, []string{w.ID}, b.event("x", "p"))
		c := b.claimOne(t0, "A", time.Minute)
		b.complete(done(c, herald.StateFailed, 500, at(time.Second), time.Time{}))
		b.settings(false, at(time.Minute))
		d, err := b.s.RetryDelivery(b.ctx, c.Delivery.ID, at(2*time.Minute))
		must.NoError(t, err)
		must.Equal(t, herald.StateHeld, d.State)
		b.settings(true, at(3*time.Minute))
		c = b.claimOne(at(3*time.Minute), "B", time.Minute)
		must.Equal(t, herald.StateRetrying, c.Delivery.State)
		must.Equal(t, 1, c.RoundStart)
	},

	"RecoverFailed": func(t *testing.T, b *bundle) {
		w, other := b.webhook("p"), b.webhook("p")
		var evs []*herald.Event
		for range 4 {
			evs = append(evs, b.event("x", "p"))
		}
		b.ingest(t0, []string{w.ID, other.ID}, evs...)
		var mine, theirs []*store.Claimed
		for _, c := range b.claim(t0, 100, "A", 24*time.Hour) {
			if c.Delivery.WebhookID == w.ID {
				mine = append(mine, c)
			} else {
				theirs = append(theirs, c)
			}
		}
		must.Len(t, mine, 4)
		b.complete(
			done(mine[0], herald.StateFailed, 500, at(1*time.Minute), time.Time{}),
			done(mine[1], herald.StateFailed, 500, at(2*time.Minute), time.Time{}),
			done(mine[2], herald.StateFailed, 500, at(3*time.Minute), time.Time{}),
			done(mine[3], herald.StateSucceeded, 200, at(3*time.Minute), time.Time{}),
			done(theirs[0], herald.StateFailed, 500, at(3*time.Minute), time.Time{}),
		)
		n, err := b.s.RecoverFailed(b.ctx, w.ID, at(2*time.Minute), at(time.Hour))
		must.NoError(t, err)
		must.Equal(t, 2, n, "failed at or after since")
		must.Equal(t, herald.StateFailed, b.delivery(mine[0].Delivery.ID).State)
		must.Equal(t, herald.StateSucceeded, b.delivery(mine[3].Delivery.ID).State)
		must.Equal(t, herald.StateFailed, b.delivery(theirs[0].Delivery.ID).State, "other webhooks are untouched")

		got := b.claim(at(time.Hour), 10, "B", time.Minute)
		must.ElementsMatch(t, []string{mine[1].Delivery.ID, mine[2].Delivery.ID}, ids(got))
		for _, c := range got {
			must.Equal(t, herald.StateRetrying, c.Delivery.State)
			must.Equal(t, 1, c.RoundStart)
			requireTime(t, at(time.Hour), c.Delivery.NextAttemptAt)
		}

		n, err = b.s.RecoverFailed(b.ctx, w.ID, time.Time{}, at(2*time.Hour))
		must.NoError(t, err)
		must.Equal(t, 1, n, "a zero since recovers every failed delivery")
		n, err = b.s.RecoverFailed(b.ctx, "wh_missing", time.Time{}, at(2*time.Hour))
		must.NoError(t, err)
		must.Zero(t, n)
	},

	"RecordTest": func(t *testing.T, b *bundle) {
		w := b.webhook("p")
		ev := &herald.Event{ID: herald.NewID("evt"), Type: herald.EventTypeTest, Project: "p", Source: "herald",
			Severity: herald.SeverityInfo, Message: "test", Data: []byte(`{"test":true}`), OccurredAt: t0, ReceivedAt: t0}
		last := t0
		d := &herald.Delivery{ID: herald.NewID("dlv"), EventID: ev.ID, WebhookID: w.ID, Project: "p",
			EventType: herald.EventTypeTest, State: herald.StateSucceeded, Attempts: 1, NextAttemptAt: t0,
			LastAttemptAt: &last, LastStatus: 204, Test: true, CreatedAt: t0, UpdatedAt: t0}
		a := attempt(t0, 204, "")
		a.DeliveryID, a.Number = d.ID, 1
		want := *a
		must.NoError(t, b.s.RecordTest(b.ctx, ev, d, a))

		must.Equal(t, d, b.delivery(d.ID))
		as, err := b.s.ListAttempts(b.ctx, d.ID)
		must.NoError(t, err)
		must.Len(t, as, 1)
		want.ID = as[0].ID
		must.Equal(t, &want, as[0])
		evs, err := b.s.FindEvents(b.ctx, ev.ID)
		must.NoError(t, err)
		must.Equal(t, []*herald.Event{ev}, evs)
		must.Empty(t, b.claim(at(time.Hour), 10, "A", time.Minute), "a test is never claimed")

		failed := *d
		failed.ID, failed.State, failed.LastStatus = herald.NewID("dlv"), herald.StateFailed, 500
		fa := attempt(t0, 500, "")
		fa.DeliveryID, fa.Number = failed.ID, 1
		ev2 := *ev
		ev2.ID = herald.NewID("evt")
		failed.EventID = ev2.ID
		must.NoError(t, b.s.RecordTest(b.ctx, &ev2, &failed, fa))
		n, err := b.s.RecoverFailed(b.ctx, w.ID, time.Time{}, at(time.Hour))
		must.NoError(t, err)
		must.Zero(t, n, "a failed test send is not recovered")
		must.Equal(t, herald.StateFailed, b.delivery(failed.ID).State)

		ds, _, err := b.s.ListDeliveries(b.ctx, store.DeliveryFilter{WebhookID: w.ID, State: herald.StateSucceeded})
		must.NoError(t, err)
		must.Equal(t, []*herald.Delivery{d}, ds)
		st, err := b.s.WebhookStatus(b.ctx, w.ID)
		must.NoError(t, err)
		must.Len(t, st, 1)
		must.Equal(t, herald.EventTypeTest, st[0].EventType)
	},

	// Per event type, the latest attempted delivery (by attempt time).
	"WebhookStatus": func(t *testing.T, b *bundle) {
		w, other := b.webhook("p"), b.webhook("p")
		ax1, ax2, by, cz := b.event("a.x", "p"), b.event("a.x", "p"), b.event("b.y", "p"), b.event("c.z", "p")
		b.ingest(t0, []string{w.ID}, ax1, ax2, by, cz)
		b.ingest(t0, []string{other.ID}, b.event("a.x", "p"), b.event("d.d", "p"))
		byEvent := map[string]*store.Claimed{}
		for _, c := range b.claim(t0, 100, "A", time.Hour) {
			if c.Delivery.WebhookID == w.ID {
				byEvent[c.Event.ID] = c
				continue
			}
			b.complete(done(c, herald.StateSucceeded, 200, at(9*time.Minute), time.Time{}))
		}
		b.complete(
			done(byEvent[ax1.ID], herald.StateRetrying, 502, at(1*time.Minute), at(time.Hour)),
			done(byEvent[ax2.ID], herald.StateFailed, 500, at(2*time.Minute), time.Time{}),
			done(byEvent[by.ID], herald.StateRetrying, 0, at(3*time.Minute), at(time.Hour)),
			done(byEvent[cz.ID], herald.StatePending, -1, at(3*time.Minute), t0),
		)
		st, err := b.s.WebhookStatus(b.ctx, w.ID)
		must.NoError(t, err)
		must.Equal(t, []herald.EventTypeStatus{
			{EventType: "a.x", LastAttemptAt: at(2 * time.Minute), State: "failed", StatusCode: 500,
				Error: "failed with 500", DeliveryID: byEvent[ax2.ID].Delivery.ID},
			{EventType: "b.y", LastAttemptAt: at(3 * time.Minute), State: "retrying", StatusCode: 0,
				Error: "failed with 0", DeliveryID: byEvent[by.ID].Delivery.ID},
		}, st, "c.z was never attempted")

		// The older a.x delivery is attempted again later: it is now the latest.
		for _, c := range b.claim(at(time.Hour), 10, "B", time.Minute) {
			if c.Event.ID == ax1.ID {
				b.complete(done(c, herald.StateSucceeded, 200, at(time.Hour), time.Time{}))
			}
		}
		st, err = b.s.WebhookStatus(b.ctx, w.ID)
		must.NoError(t, err)
		must.Len(t, st, 2)
		must.Equal(t, herald.EventTypeStatus{EventType: "a.x", LastAttemptAt: at(time.Hour), State: "succeeded",
			StatusCode: 200, DeliveryID: byEvent[ax1.ID].Delivery.ID}, st[0])

		st, err = b.s.WebhookStatus(b.ctx, "wh_missing")
		must.NoError(t, err)
		must.Empty(t, st)
	},
}
