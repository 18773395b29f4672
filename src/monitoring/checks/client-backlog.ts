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
    // The newest status per source, kept by processing (source_latest_status, migration 0030).
    const { rows } = await pool.query<{ source: string; pending: string | null; created: Date }>(
      `WITH ${ELIGIBLE_SOURCES}
       SELECT e.source, coalesce(l.properties ->> 'pending-points', l.properties ->> 'pending_points') AS pending, l.created
       FROM eligible e JOIN source_latest_status l ON l.source = e.source`,
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
