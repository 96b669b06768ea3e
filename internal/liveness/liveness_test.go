package liveness_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/liveness"
	"github.com/herald-hq/herald/internal/seal"
	"github.com/herald-hq/herald/internal/store"
	"github.com/herald-hq/herald/internal/store/sqlite"
)

const (
	every     = 50 * time.Millisecond
	deadAfter = 400 * time.Millisecond
)

type bundle struct {
	st  store.Store
	ctx context.Context
	ids map[string]string // lease token → delivery id
}

// setup returns a store with one delivery leased (for an hour, so expiry
// never frees it) under each token.
func setup(t *testing.T, tokens ...string) *bundle {
	t.Helper()
	key, _ := seal.ParseKey(seal.GenerateKey())
	box, _ := seal.New(key)
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(t.TempDir(), "h.db"), Box: box})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b := &bundle{st: st, ctx: t.Context(), ids: map[string]string{}}
	now := time.Now().UTC()
	w := &herald.Webhook{ID: herald.NewID("wh"), Name: "w", URL: "https://example.com", Enabled: true,
		Category: herald.CategoryEvents, EventTypes: []string{"*"}, Severity: herald.SeverityPresetAll,
		Language: "en", Format: herald.FormatStandard, Auth: herald.Auth{Type: herald.AuthNone},
		SigningSecret: "whsec_x", CreatedAt: now, UpdatedAt: now}
	if err := st.CreateWebhook(b.ctx, w); err != nil {
		t.Fatal(err)
	}
	for _, tok := range tokens {
		ev := &herald.Event{ID: herald.NewID("evt"), Type: "x", OccurredAt: now, ReceivedAt: now}
		res, err := st.Ingest(b.ctx, store.IngestParams{Items: []store.IngestItem{{Event: ev, WebhookIDs: []string{w.ID}}},
			Now: now, LeaseToken: tok, LeaseFor: time.Hour, LeaseLimit: 1})
		if err != nil || len(res.Claimed) != 1 {
			t.Fatalf("ingest leased to %s: %v %v", tok, res, err)
		}
		b.ids[tok] = res.Claimed[0].Delivery.ID
	}
	return b
}

// claimable returns the ids of the deliveries free to claim now (and
// claims them).
func (b *bundle) claimable(t *testing.T) []string {
	t.Helper()
	cs, err := b.st.ClaimDeliveries(b.ctx, store.ClaimParams{Now: time.Now().UTC(), Limit: 10, LeaseToken: "probe-1", LeaseFor: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range cs {
		out = append(out, c.Delivery.ID)
	}
	return out
}

func worker(t *testing.T, st liveness.Store, node string, log *slog.Logger) *liveness.Worker {
	t.Helper()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := liveness.New(liveness.Options{Store: st, Node: node, Every: every, DeadAfter: deadAfter, Logger: log})
	if err := w.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return w
}

// A node that stops beating has its deliveries released by a live node once
// its heartbeat is DeadAfter old, not before, and only its own.
func TestDeadNodeReleased(t *testing.T) {
	t.Parallel()
	b := setup(t, "node-a-1", "node-b-1")
	dead := worker(t, b.st, "node-b", nil)
	dead.Stop() // dies: no more heartbeats, leases left behind
	nodes, err := b.st.ListNodes(b.ctx)
	if err != nil || len(nodes) != 1 {
		t.Fatalf("nodes: %v %v", nodes, err)
	}
	lastBeat := nodes[0].HeartbeatAt
	worker(t, b.st, "node-a", nil)

	deadline := time.Now().Add(30 * time.Second)
	var got []string
	for len(got) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the dead node's delivery was never released")
		}
		time.Sleep(10 * time.Millisecond)
		got = b.claimable(t)
	}
	if since := time.Since(lastBeat); since < deadAfter {
		t.Errorf("released %v after the last heartbeat, before DeadAfter (%v)", since, deadAfter)
	}
	if len(got) != 1 || got[0] != b.ids["node-b-1"] {
		t.Fatalf("released %v, want only node-b's delivery %s", got, b.ids["node-b-1"])
	}
	nodes, _ = b.st.ListNodes(b.ctx)
	if len(nodes) != 1 || nodes[0].ID != "node-a" {
		t.Fatalf("liveness rows after the release: %+v, want node-a only", nodes)
	}
}

// Nodes that keep beating keep their deliveries.
func TestLiveNodesKeepTheirLeases(t *testing.T) {
	t.Parallel()
	b := setup(t, "a-1", "b-1", "c-1")
	for _, n := range []string{"a", "b", "c"} {
		worker(t, b.st, n, nil)
	}
	// Long enough for every worker to judge the others several times.
	end := time.Now().Add(4 * deadAfter)
	for time.Now().Before(end) {
		if got := b.claimable(t); len(got) > 0 {
			t.Fatalf("live nodes' deliveries released: %v", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	nodes, err := b.st.ListNodes(b.ctx)
	if err != nil || len(nodes) != 3 {
		t.Fatalf("nodes: %+v %v", nodes, err)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Two processes with one identity are reported.
func TestDuplicateNodeIDReported(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var buf syncBuffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	worker(t, b.st, "twin", log)
	worker(t, b.st, "twin", log)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(buf.String(), "another Herald process uses the same node_id") {
		if time.Now().After(deadline) {
			t.Fatalf("no warning; log:\n%s", buf.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type failing struct{}

func (failing) Heartbeat(context.Context, string, string, time.Time) (string, error) {
	return "", errors.New("database down")
}

func (failing) ReleaseDeadNodes(context.Context, time.Time, time.Time) ([]store.ReleasedNode, error) {
	return nil, errors.New("database down")
}

// A node that cannot write its heartbeat does not start.
func TestStartFailsWithoutDatabase(t *testing.T) {
	t.Parallel()
	w := liveness.New(liveness.Options{Store: failing{}, Node: "n"})
	if err := w.Start(t.Context()); err == nil || !strings.Contains(err.Error(), "database down") {
		t.Fatalf("Start: %v, want the store's error", err)
	}
	w.Stop() // harmless after a failed Start
	if err := liveness.New(liveness.Options{Store: failing{}}).Start(t.Context()); err == nil {
		t.Fatal("Start without a node id succeeded")
	}
}
