-- Tokens of the PDK query API (/data/api/...). Only the SHA-256 of a token is stored (tokens are
-- 64 random characters, so a fast hash is enough): a database dump does not let anyone call the API.
--   service: issued by an administrator (`dcs tokens create`, the API tokens page) for another
--            server, e.g. the enrollment server; named, optionally expiring, revocable.
--   staff:   issued by request-token.json to a staff member who logged in with a password; short-lived.
CREATE TABLE api_tokens (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind          text NOT NULL CHECK (kind IN ('service', 'staff')),
  -- service: the name the administrator gave; staff: the user name
  name          text NOT NULL,
  -- read: the two queries; read-write: also data-sources/update.json
  scope         text NOT NULL CHECK (scope IN ('read', 'read-write')),
  token_hash    bytea NOT NULL UNIQUE,
  -- the first characters of the token, so a list can tell tokens apart without revealing them
  token_prefix  text NOT NULL,
  user_id       bigint REFERENCES staff_users (id) ON DELETE CASCADE,
  created_by    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  -- NULL: never expires (service tokens only, and only when the administrator says so)
  expires_at    timestamptz,
  revoked_at    timestamptz,
  last_used_at  timestamptz,
  CHECK (kind = 'service' OR (user_id IS NOT NULL AND expires_at IS NOT NULL))
);
-- One live service token per name, so `dcs tokens revoke NAME` names exactly one.
CREATE UNIQUE INDEX api_tokens_service_name ON api_tokens (name) WHERE kind = 'service' AND revoked_at IS NULL;
CREATE INDEX api_tokens_user ON api_tokens (user_id) WHERE kind = 'staff';
