-- deliveries_state keeps only the states few deliveries are in
-- (store.IndexedStates): pending rows are counted from deliveries_due, and a
-- succeeded delivery (most of the log) no longer costs an index entry, nor
-- its removal and re-insertion on every completion. The new index is built
-- in one pass over the table that keeps only those rows.
DROP INDEX deliveries_state;
CREATE INDEX deliveries_state ON deliveries (state, id) WHERE state IN ('retrying', 'failed', 'cancelled', 'held');
