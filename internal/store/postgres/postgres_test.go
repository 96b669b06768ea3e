package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/seal"
	"github.com/herald-hq/herald/internal/store"
	"github.com/herald-hq/herald/internal/store/storetest"
	"github.com/herald-hq/herald/internal/testenv"
)

// The tests run against a real PostgreSQL: HERALD_TEST_DATABASE_URL, or the
// local server of `make test` (127.0.0.1:5432, trust auth, database "test";
// as role postgres, else as root). Each test gets a fresh schema, dropped
// when it ends, so parallel tests and parallel runs never see each other.
func testBox(tb testing.TB) *seal.Box {
	tb.Helper()
	key, err := seal.ParseKey(seal.GenerateKey())
	noErr(tb, err)
	box, err := seal.New(key)
	noErr(tb, err)
	return box
}

// openTest opens a store; a missing Schema gets a fresh one. MaxConns
// defaults to 4 so that many parallel tests stay within max_connections.
func openTest(tb testing.TB, o Options) *Store {
	tb.Helper()
	if o.DSN == "" {
		o.DSN = testenv.PostgresDSN(tb)
	}
	if o.Schema == "" {
		o.Schema = testenv.PostgresSchema(tb, "herald_test_")
	}
	if o.Box == nil {
		o.Box = testBox(tb)
	}
	if o.MaxConns == 0 {
		o.MaxConns = 4
	}
	s, err := Open(context.Background(), o)
	noErr(tb, err, "open")
	tb.Cleanup(func() { s.Close() })
	return s
}

// A few checks on the standard testing package, as the sqlite tests do.
func noErr(tb testing.TB, err error, what ...any) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("%s: unexpected error: %v", fmt.Sprint(what...), err)
	}
}

func check(tb testing.TB, ok bool, format string, args ...any) {
	tb.Helper()
	if !ok {
		tb.Fatalf(format, args...)
	}
}

func TestStore(t *testing.T) {
	t.Parallel()
	testenv.PostgresDSN(t)
	storetest.Run(t, func(t *testing.T) store.Store { return openTest(t, Options{}) })
}

func TestOpenRequires(t *testing.T) {
	t.Parallel()
	_, err := Open(t.Context(), Options{Box: testBox(t)})
	check(t, err != nil && strings.Contains(err.Error(), "DSN"), "no DSN: %v", err)
	_, err = Open(t.Context(), Options{DSN: "postgres://127.0.0.1/x"})
	check(t, err != nil && strings.Contains(err.Error(), "Box"), "no Box: %v", err)
}

// Only aborts that a fresh try can get past are retried.
func TestRetryable(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]bool{"40P01": true, "40001": true, "23505": false, "57014": false} {
		err := fmt.Errorf("postgres: op: %w", &pgconn.PgError{Code: code})
		check(t, retryable(err) == want, "%s: retryable %v", code, !want)
	}
	check(t, !retryable(context.Canceled), "context.Canceled is not retried")
}

// Nodes starting together on an empty schema: the advisory lock lets one
// migrate while the others wait, and all of them open.
func TestConcurrentOpen(t *testing.T) {
	t.Parallel()
	schema := testenv.PostgresSchema(t, "herald_test_")
	box := testBox(t)
	const nodes = 4
	var wg sync.WaitGroup
	stores := make([]*Store, nodes)
	errs := make([]error, nodes)
	for i := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = Open(t.Context(), Options{DSN: testenv.PostgresDSN(t), Box: box, Schema: schema, MaxConns: 2})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		noErr(t, err, "node ", i)
		defer stores[i].Close()
	}
	var n int
	entries, _ := migrations.ReadDir("migrations")
	noErr(t, stores[0].db.QueryRow(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&n))
	check(t, n == len(entries), "schema_migrations has %d rows, want %d (each migration once)", n, len(entries))

	// Reopening applies nothing; a schema from a newer Herald is refused.
	again := openTest(t, Options{Schema: schema, Box: box})
	noErr(t, again.db.QueryRow(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&n))
	check(t, n == len(entries), "reopen: %d rows", n)
	_, err := again.db.Exec(t.Context(), `INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_future.sql')`)
	noErr(t, err)
	_, err = Open(t.Context(), Options{DSN: testenv.PostgresDSN(t), Box: box, Schema: schema})
	check(t, err != nil && strings.Contains(err.Error(), "newer"), "newer schema: %v", err)
}

