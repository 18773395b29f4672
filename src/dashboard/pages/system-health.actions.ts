/**
 * POST /data/system-health/reprocess: queues errored bundles for processing again, the ticked
 * ones (`bundle`, repeated) or all of them (`all`). Administrators only: reprocessing changes
 * what the worker does for everyone. The auth plugin has already checked the CSRF token.
 */
import type { FastifyInstance } from 'fastify';
import { DcsError } from '../../errors.ts';
import { queueReprocessBundles } from '../../processing/reprocess.ts';
import type { DashboardDeps, FormFields } from '../dashboard-deps.ts';
import { listRetryableErroredIds } from '../system-health.repository.ts';

/** The ticked bundle ids: positive integers only, whatever else a hand-made form sends. */
export function bundleIdsOf(form: FormFields): number[] {
  const values = form.bundle === undefined ? [] : Array.isArray(form.bundle) ? form.bundle : [form.bundle];
  const ids = values.filter((v) => /^\d{1,15}$/.test(v)).map(Number).filter((n) => n > 0);
  return [...new Set(ids)];
}

export function registerSystemHealthActions(scope: FastifyInstance, deps: DashboardDeps): void {
  const { pool, log } = deps;
  scope.post('/system-health/reprocess', async (request, reply) => {
    const user = request.session!.user;
    if (!user.isAdmin) throw new DcsError('DCS_ERR_FORBIDDEN');
    const form = (request.body ?? {}) as FormFields;
    const ids = form.all ? await listRetryableErroredIds(pool) : bundleIdsOf(form);
    const queued = await queueReprocessBundles(pool, ids);
    log.info({ user: user.username, requested: ids.length, queued }, 'errored bundles queued for reprocessing from the dashboard');
    return reply.redirect(`/data/system-health?reprocessed=${queued}`, 303);
  });
}
