package sqlite

import (
	"bytes"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/seal"
	"github.com/herald-hq/herald/internal/store"
)

// The release at 0015 wrote this fixture (see internal/store/upgradetest):
// twelve deliveries of two webhooks, six first attempts in the first_*
// columns, two attempts rows.
const (
	fixture15    = "../upgradetest/testdata/v0015.sqlite"
	fixture15Key = "../upgradetest/testdata/v0015_secret.key"
)

// copyFixture15 puts the fixture in a directory of its own, with one of its
// webhooks deleted as that release's DeleteWebhook did (its row and status
// gone, its open deliveries cancelled): its log stays, under its ID.
func copyFixture15(t *testing.T) (path string, box *seal.Box) {
	t.Helper()
	b, err := os.ReadFile(fixture15)
	noErr(t, err)
	path = filepath.Join(t.TempDir(), "herald.db")
	noErr(t, os.WriteFile(path, b, 0o600))
	raw, err := os.ReadFile(fixture15Key)
	noErr(t, err)
	key, err := seal.ParseKey(string(raw))
	noErr(t, err)
	box, err = seal.New(key)
	noErr(t, err)
	db, err := sql.Open("sqlite", "file:"+path)
	noErr(t, err)
	defer db.Close()
	_, err = db.Exec(`DELETE FROM webhooks WHERE id = 'wh_fixture_ordered';
		DELETE FROM delivery_status WHERE webhook_id = 'wh_fixture_ordered';
		UPDATE deliveries SET state = 'cancelled', last_error = 'webhook deleted'
		WHERE webhook_id = 'wh_fixture_ordered' AND state IN ('pending', 'retrying', 'held')`)
	noErr(t, err)
	return path, box
}

// logOf reads every delivery with its attempts, and the deleted webhook's
// log by its ID.
func logOf(t *testing.T, s *Store) (all []any, deleted []*herald.Delivery) {
	t.Helper()
	ctx := t.Context()
	ds, _, err := s.ListDeliveries(ctx, store.DeliveryFilter{Oldest: true, Limit: 100})
	noErr(t, err)
	for _, d := range ds {
		as, err := s.ListAttempts(ctx, d.ID)
		noErr(t, err)
		all = append(all, d, as)
	}
	deleted, _, err = s.ListDeliveries(ctx, store.DeliveryFilter{WebhookID: "wh_fixture_ordered", Limit: 100})
	noErr(t, err)
	return all, deleted
}

