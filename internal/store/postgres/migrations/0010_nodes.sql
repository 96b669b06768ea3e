-- Liveness records: one row per Herald node identity (node_id) sharing the
-- database. Each node moves its heartbeat_at every few seconds; any live
-- node releases the leases of a node whose heartbeat stopped, so a dead
-- node's deliveries are taken over without waiting for its leases to expire.
CREATE TABLE nodes (
    id           text COLLATE "C" PRIMARY KEY,
    instance     text NOT NULL,
    started_at   timestamptz NOT NULL,
    heartbeat_at timestamptz NOT NULL
);