// Webhooks stored before migration 0002 retry 4xx answers, as they did.
func TestRetryClientErrorsMigration(t *testing.T) {
	t.Parallel()
	schema, box := testenv.PostgresSchema(t, "herald_test_"), testBox(t)
	s := openTest(t, Options{Schema: schema, Box: box})
	w := &herald.Webhook{ID: herald.NewID("wh"), Name: "old", URL: "https://example.com", SigningSecret: "whsec_x"}
	noErr(t, s.CreateWebhook(t.Context(), w))
	// Back to the schema before 0002, with the row in it.
	_, err := s.db.Exec(t.Context(), `ALTER TABLE webhooks DROP COLUMN retry_client_errors`)
	noErr(t, err)
	_, err = s.db.Exec(t.Context(), `DELETE FROM schema_migrations WHERE version = 2`)
	noErr(t, err)
	noErr(t, s.Close())

	again := openTest(t, Options{Schema: schema, Box: box})
	got, err := again.GetWebhook(t.Context(), w.ID)
	noErr(t, err)
	check(t, got.RetryClientErrors, "an existing webhook has retry_client_errors false after the migration")
}

// Webhooks stored before migration 0011 send the Standard Webhooks headers,
// as they did.
func TestStandardHeadersMigration(t *testing.T) {
	t.Parallel()
	schema, box := testenv.PostgresSchema(t, "herald_test_"), testBox(t)
	s := openTest(t, Options{Schema: schema, Box: box})
	w := &herald.Webhook{ID: herald.NewID("wh"), Name: "old", URL: "https://example.com", SigningSecret: "whsec_x"}
	noErr(t, s.CreateWebhook(t.Context(), w))
	// Back to the schema before 0011, with the row in it.
	_, err := s.db.Exec(t.Context(), `ALTER TABLE webhooks DROP COLUMN standard_headers`)
	noErr(t, err)
	_, err = s.db.Exec(t.Context(), `DELETE FROM schema_migrations WHERE version = 11`)
	noErr(t, err)
	noErr(t, s.Close())

	again := openTest(t, Options{Schema: schema, Box: box})
	got, err := again.GetWebhook(t.Context(), w.ID)
	noErr(t, err)
	check(t, got.StandardHeaders, "an existing webhook has standard_headers false after the migration")
}

// No planted secret is readable in any table, as text, even after Reseal.
func TestSecretsSealedAtRest(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := testenv.PostgresSchema(t, "herald_test_")
	s := openTest(t, Options{Schema: schema})
	secrets := map[string]string{}
	plant := func(name string) herald.Secret {
		v := "planted-" + name + "-" + herald.NewID("")
		secrets[name] = v
		return herald.Secret(v)
	}
	w := &herald.Webhook{
		ID: herald.NewID("wh"), Name: "leaky", Project: "p", URL: "https://example.com/hook", Enabled: true,
		Auth: herald.Auth{Type: herald.AuthMTLS, Username: "bob", Password: plant("password"), Token: plant("token"),
			HeaderName: "Authorization", HeaderValue: plant("header"), CertPEM: "cert", KeyPEM: plant("key")},
		ChallengeSecret: plant("challenge"), SigningSecret: plant("signing"), PreviousSecret: plant("previous"),
		PreviousSecretUntil: time.Now().Add(time.Hour), CreatedAt: time.Now(), UpdatedAt: time.Now(),
	}
	noErr(t, s.CreateWebhook(ctx, w))
	w.Auth.Password = plant("updated")
	noErr(t, s.UpdateWebhook(ctx, w))
	got, err := s.GetWebhook(ctx, w.ID)
	noErr(t, err)
	check(t, got.Auth.Password.Reveal() == secrets["updated"], "secrets read back")
	// The rest of the schema has rows too, so that every table is looked at.
	res, err := s.Ingest(ctx, store.IngestParams{Now: time.Now(), Items: []store.IngestItem{{
		Event: &herald.Event{Type: "x", Project: "p", Data: json.RawMessage(`{}`)}, WebhookIDs: []string{w.ID}}}})
	noErr(t, err)
	check(t, res.Items[0].Deliveries == 1, "ingest: %+v", res.Items)

	scan := func(when string) {
		t.Helper()
		rows, err := s.db.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, schema)
		noErr(t, err)
		tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
		noErr(t, err)
		check(t, len(tables) >= 8, "tables: %v", tables)
		for _, table := range tables {
			rows, err := s.db.Query(ctx, `SELECT t::text FROM `+pgx.Identifier{table}.Sanitize()+` t`)
			noErr(t, err)
			texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
			noErr(t, err)
			for _, text := range texts {
				for name, v := range secrets {
					check(t, !strings.Contains(text, v), "%s: the %s secret is in clear in table %s: %s", when, name, table, text)
				}
				if table == "webhooks" {
					check(t, !strings.Contains(text, "password"), "%s: the auth column names the secrets: %s", when, text)
				}
			}
		}
	}
	scan("after create and update")
	n, err := s.Reseal(ctx, testBox(t))
	noErr(t, err)
	check(t, n == 1, "resealed %d", n)
	scan("after reseal")
	got, err = s.GetWebhook(ctx, w.ID)
	noErr(t, err)
	check(t, got.SigningSecret.Reveal() == secrets["signing"], "readable with the new key")
}

