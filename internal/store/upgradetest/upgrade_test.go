package upgradetest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/app"
	"github.com/herald-hq/herald/internal/config"
	"github.com/herald-hq/herald/internal/store"
)

// migrations lists schema_migrations, to see that a second open changes nothing.
const migrationsSQL = `SELECT count(*) * 1000000 + sum(version) FROM schema_migrations`

func openOK(t *testing.T, d db) store.Store {
	t.Helper()
	st, err := d.open(t)
	if err != nil {
		t.Fatalf("open the fixture: %v", err)
	}
	return st
}

// TestOpenFixture: the store migrates the fixture to its newest schema and
// reads back what the release at 0012 wrote, secrets opened with the
// fixture's key; opening it again changes nothing.
func TestOpenFixture(t *testing.T) {
	t.Parallel()
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			d := s.load(t)
			st := openOK(t, d)
			rb := matchGolden(t, st, s.name)
			checkStatus(t, st, rb)
			st.Close()
			newest := d.newest(t)
			if got := d.queryInt(t, `SELECT max(version) FROM schema_migrations`); got != newest {
				t.Fatalf("schema version %d after open, want %d", got, newest)
			}
			before := d.queryInt(t, migrationsSQL)
			above := `SELECT count(*) FROM schema_migrations WHERE version > ` + strconv.Itoa(s.from)
			applied := d.queryInt(t, above)

			st = openOK(t, d)
			defer st.Close()
			if got := d.queryInt(t, migrationsSQL); got != before {
				t.Fatalf("second open changed schema_migrations: %d, was %d", got, before)
			}
			if got := d.queryInt(t, above); got != applied {
				t.Fatalf("second open applied migrations: %d above 0012, was %d", got, applied)
			}
			matchGolden(t, st, s.name)
		})
	}
}

// TestInterruptedMigration: a migration that fails halfway (here: when it
// records itself, after its statements ran) leaves nothing of itself, the
// migrations before it stay applied, and the next open completes the
// upgrade. The fixture is first taken back to 0011 (0012's columns dropped)
// so that there is a migration to interrupt whatever the code's newest is;
// the one that fails is the newest.
func TestInterruptedMigration(t *testing.T) {
	t.Parallel()
	for _, s := range stores {
		if s.from != 12 {
			continue // the rewind is of 0012; TestCompactResumes interrupts 0017's copy
		}
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			d := s.load(t)
			newest := d.newest(t)
			rewind := `ALTER TABLE attempts DROP COLUMN request_method;
				ALTER TABLE attempts DROP COLUMN request_url;
				ALTER TABLE attempts DROP COLUMN request_body;
				ALTER TABLE attempts DROP COLUMN request_body_truncated;
				DELETE FROM schema_migrations WHERE version = 12;`
			var trigger, untrigger string
			switch s.kind {
			case "sqlite":
				trigger = `CREATE TRIGGER interrupt BEFORE INSERT ON schema_migrations
					WHEN NEW.version = ` + strconv.Itoa(newest) + ` BEGIN SELECT RAISE(ABORT, 'injected failure'); END;`
				untrigger = `DROP TRIGGER interrupt`
			case "postgres":
				trigger = `CREATE FUNCTION interrupt() RETURNS trigger LANGUAGE plpgsql AS $$
					BEGIN RAISE EXCEPTION 'injected failure'; END $$;
					CREATE TRIGGER interrupt BEFORE INSERT ON schema_migrations
					FOR EACH ROW WHEN (NEW.version = ` + strconv.Itoa(newest) + `) EXECUTE FUNCTION interrupt();`
				untrigger = `DROP TRIGGER interrupt ON schema_migrations; DROP FUNCTION interrupt();`
			}
			d.exec(t, rewind+trigger)
			columns := `SELECT count(*) FROM information_schema.columns
				WHERE table_schema = current_schema() AND table_name = 'attempts' AND column_name IN ('request_method', 'request_url', 'request_body', 'request_body_truncated')`
			if s.kind == "sqlite" {
				columns = `SELECT count(*) FROM pragma_table_info('attempts') WHERE name IN ('request_method', 'request_url', 'request_body', 'request_body_truncated')`
			}

			st, err := d.open(t)
			if err == nil {
				st.Close()
				t.Fatal("open succeeded with the newest migration failing")
			}
			if !strings.Contains(err.Error(), "injected failure") {
				t.Fatalf("open: %v, want the injected failure", err)
			}
			got := d.queryInt(t, `SELECT max(version) FROM schema_migrations`)
			if want := max(11, newest-1); got < 11 || got >= newest {
				t.Fatalf("after the failure the schema is at %d, want between 11 and %d", got, want)
			}
			if newest == 12 {
				// 0012 failed: none of its columns stayed.
				if n := d.queryInt(t, columns); n != 0 {
					t.Fatalf("%d of 0012's columns stayed after it failed", n)
				}
			}
			if n := d.queryInt(t, `SELECT count(*) FROM deliveries`); n != 12 {
				t.Fatalf("%d deliveries after the failure, want 12", n)
			}

			d.exec(t, untrigger)
			st = openOK(t, d)
			defer st.Close()
			if got := d.queryInt(t, `SELECT max(version) FROM schema_migrations`); got != newest {
				t.Fatalf("schema version %d after the resumed open, want %d", got, newest)
			}
			if n := d.queryInt(t, columns); n != 4 {
				t.Fatalf("%d of 0012's columns after the resumed open, want 4", n)
			}
			if n := d.queryInt(t, `SELECT count(*) FROM schema_migrations WHERE version = 12`); n != 1 {
				t.Fatalf("0012 recorded %d times", n)
			}
			// Everything but the attempts' request (dropped by the rewind)
			// reads back as before.
			rb, err := read(t.Context(), st)
			if err != nil {
				t.Fatal(err)
			}
			if len(rb.Deliveries) != 12 || len(rb.Webhooks) != 2 || len(rb.Events) != 12 {
				t.Fatalf("read back %d deliveries, %d webhooks, %d events", len(rb.Deliveries), len(rb.Webhooks), len(rb.Events))
			}
			for _, db := range rb.Deliveries {
				for _, a := range db.Attempts {
					if a.RequestMethod != "" || a.StatusCode == 0 {
						t.Fatalf("attempt %s after the rewound 0012: method %q status %d", a.ID, a.RequestMethod, a.StatusCode)
					}
				}
			}
			if rb.Webhooks[1].Secrets["auth.password"] != "basic-password" {
				t.Fatalf("secrets after the resumed open: %v", rb.Webhooks[1].Secrets)
			}
		})
	}
}

