-- Undecodable uploads are kept (status 'errored', no processing attempt) for inspection, but only up
-- to ERRORED_UPLOADS_MAX_BYTES in all: one row keeps the running total, so the check costs no scan,
-- and counts what was refused once the quota was reached (System health, /metrics).
CREATE TABLE errored_upload_totals (
  singleton        boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  stored_bytes     bigint NOT NULL,
  refused_uploads  bigint NOT NULL DEFAULT 0,
  refused_bytes    bigint NOT NULL DEFAULT 0,
  last_refused_at  timestamptz
);
INSERT INTO errored_upload_totals (stored_bytes)
SELECT coalesce(sum(octet_length(body)), 0) FROM bundles WHERE status = 'errored' AND attempts = 0;
