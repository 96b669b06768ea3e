-- The request of an attempt in parts stored once (internal/store/attemptpack):
-- its shape (method, redacted URL and the headers that are the same on every
-- attempt, Webhook-Id and Webhook-Timestamp as placeholders) under its hash,
-- and its body once per event under its hash. An attempt written after this
-- migration keeps request_shape and request_body_hash and leaves
-- request_headers, request_method, request_url and request_body empty; rows
-- written before it keep their inline columns (request_shape NULL) and are
-- read as they were, so nothing is rewritten.
CREATE TABLE request_shapes (
    hash    BLOB PRIMARY KEY,
    method  TEXT NOT NULL,
    url     TEXT NOT NULL,
    headers TEXT NOT NULL
) WITHOUT ROWID;
-- Bodies go with their event: pruning an event deletes its bodies. A rowid
-- table rather than WITHOUT ROWID: a 1 KiB body fits in a table b-tree page
-- but would spill into a 4 KiB overflow page of an index b-tree.
CREATE TABLE request_bodies (
    event_seq INTEGER NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
    hash      BLOB NOT NULL,
    body      TEXT NOT NULL,
    UNIQUE (event_seq, hash)
);
ALTER TABLE attempts ADD COLUMN request_shape BLOB;
ALTER TABLE attempts ADD COLUMN request_signature TEXT NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN request_body_hash BLOB;
