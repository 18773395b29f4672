-- Donated files, sealed at rest, and the participant's review (issue 20, docs/donations.md).

-- The participant's link: only the sha256 of the upload token is stored, so a database reader
-- cannot upload or review. The review key pair seals extractions for the participant: its public
-- half is clear (the worker seals to it), its secret half is secretbox-wrapped by a key derived
-- from the upload token, so only the holder of the current link can read an extraction.
ALTER TABLE donation_requests
  ADD COLUMN upload_token_sha256   bytea UNIQUE,
  ADD COLUMN token_issued_at       timestamptz,
  ADD COLUMN review_public_key     bytea,
  ADD COLUMN review_secret_wrapped bytea;

ALTER TABLE donation_files DROP CONSTRAINT donation_files_state_check;
ALTER TABLE donation_files
  ADD CONSTRAINT donation_files_state_check
    CHECK (state IN ('receiving', 'received', 'extracting', 'awaiting-confirmation', 'imported', 'refused', 'expired')),
  -- as the participant's browser named it: shown back to them and to staff, never used as a path
  ADD COLUMN name               text NOT NULL DEFAULT '',
  ADD COLUMN size               bigint NOT NULL DEFAULT 0,
  ADD COLUMN sha256             bytea,
  ADD COLUMN state_changed_at   timestamptz NOT NULL DEFAULT now(),
  ADD COLUMN participant_message text,
  ADD COLUMN staff_reason       text,
  -- the importer's rows and notes, gzip JSON sealed to the request's review public key
  ADD COLUMN extraction         bytea,
  ADD COLUMN rows_extracted     integer,
  ADD COLUMN rows_confirmed     integer,
  ADD COLUMN points             integer,
  ADD COLUMN bundle_id          bigint,
  ADD COLUMN attempts           integer NOT NULL DEFAULT 0;
CREATE INDEX donation_files_to_import ON donation_files (id) WHERE state = 'received';
CREATE INDEX donation_files_by_state ON donation_files (state, state_changed_at);

-- The file's bytes, sealed (crypto_box_seal to DONATION_PUBLIC_KEY) in chunks of 1 MiB as they
-- arrive. In the database so that web and worker machines share them; deleted once imported
-- unless DONATION_KEEP_FILES. Not in backups: the points made from them are.
CREATE TABLE donation_file_chunks (
  file_id  bigint NOT NULL REFERENCES donation_files (id) ON DELETE CASCADE,
  n        integer NOT NULL,
  sealed   bytea NOT NULL,
  PRIMARY KEY (file_id, n)
);