// Two stores on one schema are two nodes: claiming at once, they never lease
// the same row while its lease runs, and every delivery is completed once.
// Then one node dies holding leases: the other gets the rows when the leases
// expire, and the dead node's late results are fenced off.
func TestTwoNodes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := testenv.PostgresSchema(t, "herald_test_")
	nodes := []*Store{openTest(t, Options{Schema: schema}), openTest(t, Options{Schema: schema})}
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var hooks []string
	for i := range 5 {
		w := &herald.Webhook{ID: herald.NewID("wh"), Name: fmt.Sprint("hook", i), URL: "https://example.com",
			Enabled: true, CreatedAt: t0, UpdatedAt: t0}
		noErr(t, nodes[0].CreateWebhook(ctx, w))
		hooks = append(hooks, w.ID)
	}
	const batches, perBatch = 20, 10
	total := 2 * batches * perBatch * len(hooks)

	var (
		owner     sync.Map // delivery id → token
		completed atomic.Int64
		tokens    atomic.Int64
		ingesting sync.WaitGroup
		claiming  sync.WaitGroup
	)
	stop := make(chan struct{})
	for n, s := range nodes {
		ingesting.Add(1)
		go func() { // each node ingests its share
			defer ingesting.Done()
			for range batches {
				items := make([]store.IngestItem, perBatch)
				for k := range items {
					items[k] = store.IngestItem{Event: &herald.Event{Type: "t", Project: "p"}, WebhookIDs: hooks}
				}
				if _, err := s.Ingest(ctx, store.IngestParams{Items: items, Now: t0}); err != nil {
					t.Errorf("node %d: ingest: %v", n, err)
					return
				}
			}
		}()
		for range 3 {
			claiming.Add(1)
			go func() {
				defer claiming.Done()
				for {
					token := fmt.Sprintf("node%d-%d", n, tokens.Add(1))
					cs, err := s.ClaimDeliveries(ctx, store.ClaimParams{
						Now: t0.Add(time.Second), Limit: 16, LeaseToken: token, LeaseFor: time.Hour,
					})
					if err != nil {
						t.Errorf("node %d: claim: %v", n, err)
						return
					}
					comps := make([]store.Completion, len(cs))
					for i, c := range cs {
						if prev, dup := owner.LoadOrStore(c.Delivery.ID, token); dup {
							t.Errorf("delivery %s leased twice while leased: %v and %s", c.Delivery.ID, prev, token)
						}
						comps[i] = store.Completion{DeliveryID: c.Delivery.ID, WebhookID: c.Delivery.WebhookID,
							LeaseToken: token, State: herald.StateSucceeded, Now: t0.Add(2 * time.Second),
							Attempt: &herald.Attempt{StartedAt: t0.Add(time.Second), StatusCode: 200}}
					}
					if len(cs) > 0 {
						applied, err := s.CompleteDeliveries(ctx, comps)
						if err != nil {
							t.Errorf("node %d: complete: %v", n, err)
							return
						}
						for i, ok := range applied {
							if !ok {
								t.Errorf("completion of %s under its own lease did not apply", cs[i].Delivery.ID)
							}
						}
						completed.Add(int64(len(cs)))
						continue
					}
					select {
					case <-stop:
						return
					case <-time.After(time.Millisecond):
					}
				}
			}()
		}
	}
	ingesting.Wait()
	close(stop)
	claiming.Wait()
	check(t, completed.Load() == int64(total), "completed %d of %d", completed.Load(), total)
	n, err := nodes[1].CountDeliveries(ctx, herald.StateSucceeded)
	noErr(t, err)
	check(t, n == total, "succeeded: %d of %d", n, total)

	// Failover: node 0 claims with a 30s lease and dies.
	_, err = nodes[1].Ingest(ctx, store.IngestParams{Now: t0.Add(time.Minute), Items: []store.IngestItem{
		{Event: &herald.Event{Type: "t", Project: "p"}, WebhookIDs: hooks},
		{Event: &herald.Event{Type: "t", Project: "p"}, WebhookIDs: hooks},
	}})
	noErr(t, err)
	dead, err := nodes[0].ClaimDeliveries(ctx, store.ClaimParams{Now: t0.Add(time.Minute), Limit: 100,
		LeaseToken: "dead", LeaseFor: 30 * time.Second})
	noErr(t, err)
	check(t, len(dead) == 10, "the dying node claimed %d", len(dead))
	early, err := nodes[1].ClaimDeliveries(ctx, store.ClaimParams{Now: t0.Add(89 * time.Second), Limit: 100,
		LeaseToken: "early", LeaseFor: time.Minute})
	noErr(t, err)
	check(t, len(early) == 0, "claimed %d rows under a live lease", len(early))
	next, ok, err := nodes[1].NextDue(ctx)
	noErr(t, err)
	check(t, ok && next.Equal(t0.Add(90*time.Second)), "next due %v %v: the lease's end", next, ok)
	rescued, err := nodes[1].ClaimDeliveries(ctx, store.ClaimParams{Now: t0.Add(91 * time.Second), Limit: 100,
		LeaseToken: "rescue", LeaseFor: time.Minute})
	noErr(t, err)
	check(t, len(rescued) == len(dead), "rescued %d of %d", len(rescued), len(dead))
	for i := range dead {
		check(t, dead[i].Delivery.ID == rescued[i].Delivery.ID, "rescued in the same order")
	}
	late := make([]store.Completion, len(dead))
	for i, c := range dead {
		late[i] = store.Completion{DeliveryID: c.Delivery.ID, WebhookID: c.Delivery.WebhookID, LeaseToken: "dead",
			State: herald.StateFailed, Now: t0.Add(92 * time.Second),
			Attempt: &herald.Attempt{StartedAt: t0.Add(time.Minute), StatusCode: 500}}
	}
	applied, err := nodes[0].CompleteDeliveries(ctx, late)
	noErr(t, err)
	for i, ok := range applied {
		check(t, !ok, "the dead node's late result %d applied", i)
	}
	for _, c := range rescued {
		as, err := nodes[1].ListAttempts(ctx, c.Delivery.ID)
		noErr(t, err)
		check(t, len(as) == 0, "a fenced attempt was recorded")
	}
}

