-- Fewer rows and index entries per finished delivery (the SQLite store's
-- migration 0014 does the same; see it for the why).
--
-- A delivery's first attempt lives on the delivery's own row (first_*;
-- first_started NULL: none there) when attemptpack could pack its request;
-- later attempts are rows of attempts. Its ID is store.FirstAttemptID of the
-- delivery's. Adding NULL columns rewrites nothing: rows written before keep
-- their attempts rows and are read as they were.
ALTER TABLE deliveries
    ADD COLUMN first_started timestamptz,
    ADD COLUMN first_latency_ns bigint,
    ADD COLUMN first_status integer,
    ADD COLUMN first_error text,
    ADD COLUMN first_response_headers text,
    ADD COLUMN first_response_body text,
    ADD COLUMN first_request_shape bytea,
    ADD COLUMN first_request_signature text,
    ADD COLUMN first_request_body_hash bytea,
    ADD COLUMN first_request_body_truncated boolean;

-- A body that holds its event's data verbatim is kept without it: data_at is
-- where attemptpack.JoinBody puts the event's data back (NULL: body whole).
ALTER TABLE request_bodies ADD COLUMN data_at integer;

-- WebhookStatus's latest attempted delivery per (webhook, event type), one
-- row per pair upserted by each batch of completions, instead of an index
-- entry on every delivery. The backfill walks the old index one probe per
-- pair (never the whole table), then drops it.
CREATE TABLE delivery_status (
    webhook_id      text COLLATE "C" NOT NULL,
    event_type      text COLLATE "C" NOT NULL,
    last_attempt_at timestamptz NOT NULL,
    delivery_id     text COLLATE "C" NOT NULL,
    PRIMARY KEY (webhook_id, event_type)
);
WITH RECURSIVE types(w, t) AS (
    SELECT w.id, (SELECT min(event_type) FROM deliveries
        WHERE webhook_id = w.id AND last_attempt_at IS NOT NULL) FROM webhooks w
    UNION ALL
    SELECT types.w, (SELECT min(event_type) FROM deliveries
        WHERE webhook_id = types.w AND last_attempt_at IS NOT NULL AND event_type > types.t)
    FROM types WHERE types.t IS NOT NULL
)
INSERT INTO delivery_status (webhook_id, event_type, last_attempt_at, delivery_id)
SELECT types.w, types.t, d.last_attempt_at, d.id FROM types CROSS JOIN LATERAL (
    SELECT last_attempt_at, id FROM deliveries
    WHERE webhook_id = types.w AND event_type = types.t AND last_attempt_at IS NOT NULL
    ORDER BY last_attempt_at DESC, id DESC LIMIT 1) d
WHERE types.t IS NOT NULL;
DROP INDEX deliveries_status;
