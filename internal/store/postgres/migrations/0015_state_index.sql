-- herald:online
-- deliveries_state keeps only the states few deliveries are in
-- (store.IndexedStates): pending rows are counted from deliveries_due, and a
-- succeeded delivery (most of the log) no longer costs an index entry on
-- every new row version. An online migration (see migrate): each statement
-- runs on its own, the index is built CONCURRENTLY (writes go on meanwhile),
-- and every statement can run again, so an interrupted run resumes.
CREATE INDEX CONCURRENTLY IF NOT EXISTS deliveries_state_new ON deliveries (state, id)
    WHERE state IN ('retrying', 'failed', 'cancelled', 'held');
DROP INDEX CONCURRENTLY IF EXISTS deliveries_state;
ALTER INDEX IF EXISTS deliveries_state_new RENAME TO deliveries_state;

-- deliveries_open serves ordered webhooks only (the claim's "oldest open
-- delivery of this webhook"): it keeps ordered rows, so the others cost no
-- entry on any row version.
CREATE INDEX CONCURRENTLY IF NOT EXISTS deliveries_open_new ON deliveries (webhook_id, id)
    WHERE ordered AND state IN ('pending', 'retrying', 'held');
DROP INDEX CONCURRENTLY IF EXISTS deliveries_open;
ALTER INDEX IF EXISTS deliveries_open_new RENAME TO deliveries_open;

-- deliveries_due is keyed by webhook first: (webhook_id, next_attempt_at,
-- id). A claim skips from one webhook with pending or retrying rows to the
-- next and takes the oldest due rows of each webhook it may claim for, so the
-- rows of webhooks it leaves out (a project at its share of the workers) are
-- never read, however many wait. due_at first made every such claim step over
-- all of them. And the lease is no longer in an index: a claim changes no
-- indexed column, so its new row version is a HOT update (no index entries)
-- when the page has room, which fillfactor 80 leaves on new pages.
CREATE INDEX CONCURRENTLY IF NOT EXISTS deliveries_due_new ON deliveries (webhook_id, next_attempt_at, id)
    WHERE state IN ('pending', 'retrying');
DROP INDEX CONCURRENTLY IF EXISTS deliveries_due;
ALTER INDEX IF EXISTS deliveries_due_new RENAME TO deliveries_due;
ALTER TABLE deliveries SET (fillfactor = 50);
