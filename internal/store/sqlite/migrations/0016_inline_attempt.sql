-- A delivery's first attempt, when kept on its row, is one BLOB
-- (attemptpack.EncodeInline) instead of the ten first_* columns of 0014:
-- the response headers in a binary form with HTTP dates as a second's offset
-- from the start, the signature as its 32 bytes, the start relative to the
-- time in the delivery's ID. About 87 bytes where the columns took 145.
-- Rows written before keep their first_* columns and are read as before;
-- nothing is rewritten, so the migration is instant on any size of table.
ALTER TABLE deliveries ADD COLUMN first_attempt BLOB;
