-- Console users (passwords hashed), console sessions (cookie value hashed)
-- and the audit log of configuration changes.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    projects      TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    hash       TEXT NOT NULL UNIQUE,
    subject    TEXT NOT NULL,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL,
    projects   TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_subject ON sessions (subject);

-- Audit entries, newest first by id (time-ordered).
CREATE TABLE audit (
    id      TEXT PRIMARY KEY,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    object  TEXT NOT NULL,
    project TEXT NOT NULL,
    details TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX audit_project ON audit (project, id);

CREATE INDEX events_received ON events (received_at);

-- Pruning finds old finished deliveries by their last update.
CREATE INDEX deliveries_finished ON deliveries (updated_at) WHERE state IN ('succeeded', 'failed', 'cancelled');
