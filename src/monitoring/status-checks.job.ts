/**
 * status-checks (every 5 minutes): runs each status check over every eligible source and applies
 * the alert state machine (alerts.repository.ts). A check not in ENABLED_CHECKS closes all its
 * active alerts. Each check costs a few set-based queries, whatever the number of sources.
 */
import type { JobDefinition } from '../job-contract.ts';
import { applyCheckOutcomes, type AlertChanges } from './alerts.repository.ts';
import { automatedBrowserCheck } from './checks/automated-browser.ts';
import { ELIGIBLE_SOURCES, type StatusCheck } from './checks/check.ts';
import { clientBacklogCheck } from './checks/client-backlog.ts';
import { uploadOverdueCheck } from './checks/upload-overdue.ts';

/** Every status check, in the order they run (ids as in config.STATUS_CHECKS). */
export const STATUS_CHECK_LIST: readonly StatusCheck[] = [uploadOverdueCheck, automatedBrowserCheck, clientBacklogCheck];

export const statusChecksJob: JobDefinition = {
  name: 'status-checks',
  description: 'Runs the status checks (upload overdue, automated browser, client backlog) and opens or closes alerts.',
  schedule: { everyMinutes: 5 },
  async run({ pool, config, log }) {
    const { rows } = await pool.query(`WITH ${ELIGIBLE_SOURCES} SELECT count(*)::int AS n FROM eligible`);
    const totals: AlertChanges = { opened: 0, updated: 0, closed: 0 };
    for (const check of STATUS_CHECK_LIST) {
      const enabled = config.enabledChecks.includes(check.id);
      const outcomes = enabled ? await check.evaluate(pool, config) : [];
      const changes = await applyCheckOutcomes(pool, check.id, outcomes);
      if (changes.opened + changes.closed > 0) log.info({ check: check.id, enabled, ...changes }, `status check ${check.id}`);
      totals.opened += changes.opened;
      totals.updated += changes.updated;
      totals.closed += changes.closed;
    }
    return { sources: rows[0].n, ...totals };
  },
};
