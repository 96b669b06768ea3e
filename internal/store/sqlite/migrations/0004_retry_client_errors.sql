-- Whether a 4xx answer (other than 408, 410 and 429) is retried like a 5xx;
-- when off, it fails the delivery at once. On for existing webhooks, as before.
ALTER TABLE webhooks ADD COLUMN retry_client_errors INTEGER NOT NULL DEFAULT 1;
