-- Herald schema for PostgreSQL, version 1. The same tables as SQLite's
-- 0001_init.sql, in PostgreSQL's types: times are timestamptz (microseconds,
-- the precision SQLite's integers keep, so both stores round alike);
-- durations are bigint nanoseconds; lists and maps are JSON as text (opaque
-- to SQL, stored byte for byte: jsonb would reorder an event's raw "data" and
-- refuse "\u0000"). Identifiers, projects and event types use the "C"
-- collation: byte order, as in SQLite and Go, whatever the database's locale,
-- so "newest first" by id and cursors agree everywhere.

-- The global switches: exactly one row. Writers that depend on the switch
-- read it FOR SHARE, so UpdateSettings (which updates the row) waits for them
-- and they for it.
CREATE TABLE settings (
    id               integer PRIMARY KEY CHECK (id = 1),
    webhooks_enabled boolean NOT NULL,
    https_only       boolean NOT NULL
);
INSERT INTO settings (id, webhooks_enabled, https_only) VALUES (1, true, false);

CREATE TABLE tokens (
    id         text COLLATE "C" PRIMARY KEY,
    name       text NOT NULL,
    role       text NOT NULL,
    projects   text NOT NULL,
    hash       text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL
);

-- Webhooks. Every field of type herald.Secret lives only in "secrets", sealed
-- with AES-256-GCM (store.SealWebhookSecrets); "auth" is the Auth object with
-- those fields blanked.
CREATE TABLE webhooks (
    id              text COLLATE "C" PRIMARY KEY,
    name            text NOT NULL,
    project         text COLLATE "C" NOT NULL,
    url             text NOT NULL,
    enabled         boolean NOT NULL,
    category        text NOT NULL,
    event_types     text NOT NULL,
    conditions      text NOT NULL,
    severity        text NOT NULL,
    language        text NOT NULL,
    format          text NOT NULL,
    template        text NOT NULL,
    content_type    text NOT NULL,
    headers         text NOT NULL,
    auth            text NOT NULL,
    tls             text NOT NULL,
    max_attempts    integer NOT NULL,
    timeout_ns      bigint NOT NULL,
    rate_limit      integer NOT NULL,
    ordered         boolean NOT NULL,
    secrets         text NOT NULL,
    disabled_reason text NOT NULL,
    failing_since   timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    CONSTRAINT webhooks_project_name_key UNIQUE (project, name)
);

-- Events, stored once per (project, id). seq is what deliveries point at: 8
-- bytes instead of the text id and project. body is the full JSON of
-- herald.Event.
CREATE TABLE events (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          text COLLATE "C" NOT NULL,
    project     text COLLATE "C" NOT NULL,
    type        text COLLATE "C" NOT NULL,
    received_at timestamptz NOT NULL,
    body        text NOT NULL,
    -- (id, project) rather than (project, id): the same index serves
    -- idempotency and FindEvents/DeliveryFilter.EventID, which know only id.
    CONSTRAINT events_id_project_key UNIQUE (id, project)
);
-- Prune: events older than the retention period that nothing references.
CREATE INDEX events_received ON events (received_at);

-- Deliveries: the outbox. ids are herald.NewID values, time-ordered, so
-- "newest first" is a backward scan of the primary key. due_at is when a
-- pending/retrying row can next be claimed: next_attempt_at, or lease_until
-- while a lease runs past it (GREATEST ignores a NULL lease). Indexing that
-- one value lets ClaimDeliveries and NextDue read the index in order instead
-- of stepping over every row in flight.
CREATE TABLE deliveries (
    id              text COLLATE "C" PRIMARY KEY,
    event_seq       bigint NOT NULL,
    webhook_id      text COLLATE "C" NOT NULL,
    project         text COLLATE "C" NOT NULL,
    event_type      text COLLATE "C" NOT NULL,
    state           text NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    round_start     integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    lease_token     text,
    lease_until     timestamptz,
    last_attempt_at timestamptz,
    last_status     integer NOT NULL DEFAULT 0,
    last_error      text NOT NULL DEFAULT '',
    test            boolean NOT NULL DEFAULT false,
    -- Whether the webhook was ordered when the delivery was created: such a
    -- row is claimable only while it is the oldest open row of its webhook.
    ordered         boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    due_at          timestamptz GENERATED ALWAYS AS (GREATEST(next_attempt_at, lease_until)) STORED
);