// received is one request the receiver got.
type received struct {
	path, msgID string
}

// receiver is a loopback endpoint that answers 200 and records requests.
type receiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []received
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		io.Copy(io.Discard, req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{path: req.URL.Path, msgID: req.Header.Get("Webhook-Id")})
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// TestDeliverAfterUpgrade starts Herald on the migrated fixture, as a node
// restarted on its data directory (SQLite) or database (PostgreSQL) after
// the upgrade, and switches delivery on: every pending, retrying and held
// delivery is sent once, the ordered webhook's in event order, and the
// finished ones are not sent again.
func TestDeliverAfterUpgrade(t *testing.T) {
	t.Parallel()
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			d := s.load(t)
			rcv := newReceiver(t)

			// The fixture's endpoints pointed nowhere; point them at the
			// receiver, the only change to the fixture.
			st := openOK(t, d)
			rb := matchGolden(t, st, s.name)
			for _, wb := range rb.Webhooks {
				w := wb.Webhook
				w.URL = rcv.srv.URL + "/" + w.Project
				if err := st.UpdateWebhook(ctx, w); err != nil {
					t.Fatal(err)
				}
			}
			st.Close()

			open := map[string][]string{} // path → delivery ids, oldest first
			finished := map[string]*herald.Delivery{}
			for _, db := range rb.Deliveries {
				dl := db.Delivery
				switch dl.State {
				case herald.StatePending, herald.StateRetrying, herald.StateHeld:
					open["/"+dl.Project] = append(open["/"+dl.Project], dl.ID)
				default:
					finished[dl.ID] = dl
				}
			}
			if len(open["/alpha"]) != 5 || len(open["/beta"]) != 4 || len(finished) != 3 {
				t.Fatalf("fixture: open %v, finished %d", open, len(finished))
			}

			const token = "upgrade-test-admin-token-0123456789abcdef"
			cfg := config.Defaults()
			cfg.Listen = "127.0.0.1:0"
			cfg.NodeID = "upgraded"
			cfg.AdminToken = token
			cfg.Network.AllowCIDRs = []string{"127.0.0.0/8"}
			cfg.Delivery.RetrySchedule = []string{"100ms", "100ms", "100ms"}
			// The fixture's times are of 2025: nothing in it is pruned or
			// auto-disabled for its age, whatever today is.
			cfg.Retention = "876000h"
			cfg.Delivery.DisableAfter = "876000h"
			d.configure(&cfg)
			a, err := app.New(ctx, cfg, app.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatalf("app.New: %v", err)
			}
			if err := a.Start(ctx); err != nil {
				t.Fatalf("start: %v", err)
			}
			t.Cleanup(func() {
				cctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				if err := a.Close(cctx); err != nil {
					t.Errorf("close: %v", err)
				}
			})

			req, _ := http.NewRequest("PATCH", a.URL()+"/api/v1/settings", bytes.NewReader([]byte(`{"webhooks_enabled":true}`)))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("switch on: %d %s", resp.StatusCode, body)
			}

			// Wait until every open delivery has succeeded.
			deadline := time.Now().Add(10 * time.Second)
			for {
				n, err := a.Store.CountDeliveries(ctx, herald.StateSucceeded)
				if err != nil {
					t.Fatal(err)
				}
				if n == 2+9 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d deliveries succeeded, want 11; received %v", n, rcv.requests())
				}
				time.Sleep(20 * time.Millisecond)
			}

			got := map[string][]string{}
			for _, r := range rcv.requests() {
				if finished[r.msgID] != nil {
					t.Errorf("finished delivery %s was sent again", r.msgID)
				}
				got[r.path] = append(got[r.path], r.msgID)
			}
			// The ordered webhook's, in event order; the other's in any.
			if !slices.Equal(got["/beta"], open["/beta"]) {
				t.Errorf("ordered webhook received %v, want %v", got["/beta"], open["/beta"])
			}
			alpha := slices.Clone(got["/alpha"])
			slices.Sort(alpha)
			if !slices.Equal(alpha, open["/alpha"]) {
				t.Errorf("webhook received %v, want each of %v once", got["/alpha"], open["/alpha"])
			}
			for id, want := range finished {
				dl, err := a.Store.GetDelivery(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if dl.State != want.State || dl.Attempts != want.Attempts || !dl.UpdatedAt.Equal(want.UpdatedAt) {
					t.Errorf("finished delivery %s changed: %s/%d, was %s/%d", id, dl.State, dl.Attempts, want.State, want.Attempts)
				}
			}
		})
	}
}

