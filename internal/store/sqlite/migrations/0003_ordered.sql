-- Ordered webhooks: a delivery remembers whether its webhook was ordered when
-- it was created, and only the oldest open delivery of such a webhook can be
-- claimed, so one is in flight at a time, in event order, on any node.
ALTER TABLE deliveries ADD COLUMN ordered INTEGER NOT NULL DEFAULT 0;
CREATE INDEX deliveries_open ON deliveries (webhook_id, id) WHERE state IN ('pending', 'retrying', 'held');
