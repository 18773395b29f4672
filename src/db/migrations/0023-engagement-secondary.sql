-- Engagement points of donations (pdk-external-engagement-*, issue 20) get the original's secondary
-- identifier, worked out from two of their properties rather than read at a path (ED utils.py
-- create_engagement_event): 'incoming active' when incoming_engagement > 0, else 'none' without an
-- outgoing_engagement, else 'active' when it is > 0, else 'passive' (processing/secondary.ts).
ALTER TABLE data_types DROP CONSTRAINT data_types_secondary_kind_check;
ALTER TABLE data_types ADD CONSTRAINT data_types_secondary_kind_check
  CHECK (secondary_kind IN ('key', 'url-host', 'voices-present', 'engagement'));
