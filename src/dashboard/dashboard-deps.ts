/**
 * What every dashboard page and action is given (a leaf, so that the pages and the plugin that
 * registers them do not import each other).
 */
import type { Config } from '../config.ts';
import type { Pool } from '../db/database.ts';
import type { Logger } from '../log.ts';

export interface DashboardDeps {
  pool: Pool;
  /**
   * The read replica (DATABASE_READ_URL) when set, else `pool`: only for what may lag a little
   * and no action of the dashboard writes (statistics, points, user agents, products, the health
   * history). Anything a page shows right after an action (names, groups, alerts, job runs,
   * configurations) reads `pool`, so the page shows what was just done.
   */
  readPool: Pool;
  config: Config;
  log: Logger;
}

/** Form fields as strings, or arrays of strings when a name repeats (multi-selects). */
export type FormFields = Record<string, string | string[]>;
