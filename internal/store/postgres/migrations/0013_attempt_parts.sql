-- The request of an attempt in parts stored once (internal/store/attemptpack):
-- its shape (method, redacted URL and the headers that are the same on every
-- attempt, Webhook-Id and Webhook-Timestamp as placeholders) under its hash,
-- and its body once per event under its hash. An attempt written after this
-- migration keeps request_shape and request_body_hash and leaves
-- request_headers, request_method, request_url and request_body empty; rows
-- written before it keep their inline columns (request_shape NULL) and are
-- read as they were, so nothing is rewritten (ADD COLUMN without a volatile
-- default changes no row).
CREATE TABLE request_shapes (
    hash    bytea PRIMARY KEY,
    method  text NOT NULL,
    url     text NOT NULL,
    headers text NOT NULL
);
-- Bodies go with their event: pruning an event deletes its bodies.
CREATE TABLE request_bodies (
    event_seq bigint NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
    hash      bytea NOT NULL,
    body      text NOT NULL,
    PRIMARY KEY (event_seq, hash)
);
ALTER TABLE attempts ADD COLUMN request_shape bytea;
ALTER TABLE attempts ADD COLUMN request_signature text NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN request_body_hash bytea;
