-- Every upload gets a receipt (a random UUID) when it arrives, stored with its bundle. An upload
-- that the database could not take is written to the local spool (src/ingest/spool.ts) with the
-- same receipt and inserted when the database is back; the unique receipt makes that insert
-- happen once, even when an insert whose outcome was unknown (connection lost during the commit)
-- did commit, or a crash came between the insert and the removal of the spool file.
ALTER TABLE bundles ADD COLUMN receipt uuid;
CREATE UNIQUE INDEX bundles_receipt ON bundles (receipt) WHERE receipt IS NOT NULL;
