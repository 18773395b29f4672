/**
 * What every dashboard page and action is given (a leaf, so that the pages and the plugin that
 * registers them do not import each other).
 */
import type { Config } from '../config.ts';
import type { Pool } from '../db/database.ts';
import type { Logger } from '../log.ts';

export interface DashboardDeps {
  pool: Pool;
  config: Config;
  log: Logger;
}

/** Form fields as strings, or arrays of strings when a name repeats (multi-selects). */
export type FormFields = Record<string, string | string[]>;
