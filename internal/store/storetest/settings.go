package storetest

import (
	"testing"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

var settingsTests = map[string]func(t *testing.T, b *bundle){
	"Defaults": func(t *testing.T, b *bundle) {
		s, err := b.s.GetSettings(b.ctx)
		must.NoError(t, err)
		must.Equal(t, herald.Settings{WebhooksEnabled: true, HTTPSOnly: false}, s)
	},

	"RoundTrip": func(t *testing.T, b *bundle) {
		for _, want := range []herald.Settings{
			{WebhooksEnabled: false, HTTPSOnly: true},
			{WebhooksEnabled: true, HTTPSOnly: true},
			{WebhooksEnabled: true, HTTPSOnly: false},
		} {
			must.NoError(t, b.s.UpdateSettings(b.ctx, want, t0))
			got, err := b.s.GetSettings(b.ctx)
			must.NoError(t, err)
			must.Equal(t, want, got)
		}
	},

	// Switching off holds what is waiting, nothing is claimed or leased
	// while off, a live lease finishes into held, and switching on releases
	// everything: pending without attempts, retrying with, due at once.
	"HoldAndRelease": func(t *testing.T, b *bundle) {
		w1, w2 := b.webhook("p"), b.webhook("p")
		b.ingest(t0, []string{w1.ID, w2.ID}, b.event("image.push", "p"))
		leased := b.claim(t0, 1, "L", time.Minute)
		must.Len(t, leased, 1)

		b.settings(false, at(time.Second))
		got, err := b.s.GetSettings(b.ctx)
		must.NoError(t, err)
		must.False(t, got.WebhooksEnabled)
		must.Equal(t, 1, b.count(herald.StateHeld), "the unleased delivery is held")
		must.Equal(t, herald.StatePending, b.delivery(leased[0].Delivery.ID).State, "a live lease is left alone")

		must.Empty(t, b.claim(at(2*time.Second), 10, "X", time.Minute), "nothing is claimed while off")
		must.Empty(t, b.claim(at(time.Hour), 10, "X", time.Minute), "not even an expired lease")
		_, ok, err := b.s.NextDue(b.ctx)
		must.NoError(t, err)
		must.False(t, ok, "nothing is due while off")

		ev := b.event("image.push", "p")
		res, err := b.s.Ingest(b.ctx, store.IngestParams{
			Items: []store.IngestItem{{Event: ev, WebhookIDs: []string{w1.ID}}},
			Now:   at(3 * time.Second), LeaseToken: "I", LeaseFor: time.Minute, LeaseLimit: 10,
		})
		must.NoError(t, err)
		must.Equal(t, 1, res.Items[0].Deliveries)
		must.Empty(t, res.Claimed, "held deliveries are never leased")
		must.Equal(t, 2, b.count(herald.StateHeld), "new deliveries are held while off")

		applied := b.complete(done(leased[0], herald.StateRetrying, 503, at(4*time.Second), at(10*time.Minute)))
		must.Equal(t, []bool{true}, applied)
		d := b.delivery(leased[0].Delivery.ID)
		must.Equal(t, herald.StateHeld, d.State, "a retrying result while off becomes held")
		must.Equal(t, 1, d.Attempts)
		must.Equal(t, 3, b.count(herald.StateHeld))

		b.settings(true, at(time.Minute))
		must.Zero(t, b.count(herald.StateHeld))
		must.Equal(t, 2, b.count(herald.StatePending))
		must.Equal(t, 1, b.count(herald.StateRetrying))
		d = b.delivery(leased[0].Delivery.ID)
		must.Equal(t, herald.StateRetrying, d.State)
		requireTime(t, at(time.Minute), d.NextAttemptAt, "released rows are due at once")
		requireTime(t, at(time.Minute), d.UpdatedAt)

		cs := b.claim(at(time.Minute), 10, "A", time.Minute)
		must.Len(t, cs, 3)
	},

	// A lease that has expired when the switch goes off is not a lease: the
	// row is held, and the late holder's result is fenced off.
	"OffHoldsExpiredLeases": func(t *testing.T, b *bundle) {
		w := b.webhook("p")
		b.ingest(t0, []string{w.ID}, b.event("image.push", "p"))
		c := b.claimOne(t0, "L", 10*time.Second)
		b.settings(false, at(time.Minute))
		must.Equal(t, herald.StateHeld, b.delivery(c.Delivery.ID).State)
		must.Equal(t, []bool{false}, b.complete(done(c, herald.StateSucceeded, 200, at(2*time.Minute), time.Time{})))
		must.Equal(t, herald.StateHeld, b.delivery(c.Delivery.ID).State)
		b.settings(true, at(3*time.Minute))
		d := b.delivery(c.Delivery.ID)
		must.Equal(t, herald.StatePending, d.State, "no attempt was recorded: pending")
		must.Zero(t, d.Attempts)
	},
}

var tokenTests = map[string]func(t *testing.T, b *bundle){
	"CRUD": func(t *testing.T, b *bundle) {
		t1 := &herald.Token{ID: herald.NewID("tok"), Name: "ci", Role: herald.RolePublisher,
			Projects: []string{"p1", "p2"}, Hash: "hash-1", CreatedAt: t0}
		t2 := &herald.Token{ID: herald.NewID("tok"), Name: "admin", Role: herald.RolePlatformAdmin,
			Projects: []string{}, Hash: "hash-2", CreatedAt: at(time.Second)}
		must.NoError(t, b.s.CreateToken(b.ctx, t1))
		must.NoError(t, b.s.CreateToken(b.ctx, t2))

		got, err := b.s.TokenByHash(b.ctx, "hash-1")
		must.NoError(t, err)
		must.Equal(t, t1, got)
		requireTime(t, t1.CreatedAt, got.CreatedAt)

		_, err = b.s.TokenByHash(b.ctx, "nope")
		requireCode(t, err, herald.ENotFound)

		list, err := b.s.ListTokens(b.ctx)
		must.NoError(t, err)
		must.Equal(t, []*herald.Token{t1, t2}, list, "oldest first")

		dup := *t1
		dup.ID = herald.NewID("tok")
		requireCode(t, b.s.CreateToken(b.ctx, &dup), herald.EConflict)

		must.NoError(t, b.s.DeleteToken(b.ctx, t1.ID))
		_, err = b.s.TokenByHash(b.ctx, "hash-1")
		requireCode(t, err, herald.ENotFound)
		requireCode(t, b.s.DeleteToken(b.ctx, t1.ID), herald.ENotFound)
		list, err = b.s.ListTokens(b.ctx)
		must.NoError(t, err)
		must.Equal(t, []*herald.Token{t2}, list)
	},
}
