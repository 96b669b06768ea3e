-- Fewer rows and index entries per finished delivery.
--
-- A delivery's first attempt lives on the delivery's own row (the first_*
-- columns; first_started NULL: none there) when it recorded a request that
-- attemptpack could pack, which is nearly every first attempt. A delivery that
-- succeeds at once then costs one row and no attempts row or attempts index
-- entry; later attempts are rows of attempts, as before. The inline attempt's
-- ID is the delivery's with the prefix att_ (store.FirstAttemptID). Rows
-- written before this migration keep their attempts rows and NULL here: they
-- are read as they were, nothing is rewritten.
ALTER TABLE deliveries ADD COLUMN first_started INTEGER;
ALTER TABLE deliveries ADD COLUMN first_latency_ns INTEGER;
ALTER TABLE deliveries ADD COLUMN first_status INTEGER;
ALTER TABLE deliveries ADD COLUMN first_error TEXT;
ALTER TABLE deliveries ADD COLUMN first_response_headers TEXT;
ALTER TABLE deliveries ADD COLUMN first_response_body TEXT;
ALTER TABLE deliveries ADD COLUMN first_request_shape BLOB;
ALTER TABLE deliveries ADD COLUMN first_request_signature TEXT;
ALTER TABLE deliveries ADD COLUMN first_request_body_hash BLOB;
ALTER TABLE deliveries ADD COLUMN first_request_body_truncated INTEGER;

-- A body that holds its event's data verbatim is kept without it: data_at is
-- where attemptpack.JoinBody puts the event's data back (NULL: body whole).
ALTER TABLE request_bodies ADD COLUMN data_at INTEGER;

-- WebhookStatus's "latest attempted delivery per (webhook, event type)" is
-- kept as one row per pair, upserted by each batch of completions, instead
-- of an index entry on every delivery. The backfill reads the old index one
-- seek per pair (never the whole table), then drops it.
CREATE TABLE delivery_status (
    webhook_id      TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    last_attempt_at INTEGER NOT NULL,
    delivery_id     TEXT NOT NULL,
    PRIMARY KEY (webhook_id, event_type)
) WITHOUT ROWID;
WITH RECURSIVE types(w, t) AS (
    SELECT w.id, (SELECT min(event_type) FROM deliveries INDEXED BY deliveries_status
        WHERE webhook_id = w.id AND last_attempt_at IS NOT NULL) FROM webhooks w
    UNION ALL
    SELECT types.w, (SELECT min(event_type) FROM deliveries INDEXED BY deliveries_status
        WHERE webhook_id = types.w AND last_attempt_at IS NOT NULL AND event_type > types.t)
    FROM types WHERE types.t IS NOT NULL
)
INSERT INTO delivery_status (webhook_id, event_type, last_attempt_at, delivery_id)
SELECT types.w, types.t, d.last_attempt_at, d.id FROM types JOIN deliveries d ON d.id = (
    SELECT id FROM deliveries INDEXED BY deliveries_status
    WHERE webhook_id = types.w AND event_type = types.t AND last_attempt_at IS NOT NULL
    ORDER BY last_attempt_at DESC, id DESC LIMIT 1)
WHERE types.t IS NOT NULL;
DROP INDEX deliveries_status;
