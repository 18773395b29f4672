-- Exclusion rules (issue 21 §2, docs/data-quality.md): points a rule matches are left out when
-- read (exports, statistics and alerts, the ASIN harvest's counts, the PDK query API); nothing
-- is ever deleted. A rule matches the conjunction of the fields it sets (at least one).
CREATE TABLE exclusion_rules (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source             text,
  group_name         text,
  -- a case-insensitive regular expression over the user agents a source was seen with
  user_agent_pattern text,
  generator_id       text,
  -- the points' `created`, from inclusive, to exclusive
  created_from       timestamptz,
  created_to         timestamptz,
  reason             text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
  enabled            boolean NOT NULL DEFAULT true,
  created_by         text NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_by         text NOT NULL,
  updated_at         timestamptz NOT NULL DEFAULT now(),
  CHECK (num_nonnulls(source, group_name, user_agent_pattern, generator_id, created_from, created_to) > 0),
  CHECK (created_from IS NULL OR created_to IS NULL OR created_from < created_to)
);

-- Every change to a rule, as it was after the change: who did what when.
CREATE TABLE exclusion_rule_history (
  rule_id     bigint NOT NULL REFERENCES exclusion_rules (id),
  changed_at  timestamptz NOT NULL DEFAULT now(),
  changed_by  text NOT NULL,
  action      text NOT NULL CHECK (action IN ('created', 'edited', 'disabled', 'enabled')),
  rule        jsonb NOT NULL
);
CREATE INDEX exclusion_rule_history_rule ON exclusion_rule_history (rule_id, changed_at);
