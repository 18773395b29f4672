/**
 * Alerts (table alerts, the original's DataSourceAlert) and the state machine every status check
 * shares (pdk-server.md §9.2), applied to a whole check at once rather than source by source.
 */
import type { QueryResultRow } from 'pg';
import type { Pool, PoolClient } from '../db/database.ts';
import { withTransaction } from '../db/transaction.ts';

export type AlertLevel = 'info' | 'warning' | 'critical';

/** What a check concludes about one source: an alert that should be active. */
export interface CheckOutcome {
  source: string;
  name: string;
  level: AlertLevel;
  details: { message: string } & Record<string, unknown>;
}

export interface Alert {
  id: number;
  source: string;
  checkId: string;
  name: string;
  level: AlertLevel;
  details: { message?: string } & Record<string, unknown>;
  created: Date;
  updated: Date;
  active: boolean;
}

export interface AlertChanges {
  opened: number;
  updated: number;
  closed: number;
}

function rowToAlert(row: QueryResultRow): Alert {
  return {
    id: row.id,
    source: row.source,
    checkId: row.check_id,
    name: row.name,
    level: row.level,
    details: row.details,
    created: row.created,
    updated: row.updated,
    active: row.active,
  };
}

const OUTCOMES = `jsonb_to_recordset($2::jsonb) AS o (source text, name text, level text, details jsonb)`;

/**
 * Makes the active alerts of `checkId` match `outcomes`: an active alert with no outcome, or with
 * another name or level, is closed (active = false, updated = now); an outcome with a matching
 * active alert refreshes its `updated` and details; any other outcome opens a new alert. Sources
 * a check leaves out (no problem, removed, suppressed, check disabled) therefore have their
 * alerts closed. Runs in one transaction.
 */
export function applyCheckOutcomes(pool: Pool, checkId: string, outcomes: readonly CheckOutcome[]): Promise<AlertChanges> {
  return withTransaction(pool, (client) => applyOutcomesInTransaction(client, checkId, JSON.stringify(outcomes)));
}

// Three statements, in this order: at most one active alert per (source, check) is enforced by a
// unique index, so the old alert must be closed before its successor is inserted, which the
// sub-statements of a single WITH query would not guarantee.
async function applyOutcomesInTransaction(client: PoolClient, checkId: string, outcomesJson: string): Promise<AlertChanges> {
  const closed = await client.query(
    `UPDATE alerts a SET active = false, updated = now()
     WHERE a.check_id = $1 AND a.active
       AND NOT EXISTS (SELECT 1 FROM ${OUTCOMES} WHERE o.source = a.source AND o.name = a.name AND o.level = a.level)`,
    [checkId, outcomesJson],
  );
  const updated = await client.query(
    `UPDATE alerts a SET updated = now(), details = o.details
     FROM ${OUTCOMES}
     WHERE a.check_id = $1 AND a.active AND a.source = o.source`,
    [checkId, outcomesJson],
  );
  const opened = await client.query(
    `INSERT INTO alerts (source, check_id, name, level, details)
     SELECT o.source, $1, o.name, o.level, o.details
     FROM ${OUTCOMES}
     WHERE EXISTS (SELECT 1 FROM data_sources s WHERE s.source = o.source)
       AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.check_id = $1 AND a.active AND a.source = o.source)`,
    [checkId, outcomesJson],
  );
  return { opened: opened.rowCount ?? 0, updated: updated.rowCount ?? 0, closed: closed.rowCount ?? 0 };
}

/** Every active alert, by source then creation time. */
export async function listActiveAlerts(db: Pool | PoolClient): Promise<Alert[]> {
  const { rows } = await db.query('SELECT * FROM alerts WHERE active ORDER BY source, created, id');
  return rows.map(rowToAlert);
}

/** The alerts of one source, newest first (active and closed). */
export async function listSourceAlerts(db: Pool | PoolClient, source: string, options: { activeOnly?: boolean; limit?: number } = {}): Promise<Alert[]> {
  const { rows } = await db.query(
    'SELECT * FROM alerts WHERE source = $1 AND (active OR NOT $2) ORDER BY created DESC, id DESC LIMIT $3',
    [source, options.activeOnly ?? false, options.limit ?? 100],
  );
  return rows.map(rowToAlert);
}
