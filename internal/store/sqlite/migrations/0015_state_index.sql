-- deliveries_state keeps only the states few deliveries are in
-- (store.IndexedStates): pending rows are counted from deliveries_due, and a
-- succeeded delivery (most of the log) no longer costs an index entry, nor
-- its removal and re-insertion on every completion. The new index is built
-- in one pass over the table that keeps only those rows.
DROP INDEX deliveries_state;
CREATE INDEX deliveries_state ON deliveries (state, id) WHERE state IN ('retrying', 'failed', 'cancelled', 'held');

-- deliveries_open serves ordered webhooks only (the claim's "oldest open
-- delivery of this webhook"): it keeps ordered rows, so the others cost no
-- entry at ingest and no removal at completion. DeleteWebhook finds open
-- rows in deliveries_due and deliveries_state instead.
DROP INDEX deliveries_open;
CREATE INDEX deliveries_open ON deliveries (webhook_id, id) WHERE ordered = 1 AND state IN ('pending', 'retrying', 'held');

-- deliveries_due is keyed by webhook first: (webhook_id, due_at, id). A claim
-- skips from one webhook with pending or retrying rows to the next (one seek
-- each) and takes the oldest due rows of each webhook it may claim for, so
-- the rows of webhooks it leaves out (a project at its share of the workers)
-- are never read, however many wait. due_at first made every such claim step
-- over all of them.
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries (webhook_id, due_at, id) WHERE state IN ('pending', 'retrying');
