-- REX configurations served at /data/app-config.json (src/app-config/, docs/app-config.md).

-- One row per configuration: its current state. Every save also writes the whole state as a new
-- row of app_configuration_versions, so history and diffs need no other table.
CREATE TABLE app_configurations (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name              text NOT NULL UNIQUE,
  -- Anchored regular expressions (app-config/patterns.ts): the identifiers and contexts it serves.
  id_pattern        text NOT NULL,
  context_pattern   text NOT NULL DEFAULT '.*',
  -- Lower first; ties by name.
  evaluation_order  integer NOT NULL DEFAULT 0,
  enabled           boolean NOT NULL DEFAULT true,
  -- Set: one arm of the randomised arm set of the configurations with the same id_pattern. 0
  -- closes the arm to new participants (those already drawn keep it).
  weight            integer CHECK (weight >= 0),
  -- The JSON object as the operator wrote it (key order kept); served re-indented.
  document          text NOT NULL,
  version           integer NOT NULL DEFAULT 1,
  updated_at        timestamptz NOT NULL DEFAULT now(),
  updated_by        text NOT NULL
);

CREATE TABLE app_configuration_versions (
  configuration_id  bigint NOT NULL REFERENCES app_configurations (id) ON DELETE CASCADE,
  version           integer NOT NULL,
  name              text NOT NULL,
  id_pattern        text NOT NULL,
  context_pattern   text NOT NULL,
  evaluation_order  integer NOT NULL,
  enabled           boolean NOT NULL,
  weight            integer,
  document          text NOT NULL,
  saved_at          timestamptz NOT NULL DEFAULT now(),
  saved_by          text NOT NULL,
  PRIMARY KEY (configuration_id, version)
);

-- A configuration given to one identifier by staff (dashboard, dcs config assign). Keyed by the
-- identifier, not data_sources: a participant asks for a configuration before the first upload.
CREATE TABLE app_config_assignments (
  identifier        text PRIMARY KEY,
  configuration_id  bigint NOT NULL REFERENCES app_configurations (id) ON DELETE CASCADE,
  assigned_at       timestamptz NOT NULL DEFAULT now(),
  assigned_by       text NOT NULL
);

-- The arm an identifier drew from an arm set (the weighted configurations sharing id_pattern),
-- at its first request: every later request gets the same arm, whatever the weights become.
CREATE TABLE app_config_draws (
  identifier        text NOT NULL,
  id_pattern        text NOT NULL,
  configuration_id  bigint NOT NULL REFERENCES app_configurations (id) ON DELETE CASCADE,
  drawn_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (identifier, id_pattern)
);

-- What each identifier was served last: the study arm, for the dashboard and the exports.
CREATE TABLE app_config_served (
  identifier        text PRIMARY KEY,
  configuration_id  bigint NOT NULL REFERENCES app_configurations (id) ON DELETE CASCADE,
  version           integer NOT NULL,
  -- how it was chosen: assigned (directly), drawn (arm), exact (id_pattern equal to the
  -- identifier), pattern, default (APP_CONFIG_DEFAULT)
  chosen_by         text NOT NULL CHECK (chosen_by IN ('assigned', 'drawn', 'exact', 'pattern', 'default')),
  served_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX app_config_served_configuration ON app_config_served (configuration_id);
