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
