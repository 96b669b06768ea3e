-- Liveness records: one row per Herald process identity (node_id) that uses
-- this database. A single SQLite node has no peers to watch, but the table
-- keeps the store's contract identical to PostgreSQL's.
CREATE TABLE nodes (
    id           TEXT PRIMARY KEY,
    instance     TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL
) WITHOUT ROWID;
