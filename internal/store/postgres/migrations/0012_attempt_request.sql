-- The request of an attempt as sent: method, URL (credentials in the query
-- redacted) and body (cut at 64 KiB, request_body_truncated then true).
-- Empty for attempts recorded before this migration.
ALTER TABLE attempts ADD COLUMN request_method text NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN request_url text NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN request_body text NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN request_body_truncated boolean NOT NULL DEFAULT false;
