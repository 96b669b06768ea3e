package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

var nodeTests = map[string]func(t *testing.T, b *bundle){
	// ReleaseLeases frees exactly the rows leased by one node (tokens
	// node-<seq>), however similar other nodes' ids are, and leaves state,
	// attempts and due time alone: the rows are claimable at once, oldest
	// first, and the old holder's late result is fenced off.
	"ReleaseLeasesOfOneNode": func(t *testing.T, b *bundle) {
		w := b.webhook("p")
		var evs []*herald.Event
		for range 6 {
			evs = append(evs, b.event("x", "p"))
		}
		b.ingest(t0, []string{w.ID}, evs...)
		tokens := []string{"web-a-1", "web-a-2z", "web-a-b-1", "web-b-1", "w_b-a-1", "web%-1"}
		held := map[string]*store.Claimed{}
		for _, tok := range tokens {
			c := b.claimOne0(t0, tok, time.Minute)
			held[tok] = c
		}
		n, err := b.s.ReleaseLeases(b.ctx, "web-a", at(time.Second))
		must.NoError(t, err)
		must.Equal(t, 2, n, "web-a's two rows, not web-a-b's")
		again := b.claim(at(time.Second), 10, "other-1", time.Minute)
		must.Equal(t, []string{held["web-a-1"].Delivery.ID, held["web-a-2z"].Delivery.ID}, ids(again), "released rows, oldest first")
		for _, c := range again {
			must.Equal(t, herald.StatePending, c.Delivery.State)
			must.Zero(t, c.Delivery.Attempts)
			requireTime(t, t0, c.Delivery.NextAttemptAt)
		}
		applied := b.complete(done(held["web-a-1"], herald.StateSucceeded, 200, at(2*time.Second), time.Time{}))
		must.False(t, applied[0], "a released lease no longer completes")

		// Neither LIKE wildcard in a node id matches other nodes.
		n, err = b.s.ReleaseLeases(b.ctx, "w_b", at(time.Second))
		must.NoError(t, err)
		must.Equal(t, 0, n, "w_b holds nothing (w_b-a-1 is node w_b-a)")
		n, err = b.s.ReleaseLeases(b.ctx, "web%", at(time.Second))
		must.NoError(t, err)
		must.Equal(t, 1, n, "web% holds web%-1 only")
		n, err = b.s.ReleaseLeases(b.ctx, "web-a-b", at(time.Second))
		must.NoError(t, err)
		must.Equal(t, 1, n)
		got := b.claim(at(time.Second), 10, "other-2", time.Minute)
		must.ElementsMatch(t, []string{held["web%-1"].Delivery.ID, held["web-a-b-1"].Delivery.ID}, ids(got))
		must.Empty(t, b.claim(at(time.Second), 10, "other-3", time.Minute), "web-b's and w_b-a's leases hold")
	},

	// A retrying row keeps its attempts and next attempt when released; a
	// lease taken at ingest is released like a claimed one; expired leases
	// are not counted.
	"ReleaseKeepsSchedule": func(t *testing.T, b *bundle) {
		w := b.webhook("p")
		b.ingest(t0, []string{w.ID}, b.event("x", "p"))
		c := b.claimOne(t0, "n-1", time.Minute)
		b.complete(done(c, herald.StateRetrying, 503, at(time.Second), at(5*time.Minute)))
		c = b.claimOne(at(5*time.Minute), "n-2", time.Minute)
		res, err := b.s.Ingest(b.ctx, store.IngestParams{
			Items: []store.IngestItem{{Event: b.event("y", "p"), WebhookIDs: []string{w.ID}}},
			Now:   at(5 * time.Minute), LeaseToken: "n-3", LeaseFor: time.Minute, LeaseLimit: 10,
		})
		must.NoError(t, err)
		must.Len(t, res.Claimed, 1)
		b.ingest(at(5*time.Minute), []string{w.ID}, b.event("z", "p"))
		short := b.claimOne(at(5*time.Minute), "n-4", time.Second)

		n, err := b.s.ReleaseLeases(b.ctx, "n", at(5*time.Minute+2*time.Second))
		must.NoError(t, err)
		must.Equal(t, 2, n, "the claimed and the ingest-leased row; n-4's lease has expired")
		d := b.delivery(c.Delivery.ID)
		must.Equal(t, herald.StateRetrying, d.State)
		must.Equal(t, 1, d.Attempts)
		requireTime(t, at(5*time.Minute), d.NextAttemptAt)
		got := b.claim(at(5*time.Minute+2*time.Second), 10, "m-1", time.Minute)
		must.ElementsMatch(t, []string{c.Delivery.ID, res.Claimed[0].Delivery.ID, short.Delivery.ID}, ids(got))
	},

	// Node "" releases every lease.
	"ReleaseAll": func(t *testing.T, b *bundle) {
		w := b.webhook("p")
		b.ingest(t0, []string{w.ID}, b.event("x", "p"), b.event("y", "p"), b.event("z", "p"))
		b.claimOne0(t0, "a-1", time.Minute)
		b.claimOne0(t0, "b-1", time.Minute)
		b.claimOne0(t0, "legacy", time.Minute)
		n, err := b.s.ReleaseLeases(b.ctx, "", t0)
		must.NoError(t, err)
		must.Equal(t, 3, n)
		must.Len(t, b.claim(t0, 10, "c-1", time.Minute), 3)
	},

	// The liveness record: created on the first beat, moved on each, and
	// started afresh (reporting the previous process) by a new instance.
	"Heartbeat": func(t *testing.T, b *bundle) {
		prev, err := b.s.Heartbeat(b.ctx, "node-1", "i1", t0)
		must.NoError(t, err)
		must.Equal(t, "", prev)
		prev, err = b.s.Heartbeat(b.ctx, "node-1", "i1", at(2*time.Second))
		must.NoError(t, err)
		must.Equal(t, "i1", prev)
		_, err = b.s.Heartbeat(b.ctx, "node-2", "j1", at(time.Second))
		must.NoError(t, err)
		ns, err := b.s.ListNodes(b.ctx)
		must.NoError(t, err)
		must.Len(t, ns, 2)
		must.Equal(t, "node-1", ns[0].ID)
		must.Equal(t, "i1", ns[0].Instance)
		requireTime(t, t0, ns[0].StartedAt)
		requireTime(t, at(2*time.Second), ns[0].HeartbeatAt)

		prev, err = b.s.Heartbeat(b.ctx, "node-1", "i2", at(10*time.Second))
		must.NoError(t, err)
		must.Equal(t, "i1", prev, "a restart reports its predecessor")
		ns, err = b.s.ListNodes(b.ctx)
		must.NoError(t, err)
		must.Equal(t, "i2", ns[0].Instance)
		requireTime(t, at(10*time.Second), ns[0].StartedAt)

		_, err = b.s.Heartbeat(b.ctx, "", "x", t0)
		must.Error(t, err, "a node needs an id")
	},

	// Leases of nodes whose heartbeat stopped are released, once, and the
	// node's record goes; live nodes keep theirs.
	"ReleaseDeadNodes": func(t *testing.T, b *bundle) {
		w := b.webhook("p")
		b.ingest(t0, []string{w.ID}, b.event("x", "p"), b.event("y", "p"), b.event("z", "p"))
		for _, n := range []string{"dead", "live"} {
			_, err := b.s.Heartbeat(b.ctx, n, n+"-instance", t0)
			must.NoError(t, err)
		}
		d1 := b.claimOne0(t0, "dead-1", time.Minute)
		d2 := b.claimOne0(t0, "dead-2", time.Minute)
		b.claimOne0(t0, "live-1", time.Minute)
		_, err := b.s.Heartbeat(b.ctx, "live", "live-instance", at(12*time.Second))
		must.NoError(t, err)

		rel, err := b.s.ReleaseDeadNodes(b.ctx, at(5*time.Second), at(15*time.Second))
		must.NoError(t, err)
		must.Len(t, rel, 1)
		must.Equal(t, "dead", rel[0].ID)
		must.Equal(t, 2, rel[0].Leases)
		requireTime(t, t0, rel[0].LastHeartbeat)
		got := b.claim(at(15*time.Second), 10, "live-2", time.Minute)
		must.Equal(t, []string{d1.Delivery.ID, d2.Delivery.ID}, ids(got))

		ns, err := b.s.ListNodes(b.ctx)
		must.NoError(t, err)
		must.Len(t, ns, 1)
		must.Equal(t, "live", ns[0].ID)
		rel, err = b.s.ReleaseDeadNodes(b.ctx, at(5*time.Second), at(15*time.Second))
		must.NoError(t, err)
		must.Empty(t, rel, "released once")
	},

	// Several live nodes looking for dead ones at once release each dead
	// node once between them.
	"ReleaseDeadNodesConcurrently": func(t *testing.T, b *bundle) {
		w := b.webhook("p")
		const dead = 6
		for i := range dead {
			node := b.uniq("dead")
			_, err := b.s.Heartbeat(b.ctx, node, "x", t0)
			must.NoError(t, err)
			b.ingest(t0, []string{w.ID}, b.event("x", "p"))
			b.claimOne0(t0, node+"-"+string(rune('a'+i)), time.Minute)
		}
		var mu sync.Mutex
		seen := map[string]int{}
		leases := 0
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rel, err := b.s.ReleaseDeadNodes(b.ctx, at(10*time.Second), at(11*time.Second))
				if !expect.NoError(t, err) {
					return
				}
				mu.Lock()
				defer mu.Unlock()
				for _, r := range rel {
					seen[r.ID]++
					leases += r.Leases
				}
			}()
		}
		wg.Wait()
		must.Len(t, seen, dead)
		for id, n := range seen {
			must.Equal(t, 1, n, "node %s released %d times", id, n)
		}
		must.Equal(t, dead, leases)
	},
}

// claimOne0 claims the oldest due delivery alone.
func (b *bundle) claimOne0(now time.Time, token string, lease time.Duration) *store.Claimed {
	b.t.Helper()
	cs := b.claim(now, 1, token, lease)
	must.Len(b.t, cs, 1)
	return cs[0]
}
