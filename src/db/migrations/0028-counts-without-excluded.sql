-- Statistics leave out what exclusion rules exclude (issue 21 §2, docs/data-quality.md): each
-- source's statistics columns remember the version of the rules they were computed with (a hash of
-- the rules' content), and the source-statistics job recomputes every source whose version is not
-- the current one, so making, editing, disabling or enabling a rule reaches the home page and the
-- API at the job's next run.
ALTER TABLE data_sources ADD COLUMN stats_rules text;

-- The same for the ASIN harvest's counts of each product (points, sources): the version of the
-- rules they were counted with. Counted with none so far (md5 of no rules, as RULES_VERSION).
ALTER TABLE amazon_harvest_state ADD COLUMN rules_version text;
UPDATE amazon_harvest_state SET rules_version = md5('');
