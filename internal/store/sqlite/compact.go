package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store/attemptpack"
)

// compactBatch is how many deliveries one transaction of the copy of
// migration 0017 moves: a few milliseconds of the write lock and a few MB of
// WAL each, whatever the size of the table.
var compactBatch = 2000

// compactFault, set by tests only, runs after each batch the copy commits
// (step counts from 1); an error stops the copy there, as a crash would.
var compactFault func(step int) error

// finishCompact moves the rows of deliveries_old and attempts_old (left by
// migration 0017) into the new tables, compactBatch deliveries per
// transaction, oldest first; then it converts delivery_status and drops the
// old tables. Each batch deletes what it copied, so an interrupted run
// resumes with what is left. It does nothing once the old tables are gone.
func (s *Store) finishCompact(ctx context.Context) error {
	var n int
	err := s.w.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'deliveries_old'`).
		Scan(&n)
	if err != nil || n == 0 {
		return err
	}
	hooks, err := s.loadHookNumbers(ctx)
	if err != nil {
		return err
	}
	var total int
	if err := s.w.QueryRowContext(ctx, `SELECT count(*) FROM deliveries_old`).Scan(&total); err != nil {
		return err
	}
	log := s.log
	log.Info("upgrading the delivery log to its compact form (migration 0017); Herald serves when it is done",
		"deliveries", total, "batch", compactBatch)
	start, said := time.Now(), time.Now()
	done := 0
	for step := 1; ; step++ {
		var moved int
		var names *interner
		err := s.write(ctx, func(tx *sql.Tx) error {
			var err error
			names = s.interner(tx)
			moved, err = s.compactStep(ctx, tx, hooks, names)
			return err
		})
		if err != nil {
			return fmt.Errorf("move deliveries to the compact table: %w", err)
		}
		names.committed()
		done += moved
		if time.Since(said) >= 10*time.Second {
			said = time.Now()
			log.Info("upgrading the delivery log", "moved", done, "total", total,
				"elapsed", time.Since(start).Round(time.Second).String())
		}
		if compactFault != nil {
			if err := compactFault(step); err != nil {
				return err
			}
		}
		if moved < compactBatch {
			break
		}
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT webhook_id, event_type, delivery_id FROM delivery_status`)
		if err != nil {
			return err
		}
		type pair struct{ w, t, d string }
		var all []pair
		for rows.Next() {
			var p pair
			if err := rows.Scan(&p.w, &p.t, did(&p.d)); err != nil {
				rows.Close()
				return err
			}
			all = append(all, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, p := range all {
			if _, err := tx.ExecContext(ctx, `UPDATE delivery_status SET delivery_id = ? WHERE webhook_id = ? AND event_type = ?`,
				dkey(p.d), p.w, p.t); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DROP TABLE attempts_old`); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DROP TABLE deliveries_old`)
		if err == nil {
			log.Info("upgraded the delivery log", "deliveries", done,
				"elapsed", time.Since(start).Round(time.Millisecond).String())
		}
		return err
	})
}

// loadHookNumbers reads hooks: webhook ID to number.
func (s *Store) loadHookNumbers(ctx context.Context) (map[string]int64, error) {
	rows, err := s.w.QueryContext(ctx, `SELECT hook, webhook_id FROM hooks`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var h int64
		var id string
		if err := rows.Scan(&h, &id); err != nil {
			return nil, err
		}
		out[id] = h
	}
	return out, rows.Err()
}