// checkStatus: each webhook's status by event type (kept in its own table
// since migration 0014, backfilled from the deliveries) names the latest
// attempted delivery of each type, as the deliveries read back say.
func checkStatus(t *testing.T, st store.Store, rb *readBack) {
	t.Helper()
	type key struct{ webhook, eventType string }
	latest := map[key]*herald.Delivery{}
	for _, db := range rb.Deliveries {
		d := db.Delivery
		if d.LastAttemptAt == nil {
			continue
		}
		k := key{d.WebhookID, d.EventType}
		if l := latest[k]; l == nil || d.LastAttemptAt.After(*l.LastAttemptAt) ||
			d.LastAttemptAt.Equal(*l.LastAttemptAt) && d.ID > l.ID {
			latest[k] = d
		}
	}
	n := 0
	for _, w := range rb.Webhooks {
		sts, err := st.WebhookStatus(t.Context(), w.Webhook.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range sts {
			n++
			want := latest[key{w.Webhook.ID, s.EventType}]
			if want == nil || want.ID != s.DeliveryID || string(want.State) != s.State {
				t.Errorf("webhook %s, %s: status names %s (%s), deliveries say %+v", w.Webhook.ID, s.EventType, s.DeliveryID, s.State, want)
			}
		}
	}
	want := 0
	for k := range latest {
		for _, w := range rb.Webhooks {
			if w.Webhook.ID == k.webhook {
				want++
			}
		}
	}
	if n != want || n == 0 {
		t.Errorf("%d statuses by event type, want %d (and some)", n, want)
	}
}

// TestOnlineMigrationResumes: an online PostgreSQL migration (CREATE INDEX
// CONCURRENTLY) interrupted during its build leaves an invalid index under
// the name it builds, which IF NOT EXISTS would take for built; the next
// start drops it and builds the index whole. The interrupted build is made
// for real: a concurrent unique build that fails on duplicates leaves its
// index invalid, as a crash mid-build does.
func TestOnlineMigrationResumes(t *testing.T) {
	t.Parallel()
	d := loadPostgres(t).(*postgresDB)
	conn, err := pgx.Connect(t.Context(), d.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	if _, err := conn.Exec(t.Context(), `SET search_path TO `+pgx.Identifier{d.schema}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(t.Context(), `CREATE UNIQUE INDEX CONCURRENTLY deliveries_state_new ON deliveries (webhook_id)`)
	if err == nil {
		t.Fatal("the unique build over duplicate webhook ids succeeded; the test needs it to fail")
	}
	invalid := `SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT i.indisvalid AND n.nspname = current_schema()`
	if n := d.queryInt(t, invalid); n != 1 {
		t.Fatalf("%d invalid indexes after the failed build, want 1", n)
	}

	st := openOK(t, d)
	defer st.Close()
	if n := d.queryInt(t, invalid); n != 0 {
		t.Fatalf("%d invalid indexes after the migration, want 0", n)
	}
	// pg_get_indexdef only of this schema's index (OFFSET 0 keeps the
	// planner from running it on other tests' indexes, which may be gone).
	partial := `SELECT count(*) FROM (SELECT pg_get_indexdef(c.oid) AS def FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relname = 'deliveries_state' OFFSET 0) x
		WHERE def LIKE '%(state, id) WHERE%' AND def NOT LIKE '%UNIQUE%'`
	if n := d.queryInt(t, partial); n != 1 {
		t.Fatal("deliveries_state is not the partial (state, id) index after the resumed migration")
	}
	if n := d.queryInt(t, `SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relname = 'deliveries_state_new'`); n != 0 {
		t.Fatal("the build's temporary name is left")
	}
	if got, want := d.queryInt(t, `SELECT max(version) FROM schema_migrations`), d.newest(t); got != want {
		t.Fatalf("schema at %d, want %d", got, want)
	}
	// Held deliveries of the fixture are counted from the new index.
	held, err := st.CountDeliveries(t.Context(), herald.StateHeld)
	if err != nil {
		t.Fatal(err)
	}
	if want := d.queryInt(t, `SELECT count(*) FROM deliveries WHERE state = 'held'`); held != want || held == 0 {
		t.Fatalf("CountDeliveries(held) = %d, want %d (and some)", held, want)
	}
}