-- Claimable rows only, in due order and, within one due time, in creation
-- order (first in, first out across webhooks, and in event order for an
-- ordered webhook). webhook_id rides along for ExcludeWebhooks.
CREATE INDEX deliveries_due ON deliveries (due_at, id) INCLUDE (webhook_id)
    WHERE state IN ('pending', 'retrying');
-- The delivery log of one webhook, newest first; RecoverFailed; DeleteWebhook.
CREATE INDEX deliveries_webhook ON deliveries (webhook_id, id);
-- Ordered webhooks: the oldest open delivery of a webhook, the only one of
-- an ordered webhook that ClaimDeliveries may lease.
CREATE INDEX deliveries_open ON deliveries (webhook_id, id)
    WHERE state IN ('pending', 'retrying', 'held');
-- The log filtered by state, newest first; CountDeliveries; UpdateSettings.
CREATE INDEX deliveries_state ON deliveries (state, id);
-- WebhookStatus: the latest attempted delivery per (webhook, event type).
CREATE INDEX deliveries_status ON deliveries (webhook_id, event_type, last_attempt_at, id)
    WHERE last_attempt_at IS NOT NULL;
-- DeliveryFilter.EventID, and Prune's "is this event still referenced".
CREATE INDEX deliveries_event ON deliveries (event_seq);
-- Prune: finished rows by age, so that a run with nothing to prune reads
-- nothing, however long the retained log.
CREATE INDEX deliveries_finished ON deliveries (updated_at)
    WHERE state IN ('succeeded', 'failed', 'cancelled');

-- Attempts: one row per HTTP request. The primary key leads with
-- delivery_id: it serves ListAttempts and Prune, so no second index is
-- maintained. No foreign key: attempts are only inserted in the transaction
-- that updates (or inserts) their delivery, and only Prune deletes
-- deliveries, with their attempts in the same statement; the check would
-- cost a lookup and a row lock per attempt on the busiest path.
CREATE TABLE attempts (
    id               text COLLATE "C" NOT NULL,
    delivery_id      text COLLATE "C" NOT NULL,
    number           integer NOT NULL,
    started_at       timestamptz NOT NULL,
    latency_ns       bigint NOT NULL,
    request_headers  text NOT NULL,
    status_code      integer NOT NULL,
    response_headers text NOT NULL,
    response_body    text NOT NULL,
    error            text NOT NULL,
    PRIMARY KEY (delivery_id, id)
);

-- Console users (passwords hashed), console sessions (cookie value hashed)
-- and the audit log of configuration changes.
CREATE TABLE users (
    id            text COLLATE "C" PRIMARY KEY,
    username      text COLLATE "C" NOT NULL UNIQUE,
    password_hash text NOT NULL,
    role          text NOT NULL,
    projects      text NOT NULL,
    created_at    timestamptz NOT NULL
);

CREATE TABLE sessions (
    id         text COLLATE "C" PRIMARY KEY,
    hash       text NOT NULL UNIQUE,
    subject    text NOT NULL,
    name       text NOT NULL,
    role       text NOT NULL,
    projects   text NOT NULL,
    csrf       text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_subject ON sessions (subject);
-- CreateSession sweeps expired sessions.
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Audit entries, newest first by id (time-ordered).
CREATE TABLE audit (
    id      text COLLATE "C" PRIMARY KEY,
    at      timestamptz NOT NULL,
    actor   text NOT NULL,
    action  text NOT NULL,
    object  text NOT NULL,
    project text COLLATE "C" NOT NULL,
    details text NOT NULL
);
CREATE INDEX audit_project ON audit (project, id);
