/**
 * A finished export's download (login required, streamed from EXPORT_DIR: no archive is ever at
 * a public URL, unlike the original's /media), the retry of a failed job, and the re-run of a
 * finished or failed one as a new job (issue 21 §3).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { getReportJob, retryReportJob } from '../../exports/report-jobs.repository.ts';
import { RerunError, rerunExport } from '../../exports/rerun-export.ts';
import { DcsError } from '../../errors.ts';
import type { DashboardDeps } from '../dashboard-deps.ts';
import { withOutcome } from './notices.ts';

function jobId(params: unknown): number {
  const id = Number((params as { id: string }).id);
  if (!Number.isSafeInteger(id) || id < 1) throw new DcsError('DCS_ERR_NOT_FOUND');
  return id;
}

export function registerExportJobRoutes(scope: FastifyInstance, { pool, config }: DashboardDeps): void {
  scope.post('/export/jobs/:id/rerun', async (request, reply) => {
    const id = jobId(request.params);
    try {
      const job = await rerunExport(pool, id, { requestedBy: request.session!.user.username, state: 'queued' });
      return reply.code(303).redirect(withOutcome(request, '/data/export', { done: 'export-rerun', subject: `${job.id} (a re-run of job ${id})` }));
    } catch (error) {
      if (!(error instanceof RerunError)) throw error;
      return reply.code(303).redirect(withOutcome(request, '/data/export', { failed: 'export-not-rerunnable', subject: error.message }));
    }
  });

  scope.get('/export/jobs/:id/download', async (request, reply) => {
    const job = await getReportJob(pool, jobId(request.params));
    const file = job?.state === 'done' && job.destinations.includes('folder') ? job.storedAt[0] : undefined;
    const root = path.resolve(config.exportDir) + path.sep;
    if (!file || !path.resolve(file).startsWith(root)) throw new DcsError('DCS_ERR_NOT_FOUND', 'There is no finished archive for this export job.');
    let size: number;
    try {
      size = (await fs.promises.stat(file)).size;
    } catch {
      throw new DcsError('DCS_ERR_NOT_FOUND', 'The archive of this export job is no longer in EXPORT_DIR.');
    }
    return reply
      .type('application/zip')
      .header('content-length', size)
      .header('content-disposition', `attachment; filename="${path.basename(file).replace(/[^\w.-]/g, '_')}"`)
      .header('cache-control', 'no-store')
      .send(fs.createReadStream(file));
  });

  scope.post('/export/jobs/:id/retry', async (request, reply) => {
    const id = jobId(request.params);
    const retried = await retryReportJob(pool, id);
    return reply.code(303).redirect(withOutcome(request, '/data/export', retried ? { done: 'export-retried', subject: String(id) } : { failed: 'export-not-retryable', subject: String(id) }));
  });
}
