-- Deliveries in fewer bytes (issue 12: at most 300 bytes a finished
-- delivery). Three changes to every row, so the table is rebuilt:
--   * id is the delivery ID's key (keys.go): the ULID's 16 bytes instead of
--     30 characters, in the row and at the tail of each of its index entries;
--     attempts.delivery_id and delivery_status.delivery_id likewise;
--   * webhook_id becomes hook, the webhook's number in hooks (one or two
--     bytes instead of 29, in the row and in deliveries_webhook, _open and
--     _due); hooks keeps the numbers of deleted webhooks too, whose
--     deliveries stay in the log;
--   * project and event_type hold numbers from names (each distinct text
--     once), one or two bytes instead of the text;
--   * the first_* columns of 0014 go: a first attempt kept there is
--     rewritten as first_attempt (attemptpack's Inline, 0016);
--   * deliveries_finished goes (an entry per delivery, for the stats and
--     retention): the counts by minute are kept in delivery_counts, one row
--     per webhook and minute, added to as deliveries finish; the latency
--     samples and retention read the table in key order (IDs are ULIDs, in
--     creation order). The copy fills delivery_counts from the old rows.
-- This file only renames the old tables and creates the new ones, in one
-- transaction; the rows move afterwards in batches of bounded size, each its
-- own transaction (compact.go), oldest first, and a run that is interrupted
-- resumes where it stopped on the next start (deliveries_old still exists).
CREATE TABLE hooks (
    hook       INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id TEXT NOT NULL UNIQUE
);
CREATE TABLE names (
    n    INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE
);
INSERT INTO hooks (webhook_id) SELECT id FROM webhooks ORDER BY created_at, id;

ALTER TABLE deliveries RENAME TO deliveries_old;
ALTER TABLE attempts RENAME TO attempts_old;
DROP INDEX deliveries_webhook;
DROP INDEX deliveries_event;
DROP INDEX deliveries_finished;
DROP INDEX deliveries_state;
DROP INDEX deliveries_open;
DROP INDEX deliveries_due;
DROP INDEX attempts_delivery;
-- The copy reads attempts_old by delivery and deletes deliveries_old rows,
-- whose attempts go with them (ON DELETE CASCADE).
CREATE INDEX attempts_old_delivery ON attempts_old (delivery_id);

CREATE TABLE deliveries (
    id              BLOB PRIMARY KEY,
    event_seq       INTEGER NOT NULL,
    hook            INTEGER NOT NULL,
    project         INTEGER NOT NULL, -- names.n
    event_type      INTEGER NOT NULL, -- names.n
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    round_start     INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_token     TEXT,
    lease_until     INTEGER,
    last_attempt_at INTEGER,
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    test            INTEGER NOT NULL DEFAULT 0,
    ordered         INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    first_attempt   BLOB,
    due_at          INTEGER GENERATED ALWAYS AS (coalesce(max(next_attempt_at, lease_until), next_attempt_at)) VIRTUAL
) WITHOUT ROWID;
CREATE INDEX deliveries_webhook ON deliveries (hook, id);
CREATE INDEX deliveries_event ON deliveries (event_seq);
CREATE INDEX deliveries_state ON deliveries (state, id) WHERE state IN ('retrying', 'failed', 'cancelled', 'held');
CREATE INDEX deliveries_open ON deliveries (hook, id) WHERE ordered = 1 AND state IN ('pending', 'retrying', 'held');
CREATE INDEX deliveries_due ON deliveries (hook, due_at, id) WHERE state IN ('pending', 'retrying');

-- Deliveries that finished (succeeded or failed; not test sends), by webhook
-- number and minute (of updated_at, µs / 60,000,000).
CREATE TABLE delivery_counts (
    minute    INTEGER NOT NULL,
    hook      INTEGER NOT NULL,
    succeeded INTEGER NOT NULL DEFAULT 0,
    failed    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (minute, hook)
) WITHOUT ROWID;

CREATE TABLE attempts (
    id                     TEXT NOT NULL,
    delivery_id            BLOB NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    number                 INTEGER NOT NULL,
    started_at             INTEGER NOT NULL,
    latency_ns             INTEGER NOT NULL,
    request_headers        TEXT NOT NULL,
    status_code            INTEGER NOT NULL,
    response_headers       TEXT NOT NULL,
    response_body          TEXT NOT NULL,
    error                  TEXT NOT NULL,
    request_method         TEXT NOT NULL DEFAULT '',
    request_url            TEXT NOT NULL DEFAULT '',
    request_body           TEXT NOT NULL DEFAULT '',
    request_body_truncated INTEGER NOT NULL DEFAULT 0,
    request_shape          BLOB,
    request_signature      TEXT NOT NULL DEFAULT '',
    request_body_hash      BLOB
);
CREATE INDEX attempts_delivery ON attempts (delivery_id);