// An ordered webhook has one delivery in flight at a time, in event order,
// while two nodes claim from the same schema at once.
func TestOrderedAcrossNodes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	schema := testenv.PostgresSchema(t, "herald_test_")
	nodes := []*Store{openTest(t, Options{Schema: schema}), openTest(t, Options{Schema: schema})}
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ordered := &herald.Webhook{ID: herald.NewID("wh"), Name: "ordered", URL: "https://example.com", Enabled: true,
		Ordered: true, CreatedAt: t0, UpdatedAt: t0}
	free := &herald.Webhook{ID: herald.NewID("wh"), Name: "free", URL: "https://example.com", Enabled: true,
		CreatedAt: t0, UpdatedAt: t0}
	noErr(t, nodes[0].CreateWebhook(ctx, ordered))
	noErr(t, nodes[0].CreateWebhook(ctx, free))
	const events = 30
	var items []store.IngestItem
	for range events {
		items = append(items, store.IngestItem{Event: &herald.Event{Type: "t", Project: "p"},
			WebhookIDs: []string{ordered.ID, free.ID}})
	}
	res, err := nodes[1].Ingest(ctx, store.IngestParams{Items: items, Now: t0})
	noErr(t, err)

	var (
		mu       sync.Mutex
		inFlight int
		got      []string // event ids of the ordered webhook, in completion order
		tokens   atomic.Int64
		done     atomic.Int64 // deliveries completed, of both webhooks
		wg       sync.WaitGroup
	)
	// The claimers stop once every delivery is completed, or at the deadline
	// (a row that can never be claimed again would fail the count below).
	deadline := time.Now().Add(60 * time.Second)
	for n, s := range nodes {
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for done.Load() < 2*events && time.Now().Before(deadline) {
					token := fmt.Sprintf("node%d-%d", n, tokens.Add(1))
					cs, err := s.ClaimDeliveries(ctx, store.ClaimParams{Now: t0, Limit: 4, LeaseToken: token, LeaseFor: time.Hour})
					if err != nil {
						t.Errorf("claim: %v", err)
						return
					}
					if len(cs) == 0 {
						time.Sleep(time.Millisecond) // poll: another claimer holds the ordered head
						continue
					}
					comps := make([]store.Completion, len(cs))
					for i, c := range cs {
						if c.Delivery.WebhookID == ordered.ID {
							mu.Lock()
							inFlight++
							if inFlight > 1 {
								t.Errorf("%d deliveries of the ordered webhook in flight", inFlight)
							}
							mu.Unlock()
						}
						comps[i] = store.Completion{DeliveryID: c.Delivery.ID, WebhookID: c.Delivery.WebhookID,
							LeaseToken: token, State: herald.StateSucceeded, Now: t0,
							Attempt: &herald.Attempt{StartedAt: t0, StatusCode: 200}}
					}
					time.Sleep(time.Millisecond) // the request
					// Counted out before the result is stored: the next can only
					// be claimed once it is committed, after this.
					mu.Lock()
					for _, c := range cs {
						if c.Delivery.WebhookID == ordered.ID {
							got = append(got, c.Event.ID)
							inFlight--
						}
					}
					mu.Unlock()
					if _, err := s.CompleteDeliveries(ctx, comps); err != nil {
						t.Errorf("complete: %v", err)
						return
					}
					done.Add(int64(len(cs)))
				}
			}()
		}
	}
	wg.Wait()
	check(t, done.Load() == 2*events, "completed %d of %d deliveries before the deadline", done.Load(), 2*events)
	check(t, len(got) == events, "the ordered webhook got %d of %d", len(got), events)
	for i, r := range res.Items {
		check(t, got[i] == r.EventID, "position %d: got %s, want %s", i, got[i], r.EventID)
	}
}

