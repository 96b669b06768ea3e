-- Whether requests carry the Standard Webhooks headers (webhook-id,
-- webhook-timestamp, webhook-signature). On for existing webhooks, as before.
ALTER TABLE webhooks ADD COLUMN standard_headers INTEGER NOT NULL DEFAULT 1;
