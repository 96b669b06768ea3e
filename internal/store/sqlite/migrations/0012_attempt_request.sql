-- The request of an attempt as sent: method, URL (credentials in the query
-- redacted) and body (cut at 64 KiB, request_body_truncated then 1). Empty
-- for attempts recorded before this migration.
ALTER TABLE attempts ADD COLUMN request_method TEXT NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN request_url TEXT NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN request_body TEXT NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN request_body_truncated INTEGER NOT NULL DEFAULT 0;
