/**
 * client-backlog: the extension's newest pdk-system-status point reports at least
 * CLIENT_BACKLOG_POINTS points waiting to be uploaded: a warning. The key is `pending-points`
 * from G2b (2026) clients and `pending_points` before; older clients report the size of one
 * upload batch (at most 64) there, not their backlog, so they never reach the threshold.
 */
import type { CheckOutcome } from '../alerts.repository.ts';
import { ELIGIBLE_SOURCES, type StatusCheck } from './check.ts';

export const clientBacklogCheck: StatusCheck = {
  id: 'client-backlog',
  async evaluate(pool, config) {
    // One index probe per source on data_points (source, generator_id, created).
    const { rows } = await pool.query<{ source: string; pending: string | null; created: Date }>(
      `WITH ${ELIGIBLE_SOURCES}
       SELECT e.source, coalesce(p.properties ->> 'pending-points', p.properties ->> 'pending_points') AS pending, p.created
       FROM eligible e
       CROSS JOIN LATERAL (
         SELECT d.properties, d.created FROM data_points d
         WHERE d.source = e.source AND d.generator_id = 'pdk-system-status'
         ORDER BY d.created DESC LIMIT 1
       ) p`,
    );
    const outcomes: CheckOutcome[] = [];
    for (const { source, pending, created } of rows) {
      const count = Number(pending);
      if (pending === null || pending.trim() === '' || !Number.isFinite(count) || count < config.clientBacklogPoints) continue;
      outcomes.push({
        source,
        name: 'Client upload backlog',
        level: 'warning',
        details: { message: `The extension reports ${count} points waiting to be uploaded.`, pending_points: count, reported: created.toISOString() },
      });
    }
    return outcomes;
  },
};