// Migration 0017 moves every delivery of the 0015 fixture: each reads back
// with its first attempt (rewritten from the first_* columns) and its other
// attempts, under its ID, and a deleted webhook's log is still found by the
// webhook's ID. A copy interrupted after a batch resumes on the next open
// and ends with the same log as one that ran through.
func TestCompactResumes(t *testing.T) {
	ctx := t.Context()
	path, box := copyFixture15(t)
	s, err := Open(ctx, Options{Path: path, Box: box})
	noErr(t, err)
	want, deleted := logOf(t, s)
	noErr(t, s.Close())
	check(t, len(want) == 24, "read back %d deliveries, want 12", len(want)/2)
	check(t, len(deleted) == 5, "the deleted webhook's log has %d deliveries, want 5", len(deleted))
	firsts, retried := 0, 0
	for i := 1; i < len(want); i += 2 {
		as := want[i].([]*herald.Attempt)
		for _, a := range as {
			if a.ID == store.FirstAttemptID(a.DeliveryID) {
				firsts++
				check(t, a.RequestMethod == "POST" && a.RequestBody != "" && a.ResponseHeaders != nil,
					"first attempt %s lost its request: %+v", a.ID, a)
			}
		}
		if len(as) > 1 {
			retried++
		}
	}
	check(t, firsts == 6, "%d first attempts read back, want the fixture's 6", firsts)
	check(t, retried > 0, "no delivery with attempts rows read back")

	// Three rows a batch; the open fails after the second batch.
	defer func(n int) { compactBatch, compactFault = n, nil }(compactBatch)
	compactBatch = 3
	injected := errors.New("injected crash")
	compactFault = func(step int) error {
		if step == 2 {
			return injected
		}
		return nil
	}
	path, box = copyFixture15(t)
	_, err = Open(ctx, Options{Path: path, Box: box})
	check(t, errors.Is(err, injected), "open: %v, want the injected crash", err)
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	noErr(t, err)
	var moved, left int
	noErr(t, db.QueryRow(`SELECT (SELECT count(*) FROM deliveries), (SELECT count(*) FROM deliveries_old)`).Scan(&moved, &left))
	noErr(t, db.Close())
	check(t, moved == 6 && left == 6, "after the crash %d rows moved and %d left, want 6 and 6", moved, left)

	compactFault = nil
	s, err = Open(ctx, Options{Path: path, Box: box})
	noErr(t, err)
	defer s.Close()
	got, gotDeleted := logOf(t, s)
	check(t, reflect.DeepEqual(got, want), "the resumed copy reads back otherwise")
	check(t, reflect.DeepEqual(gotDeleted, deleted), "the resumed copy's deleted webhook log differs")
	var tables int
	noErr(t, s.r.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name IN ('deliveries_old', 'attempts_old')`).Scan(&tables))
	check(t, tables == 0, "the old tables are left")
	var fk int
	noErr(t, s.r.QueryRow(`SELECT count(*) FROM pragma_foreign_key_check`).Scan(&fk))
	check(t, fk == 0, "%d foreign key violations", fk)
	// The status of the webhook left points at its delivery, by key.
	st, err := s.WebhookStatus(ctx, "wh_fixture_signed")
	noErr(t, err)
	check(t, len(st) == 1 && strings.HasPrefix(st[0].DeliveryID, "dlv_"), "status %+v", st)
}

// A first attempt keeps 8 bytes of its shape's hash: should a second shape
// share them, reading the attempt fails rather than show the wrong request.
func TestInlineShapeRefAmbiguous(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, Options{})
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	w := &herald.Webhook{ID: herald.NewID("wh"), Name: "w", Project: "p", URL: "https://example.com/",
		Enabled: true, Category: herald.CategoryEvents, EventTypes: []string{"*"},
		Severity: herald.SeverityPresetAll, Language: "en", Format: herald.FormatStandard,
		Auth: herald.Auth{Type: herald.AuthNone}, CreatedAt: now, UpdatedAt: now}
	noErr(t, s.CreateWebhook(ctx, w))
	ev := &herald.Event{Type: "x", Project: "p", Data: []byte(`{}`)}
	_, err := s.Ingest(ctx, store.IngestParams{Items: []store.IngestItem{{Event: ev, WebhookIDs: []string{w.ID}}}, Now: now})
	noErr(t, err)
	cs, err := s.ClaimDeliveries(ctx, store.ClaimParams{Now: now, Limit: 1, LeaseToken: "L", LeaseFor: time.Minute})
	noErr(t, err)
	check(t, len(cs) == 1, "claimed %d", len(cs))
	id := cs[0].Delivery.ID
	a := &herald.Attempt{StartedAt: now, StatusCode: 204, RequestMethod: "POST", RequestURL: w.URL,
		RequestHeaders: map[string][]string{"Content-Type": {"application/json"}}, RequestBody: `{"a":1}`}
	_, err = s.CompleteDeliveries(ctx, []store.Completion{{DeliveryID: id, WebhookID: w.ID, LeaseToken: "L",
		State: herald.StateSucceeded, Now: now, Attempt: a}})
	noErr(t, err)
	as, err := s.ListAttempts(ctx, id)
	noErr(t, err)
	check(t, len(as) == 1 && as[0].RequestMethod == "POST", "attempts %+v", as)

	var hash []byte
	noErr(t, s.r.QueryRow(`SELECT hash FROM request_shapes`).Scan(&hash))
	twin := append(bytes.Clone(hash[:8]), bytes.Repeat([]byte{0}, len(hash)-8)...)
	if bytes.Equal(twin, hash) {
		twin[len(twin)-1] = 1
	}
	_, err = s.w.Exec(`INSERT INTO request_shapes (hash, method, url, headers) VALUES (?, 'GET', 'https://other/', '{}')`, twin)
	noErr(t, err)
	_, err = s.ListAttempts(ctx, id)
	errContains(t, err, "two request shapes")
}
