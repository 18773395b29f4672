/**
 * Per identifier: the configuration staff assigned directly (app_config_assignments), the arms it
 * drew (app_config_draws) and what it was served last (app_config_served).
 */
import type { Pool, PoolClient } from '../db/database.ts';

type Db = Pool | PoolClient;

export type ChosenBy = 'assigned' | 'drawn' | 'exact' | 'pattern' | 'default';

export async function findAssignment(db: Db, identifier: string): Promise<number | undefined> {
  const { rows: [row] } = await db.query('SELECT configuration_id FROM app_config_assignments WHERE identifier = $1', [identifier]);
  return row ? Number(row.configuration_id) : undefined;
}

/** Assigns configuration `configurationId` to `identifier`, or clears its assignment (null). */
export async function setAssignment(db: Db, identifier: string, configurationId: number | null, by: string): Promise<void> {
  if (configurationId === null) {
    await db.query('DELETE FROM app_config_assignments WHERE identifier = $1', [identifier]);
    return;
  }
  await db.query(
    `INSERT INTO app_config_assignments (identifier, configuration_id, assigned_by) VALUES ($1, $2, $3)
     ON CONFLICT (identifier) DO UPDATE SET configuration_id = $2, assigned_at = now(), assigned_by = $3`,
    [identifier, configurationId, by],
  );
}

/** The arm `identifier` drew from the arm set of `idPattern`, if it drew one. */
export async function findDraw(db: Db, identifier: string, idPattern: string): Promise<number | undefined> {
  const { rows: [row] } = await db.query('SELECT configuration_id FROM app_config_draws WHERE identifier = $1 AND id_pattern = $2', [identifier, idPattern]);
  return row ? Number(row.configuration_id) : undefined;
}

/**
 * Records a draw unless one is there (`replacing` undefined), or replaces the draw of arm
 * `replacing` (an arm no longer served). Either way a concurrent request's draw, committed first,
 * wins: the caller reads the draw again afterwards and serves that.
 */
export async function recordDraw(db: Db, identifier: string, idPattern: string, configurationId: number, replacing?: number): Promise<void> {
  if (replacing === undefined) {
    await db.query(
      'INSERT INTO app_config_draws (identifier, id_pattern, configuration_id) VALUES ($1, $2, $3) ON CONFLICT (identifier, id_pattern) DO NOTHING',
      [identifier, idPattern, configurationId],
    );
  } else {
    await db.query(
      'UPDATE app_config_draws SET configuration_id = $3, drawn_at = now() WHERE identifier = $1 AND id_pattern = $2 AND configuration_id = $4',
      [identifier, idPattern, configurationId, replacing],
    );
  }
}

export async function recordServed(db: Db, identifier: string, served: { configurationId: number; version: number; chosenBy: ChosenBy }): Promise<void> {
  await db.query(
    `INSERT INTO app_config_served (identifier, configuration_id, version, chosen_by) VALUES ($1, $2, $3, $4)
     ON CONFLICT (identifier) DO UPDATE SET configuration_id = $2, version = $3, chosen_by = $4, served_at = now()`,
    [identifier, served.configurationId, served.version, served.chosenBy],
  );
}
