-- The `recorded` time a bundle's points keep (issue 19). Processing sets a point's `recorded` to
-- the time it stored it, but a bundle brought back by `dcs restore`, or made by `dcs import-pdk`
-- from the original server's points, was recorded long ago: its points keep that time, so the
-- API's `recorded` filters and the sources' latest recorded point mean after a move what they
-- meant before it. NULL (every upload): the processing time, as before.
ALTER TABLE bundles ADD COLUMN points_recorded_at timestamptz;
