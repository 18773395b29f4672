-- Amazon products participants saw or ordered (webmunk-server.md §2, §4.1-4.2), harvested from
-- their points and enriched through Keepa. Unlike the original's, the harvest position lives in a
-- state table (never among the products), only valid ASINs are stored, and misses are recorded.

-- The harvest's position: every data point with id <= last_point_id has been scanned. Ids come
-- from one sequence, and the harvest only moves past an id once every transaction that could
-- still insert a smaller one has ended (it briefly takes a SHARE lock on data_points), so a late
-- upload is scanned like any other.
CREATE TABLE amazon_harvest_state (
  singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  last_point_id   bigint NOT NULL DEFAULT 0,
  points_scanned  bigint NOT NULL DEFAULT 0,
  -- candidates that were not valid ASINs (bad length or characters)
  rejected        bigint NOT NULL DEFAULT 0,
  updated_at      timestamptz
);
INSERT INTO amazon_harvest_state DEFAULT VALUES;

-- Scanning by id range needs an index on id; ids grow with the table's physical order, so a BRIN
-- index (a few pages) serves it at no cost to inserts worth measuring.
CREATE INDEX data_points_id ON data_points USING brin (id);

CREATE TABLE amazon_products (
  asin               text PRIMARY KEY CHECK (asin ~ '^[A-Z0-9]{10}$'),
  -- `created` of the first and last point it was seen in
  first_seen         timestamptz NOT NULL,
  last_seen          timestamptz NOT NULL,
  points             bigint NOT NULL DEFAULT 0,
  sources            integer NOT NULL DEFAULT 0,
  -- in a participant's order (webmunk-amazon-order), not only seen on a page
  ordered            boolean NOT NULL DEFAULT false,
  -- Keepa: pending (not asked yet, or to ask again), enriched, missed (Keepa does not know it;
  -- asked again at keepa_next_attempt, with a growing delay)
  keepa_state        text NOT NULL DEFAULT 'pending' CHECK (keepa_state IN ('pending', 'enriched', 'missed')),
  keepa_attempts     integer NOT NULL DEFAULT 0,
  keepa_next_attempt timestamptz,
  enriched_at        timestamptz,
  -- {"keepa": [product]} as the original stored it, with NaN as null
  metadata           jsonb,
  -- derived from metadata (webmunk-server.md §2.3)
  title              text,
  brand              text,
  manufacturer       text,
  product_type       text,
  size               text,
  root_category      bigint,
  category_tree      text,
  category_tree_ids  text,
  seller             text,
  added_at           timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
-- The Keepa queue: ordered products first, then the longest waiting.
CREATE INDEX amazon_products_queue ON amazon_products (ordered DESC, keepa_next_attempt NULLS FIRST, asin) WHERE keepa_state <> 'enriched';

-- The points the harvest has counted (a point is its `created` and content hash, as in
-- data_points), those with at least one ASIN: a point scanned again (re-runs, `dcs reprocess`,
-- which gives points new ids) is found here and counted no more.
CREATE TABLE amazon_harvested_points (
  created       timestamptz NOT NULL,
  content_hash  bigint NOT NULL,
  PRIMARY KEY (created, content_hash)
);

-- Where a product was seen: per source and data type (the product page; analysts). Only the
-- primary key: every index here is paid for on every sighting the harvest records.
CREATE TABLE amazon_product_sightings (
  asin          text NOT NULL,
  source        text NOT NULL,
  generator_id  text NOT NULL,
  first_seen    timestamptz NOT NULL,
  last_seen     timestamptz NOT NULL,
  points        bigint NOT NULL,
  ordered       boolean NOT NULL,
  PRIMARY KEY (asin, source, generator_id)
);
