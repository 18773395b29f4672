-- Participants' data donations (issue 20; the original's PDK External Data, ecosystem-api.md §2.8).
-- WORK IN PROGRESS on branch i20-flow: requests and their sources; files come next.

-- What participants can donate: staff edit names and instructions; DONATION_SOURCES enables them.
CREATE TABLE donation_sources (
  identifier    text PRIMARY KEY CHECK (identifier ~ '^[a-z0-9-]{1,50}$'),
  name          text NOT NULL,
  instructions  text NOT NULL DEFAULT '',
  priority      integer NOT NULL DEFAULT 0
);
INSERT INTO donation_sources (identifier, name, priority) VALUES
  ('amazon', 'Amazon Order History', 0),
  ('chatgpt', 'ChatGPT conversations', 1);

-- One request per participant (the original allowed several and always used the first).
CREATE TABLE donation_requests (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  identifier    text NOT NULL UNIQUE,
  email         text,
  -- the enrollment server's metadata (amazon_start, amazon_end...), as its link carried it
  extras        jsonb NOT NULL DEFAULT '{}',
  requested_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE donation_request_sources (
  request_id  bigint NOT NULL REFERENCES donation_requests (id) ON DELETE CASCADE,
  source      text NOT NULL REFERENCES donation_sources (identifier),
  PRIMARY KEY (request_id, source)
);

-- A donated file; its bytes (sealed) and its extraction come with the upload step.
CREATE TABLE donation_files (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  request_id    bigint NOT NULL REFERENCES donation_requests (id) ON DELETE CASCADE,
  source        text NOT NULL REFERENCES donation_sources (identifier),
  uploaded_at   timestamptz NOT NULL DEFAULT now(),
  state         text NOT NULL DEFAULT 'received'
                CHECK (state IN ('received', 'extracting', 'awaiting-confirmation', 'imported', 'refused', 'expired')),
  imported_at   timestamptz
);
CREATE INDEX donation_files_request ON donation_files (request_id, uploaded_at);
