-- The ASIN harvest's outbox (issue 22 §2, scale-out.md M3): processing appends the key of every new
-- point of the types the harvest reads (src/amazon/harvested-types.ts) in the transaction that
-- stores it, and the harvest deletes the rows it has read in the transaction that records what it
-- found in them, so a point is read once whatever order processing transactions commit in, and a
-- harvest that fails gives its rows back. This replaces the id cursor (last_point_id), whose
-- horizon needed a SHARE lock on data_points on every run and a global id order.
CREATE TABLE harvest_queue (
  -- the queue's own order, for claiming in batches (not data_points.id)
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- the point's key in data_points
  source          text NOT NULL,
  created         timestamptz NOT NULL,
  content_digest  uuid NOT NULL
);
-- Every row is deleted minutes after it is added: vacuum it by count of dead rows, not by share.
ALTER TABLE harvest_queue SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000);

-- The points stored after the old cursor, in the queue, so nothing in flight is lost. A point
-- whose digest migration 0009's backfill has not reached yet gets the digest that backfill will
-- give it.
INSERT INTO harvest_queue (source, created, content_digest)
SELECT source, created, coalesce(content_digest, dcs_point_digest(properties))
FROM data_points
WHERE id > (SELECT last_point_id FROM amazon_harvest_state)
  AND generator_id IN ('webmunk-amazon-order', 'pdk-external-amazon-item', 'webmunk-extension-matched-rule',
    'webmunk-extension-class-added', 'webmunk-extension-element-show', 'webmunk-extension-element-hide',
    'webmunk-extension-element-click', 'webmunk-extension-log-elements', 'webmunk-extension-scroll-position')
ORDER BY id;

-- The BRIN index on data_points.id (migration 0006) stays: the data-quality job's scan reads by id
-- range with it (src/data-quality/flags-scan.sql.ts).
ALTER TABLE amazon_harvest_state DROP COLUMN last_point_id;