// compactStep moves the oldest compactBatch rows of deliveries_old, with
// their attempts; hooks gains the numbers it hands out (a deleted webhook's).
func (s *Store) compactStep(ctx context.Context, tx *sql.Tx, hooks map[string]int64, names *interner) (int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, event_seq, webhook_id, project, event_type, state, attempts,
		round_start, next_attempt_at, lease_token, lease_until, last_attempt_at, last_status, last_error, test,
		ordered, created_at, updated_at, first_attempt,
		first_started, first_latency_ns, first_status, first_error, first_response_headers, first_response_body,
		first_request_shape, first_request_signature, first_request_body_hash, first_request_body_truncated
		FROM deliveries_old ORDER BY id LIMIT ?`, compactBatch)
	if err != nil {
		return 0, err
	}
	type old struct {
		args               []any
		id                 string
		webhook            string
		project, eventType string
		state              herald.State
		updated            int64
		test               bool
	}
	var batch []old
	for rows.Next() {
		var (
			id, webhook, project, eventType, state, lastErr   string
			seq, attempts, roundStart, next, created, updated int64
			lastStatus                                        int
			test, ordered                                     bool
			token                                             sql.NullString
			leaseUntil, lastAt                                sql.NullInt64
			inline                                            []byte
			fStarted, fLatency, fStatus                       sql.NullInt64
			fError, fResHeaders, fResBody, fSignature         sql.NullString
			fShape, fBodyHash                                 []byte
			fTruncated                                        sql.NullBool
		)
		if err := rows.Scan(&id, &seq, &webhook, &project, &eventType, &state, &attempts, &roundStart, &next,
			&token, &leaseUntil, &lastAt, &lastStatus, &lastErr, &test, &ordered, &created, &updated, &inline,
			&fStarted, &fLatency, &fStatus, &fError, &fResHeaders, &fResBody, &fShape, &fSignature, &fBodyHash,
			&fTruncated); err != nil {
			rows.Close()
			return 0, err
		}
		if inline == nil && fStarted.Valid {
			// A first attempt kept in the columns of 0014: as attemptpack's
			// Inline, the form 0016 writes.
			in := attemptpack.Inline{Started: fStarted.Int64, LatencyNS: fLatency.Int64, Status: int(fStatus.Int64),
				Error: fError.String, ResponseBody: fResBody.String, Truncated: fTruncated.Bool,
				ShapeHash: fShape, Signature: fSignature.String, BodyHash: fBodyHash}
			if err := json.Unmarshal([]byte(fResHeaders.String), &in.ResponseHeaders); err != nil {
				rows.Close()
				return 0, fmt.Errorf("delivery %s: first attempt's response headers: %w", id, err)
			}
			inline = attemptpack.EncodeInline(id, in)
		}
		batch = append(batch, old{id: id, webhook: webhook, project: project, eventType: eventType, state: herald.State(state), updated: updated, test: test, args: []any{dkey(id), seq, nil, project, eventType,
			state, attempts, roundStart, next, token, leaseUntil, lastAt, lastStatus, lastErr, test, ordered,
			created, updated, inline}})
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(batch) == 0 {
		return 0, err
	}
	insert, err := tx.PrepareContext(ctx, `INSERT INTO deliveries (id, event_seq, hook, project, event_type,
		state, attempts, round_start, next_attempt_at, lease_token, lease_until, last_attempt_at, last_status,
		last_error, test, ordered, created_at, updated_at, first_attempt)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return 0, err
	}
	defer insert.Close()
	var counts minuteCounts
	for _, o := range batch {
		h, ok := hooks[o.webhook]
		if !ok {
			// A webhook deleted before the upgrade: a number of its own.
			var err error
			if h, err = s.hooks.insert(ctx, tx, o.webhook); err != nil {
				return 0, err
			}
			hooks[o.webhook] = h
		}
		o.args[2] = h
		var err error
		if o.args[3], err = names.num(ctx, o.project); err != nil {
			return 0, err
		}
		if o.args[4], err = names.num(ctx, o.eventType); err != nil {
			return 0, err
		}
		if !o.test {
			counts.add(h, o.state, o.updated)
		}
		if _, err := insert.ExecContext(ctx, o.args...); err != nil {
			return 0, fmt.Errorf("delivery %s: %w", o.id, err)
		}
	}
	// The attempts rows of the batch's deliveries (few: only later attempts
	// and older releases' first ones are rows), found by the range of their
	// IDs and copied in the order they were written.
	arows, err := tx.QueryContext(ctx, `SELECT rowid, delivery_id FROM attempts_old INDEXED BY attempts_old_delivery
		WHERE delivery_id >= ? AND delivery_id <= ?`, batch[0].id, batch[len(batch)-1].id)
	if err != nil {
		return 0, err
	}
	type oldAttempt struct {
		rowid    int64
		delivery string
	}
	var atts []oldAttempt
	for arows.Next() {
		var a oldAttempt
		if err := arows.Scan(&a.rowid, &a.delivery); err != nil {
			arows.Close()
			return 0, err
		}
		atts = append(atts, a)
	}
	arows.Close()
	if err := arows.Err(); err != nil {
		return 0, err
	}
	slices.SortFunc(atts, func(a, b oldAttempt) int { return cmp.Compare(a.rowid, b.rowid) })
	for _, a := range atts {
		if _, err := tx.ExecContext(ctx, `INSERT INTO attempts (id, delivery_id, number, started_at, latency_ns,
			request_headers, status_code, response_headers, response_body, error, request_method, request_url,
			request_body, request_body_truncated, request_shape, request_signature, request_body_hash)
			SELECT id, ?1, number, started_at, latency_ns, request_headers, status_code, response_headers,
				response_body, error, request_method, request_url, request_body, request_body_truncated,
				request_shape, request_signature, request_body_hash
			FROM attempts_old WHERE rowid = ?2`, dkey(a.delivery), a.rowid); err != nil {
			return 0, fmt.Errorf("attempts of delivery %s: %w", a.delivery, err)
		}
	}
	if err := s.upsertCounts(ctx, tx, counts); err != nil {
		return 0, err
	}
	// The rows copied are the first len(batch) in id order; their attempts
	// go with them (ON DELETE CASCADE).
	_, err = tx.ExecContext(ctx, `DELETE FROM deliveries_old WHERE id <= ?`, batch[len(batch)-1].id)
	return len(batch), err
}

// compactVersion is the migration whose rows finishCompact moves.
const compactVersion = 17
