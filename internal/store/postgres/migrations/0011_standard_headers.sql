-- Whether requests carry the Standard Webhooks headers (webhook-id,
-- webhook-timestamp, webhook-signature). On for existing webhooks, as before.
ALTER TABLE webhooks ADD COLUMN standard_headers boolean NOT NULL DEFAULT true;
