-- Uploads that arrive uncompressed (CREATE, raw JSON, PUT without gzip, form payloads with
-- compression=none) are gzipped before they are stored; see src/ingest/compress-at-rest.ts.
-- true: `body` was gzipped by this server (compression = 'gzip'); gunzip gives the payload exactly
-- as received. false: `body` is as received (compression says what the client used).
ALTER TABLE bundles ADD COLUMN compressed_at_rest boolean NOT NULL DEFAULT false;
