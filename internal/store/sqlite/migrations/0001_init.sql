-- Herald schema, version 1. Times are INTEGER unix microseconds UTC (the
-- precision PostgreSQL's timestamptz keeps, so both stores round alike);
-- durations are INTEGER nanoseconds; lists and maps are JSON text.

-- The global switches: exactly one row.
CREATE TABLE settings (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    webhooks_enabled INTEGER NOT NULL,
    https_only       INTEGER NOT NULL
);
INSERT INTO settings (id, webhooks_enabled, https_only) VALUES (1, 1, 0);

CREATE TABLE tokens (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL,
    projects   TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

-- Webhooks. Every field of type herald.Secret lives only in "secrets", sealed
-- with AES-256-GCM (store.SealWebhookSecrets); "auth" is the Auth object with
-- those fields blanked.
CREATE TABLE webhooks (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    project         TEXT NOT NULL,
    url             TEXT NOT NULL,
    enabled         INTEGER NOT NULL,
    category        TEXT NOT NULL,
    event_types     TEXT NOT NULL,
    conditions      TEXT NOT NULL,
    severity        TEXT NOT NULL,
    language        TEXT NOT NULL,
    format          TEXT NOT NULL,
    template        TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    headers         TEXT NOT NULL,
    auth            TEXT NOT NULL,
    tls             TEXT NOT NULL,
    max_attempts    INTEGER NOT NULL,
    timeout_ns      INTEGER NOT NULL,
    rate_limit      INTEGER NOT NULL,
    ordered         INTEGER NOT NULL,
    secrets         TEXT NOT NULL,
    disabled_reason TEXT NOT NULL,
    failing_since   INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (project, name)
);

-- Events, stored once per (project, id). seq is the rowid: deliveries point
-- at it with 8 bytes instead of repeating the text id and project. body is
-- the full JSON of herald.Event.
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL,
    project     TEXT NOT NULL,
    type        TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    body        TEXT NOT NULL,
    -- (id, project) rather than (project, id): the same index serves
    -- idempotency and FindEvents/DeliveryFilter.EventID, which know only id.
    UNIQUE (id, project)
);

-- Deliveries: the outbox. WITHOUT ROWID clusters rows by id, which herald.NewID
-- makes time-ordered: inserts append, and "newest first" is a backward scan.
-- due_at is when a pending/retrying row can next be claimed: next_attempt_at,
-- or lease_until while a lease runs past it. Indexing that one value lets
-- ClaimDeliveries and NextDue read the index in order instead of scanning.
CREATE TABLE deliveries (
    id              TEXT PRIMARY KEY,
    event_seq       INTEGER NOT NULL,
    webhook_id      TEXT NOT NULL,
    project         TEXT NOT NULL,
    event_type      TEXT NOT NULL,
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
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    due_at          INTEGER GENERATED ALWAYS AS (coalesce(max(next_attempt_at, lease_until), next_attempt_at)) VIRTUAL
) WITHOUT ROWID;

-- Claimable rows only, in due order and, within one due time, in creation
-- order (first in, first out across webhooks, and in event order for an
-- ordered webhook). webhook_id rides along so ExcludeWebhooks is decided from
-- the index.
CREATE INDEX deliveries_due ON deliveries (due_at, id, webhook_id) WHERE state IN ('pending', 'retrying');
-- The delivery log of one webhook, newest first; RecoverFailed.
CREATE INDEX deliveries_webhook ON deliveries (webhook_id, id);
-- The log filtered by state, newest first; CountDeliveries; UpdateSettings.
CREATE INDEX deliveries_state ON deliveries (state, id);
-- WebhookStatus: the latest attempted delivery per (webhook, event type).
CREATE INDEX deliveries_status ON deliveries (webhook_id, event_type, last_attempt_at) WHERE last_attempt_at IS NOT NULL;
-- DeliveryFilter.EventID, and pruning by event.
CREATE INDEX deliveries_event ON deliveries (event_seq);

-- Attempts: one row per HTTP request, oldest first by rowid.
CREATE TABLE attempts (
    id               TEXT NOT NULL,
    delivery_id      TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    number           INTEGER NOT NULL,
    started_at       INTEGER NOT NULL,
    latency_ns       INTEGER NOT NULL,
    request_headers  TEXT NOT NULL,
    status_code      INTEGER NOT NULL,
    response_headers TEXT NOT NULL,
    response_body    TEXT NOT NULL,
    error            TEXT NOT NULL
);
CREATE INDEX attempts_delivery ON attempts (delivery_id);
