/** What a status check is, and the sources every check looks at. */
import type { Config } from '../../config.ts';
import type { Pool } from '../../db/database.ts';
import { SOURCE_WHOLLY_EXCLUDED } from '../../data-quality/exclusion-sql.ts';
import type { CheckOutcome } from '../alerts.repository.ts';

export interface StatusCheck {
  /** The check id, as in ENABLED_CHECKS and alerts.check_id. */
  id: string;
  /** The alerts that should be active now, for the sources in ELIGIBLE_SOURCES only. */
  evaluate(pool: Pool, config: Config): Promise<CheckOutcome[]>;
}

/**
 * A WITH item `eligible`: the sources checks run on. Removed sources, sources whose alerts are
 * suppressed (their own flag or their group's) and sources an exclusion rule takes out whole (a
 * team's test install) get no outcome, so their alerts are closed.
 */
export const ELIGIBLE_SOURCES = `eligible AS (
  SELECT s.* FROM data_sources s LEFT JOIN source_groups g ON g.id = s.group_id
  WHERE s.removed_at IS NULL AND NOT s.suppress_alerts AND NOT coalesce(g.suppress_alerts, false)
    AND NOT ${SOURCE_WHOLLY_EXCLUDED}
)`;