// Events that matched no webhook are pruned too, once past retention.
func TestPruneOrphanEvents(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openTest(t, Options{})
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	old := &herald.Event{Type: "x", Project: "p"}
	recent := &herald.Event{Type: "x", Project: "p"}
	_, err := s.Ingest(ctx, store.IngestParams{Now: t0, Items: []store.IngestItem{{Event: old}}})
	noErr(t, err)
	_, err = s.Ingest(ctx, store.IngestParams{Now: t0.Add(2 * time.Hour), Items: []store.IngestItem{{Event: recent}}})
	noErr(t, err)
	n, err := s.Prune(ctx, t0.Add(time.Hour), 10)
	noErr(t, err)
	check(t, n == 1, "the one old orphan event, got %d", n)
	evs, err := s.FindEvents(ctx, old.ID)
	noErr(t, err)
	check(t, len(evs) == 0, "the old event was not pruned")
	evs, err = s.FindEvents(ctx, recent.ID)
	noErr(t, err)
	check(t, len(evs) == 1, "the recent event was pruned")
}

// While one node prunes, another's Prune returns at once having done nothing.
func TestPruneOneNodeAtATime(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openTest(t, Options{})
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	w := &herald.Webhook{ID: herald.NewID("wh"), Name: "w", URL: "https://example.com", Enabled: true, CreatedAt: t0, UpdatedAt: t0}
	noErr(t, s.CreateWebhook(ctx, w))
	_, err := s.Ingest(ctx, store.IngestParams{Now: t0, Items: []store.IngestItem{{Event: &herald.Event{Type: "x"}, WebhookIDs: []string{w.ID}}}})
	noErr(t, err)
	cs, err := s.ClaimDeliveries(ctx, store.ClaimParams{Now: t0, Limit: 1, LeaseToken: "A", LeaseFor: time.Minute})
	noErr(t, err)
	_, err = s.CompleteDeliveries(ctx, []store.Completion{{DeliveryID: cs[0].Delivery.ID, LeaseToken: "A",
		State: herald.StateCancelled, Now: t0}})
	noErr(t, err)

	other, err := s.db.Begin(ctx) // the other node, pruning
	noErr(t, err)
	defer other.Rollback(ctx)
	_, err = other.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext('prune ' || current_schema()))`, int32(lockClass))
	noErr(t, err)
	n, err := s.Prune(ctx, t0.Add(time.Hour), 10)
	noErr(t, err)
	check(t, n == 0, "pruned %d while another node prunes", n)
	noErr(t, other.Rollback(ctx))
	n, err = s.Prune(ctx, t0.Add(time.Hour), 10)
	noErr(t, err)
	check(t, n == 2, "pruned %d rows once the other is done, want the delivery and its event", n)
}

func TestRequestParts(t *testing.T) {
	t.Parallel()
	testenv.PostgresDSN(t)
	storetest.RequestParts(t, func(t *testing.T) store.Store { return openTest(t, Options{}) },
		func(s store.Store, table string) int {
			var n int
			if err := s.(*Store).db.QueryRow(t.Context(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		})
}

// A claim changes no indexed column (the lease is not in deliveries_due,
// and pages keep room: fillfactor 50), so its row versions are HOT updates:
// no new index entries. (Before migration 0015 none was.) The statistics arrive asynchronously: wait for them
// with a deadline.
func TestClaimIsHOTUpdate(t *testing.T) {
	t.Parallel()
	s := openTest(t, Options{})
	ctx := t.Context()
	now := time.Now().UTC()
	w := &herald.Webhook{ID: herald.NewID("wh"), Name: "hot", URL: "https://example.com", Enabled: true,
		Category: herald.CategoryEvents, EventTypes: []string{"*"}, SigningSecret: "whsec_x", CreatedAt: now, UpdatedAt: now}
	noErr(t, s.CreateWebhook(ctx, w))
	const n = 40
	items := make([]store.IngestItem, n)
	for i := range items {
		items[i] = store.IngestItem{WebhookIDs: []string{w.ID}, Event: &herald.Event{ID: herald.NewID("evt"), Type: "x",
			Data: json.RawMessage(`{"pad":"` + strings.Repeat("x", 200) + `"}`), OccurredAt: now, ReceivedAt: now}}
	}
	_, err := s.Ingest(ctx, store.IngestParams{Items: items, Now: now})
	noErr(t, err)
	cs, err := s.ClaimDeliveries(ctx, store.ClaimParams{Now: now, Limit: n, LeaseToken: "hot-1", LeaseFor: time.Minute})
	noErr(t, err)
	check(t, len(cs) == n, "claimed %d of %d", len(cs), n)
	deadline := time.Now().Add(20 * time.Second)
	var hot, upd int64
	for {
		noErr(t, s.db.QueryRow(ctx, `SELECT n_tup_hot_upd, n_tup_upd FROM pg_stat_user_tables
			WHERE relname = 'deliveries' AND schemaname = current_schema()`).Scan(&hot, &upd))
		if upd >= n || time.Now().After(deadline) {
			break
		}
		_, err := s.db.Exec(ctx, `SELECT pg_stat_clear_snapshot()`)
		noErr(t, err)
		time.Sleep(100 * time.Millisecond) // polling the statistics view, bounded by the deadline
	}
	check(t, upd >= n, "the statistics never showed the %d updates (saw %d)", n, upd)
	// Nearly all: a row whose page filled up (the last rows of a page can
	// take its room) is updated across pages.
	check(t, hot*10 >= upd*9, "%d of %d claim updates were HOT; at least nine in ten should be", hot, upd)
}
