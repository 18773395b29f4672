/**
 * GET /data/sources.tsv downloads the source list; POST /data/sources.tsv (multipart, file field
 * `upload_file` as in the original, CSRF token in the query) applies an edited one.
 */
import type { FastifyInstance } from 'fastify';
import { servedNames } from '../../app-config/served.repository.ts';
import { withTransaction } from '../../db/transaction.ts';
import { parseMultipart } from '../../ingest/form.ts';
import type { DashboardDeps } from '../dashboard-deps.ts';
import { applySourceList } from '../source-list.repository.ts';
import { formatSourceList, parseSourceList, SourceListError } from '../source-list.tsv.ts';
import { listSourcesForTsv } from '../sources.repository.ts';
import { withOutcome } from './notices.ts';

/** The source-list upload's largest file: ~8 MB, a roster of ~100,000 sources with names and groups. */
export const SOURCE_LIST_BODY_LIMIT = 8 * 1024 * 1024;

export function registerSourceListRoutes(scope: FastifyInstance, { pool }: DashboardDeps): void {
  scope.get('/sources.tsv', async (_request, reply) => {
    const sources = await listSourcesForTsv(pool);
    const text = formatSourceList(sources, await servedNames(pool, sources.map((s) => s.source)));
    return reply
      .type('text/tab-separated-values; charset=utf-8')
      .header('content-disposition', 'attachment; filename="data-sources.tsv"')
      .header('cache-control', 'no-store')
      .send(text);
  });

  scope.post('/sources.tsv', { bodyLimit: SOURCE_LIST_BODY_LIMIT, config: { csrfInQuery: true } }, async (request, reply) => {
    const failed = (reason: string) => reply.code(303).redirect(withOutcome(request, '/data/', { failed: 'bad-file', subject: reason }));
    const contentType = request.headers['content-type'] ?? '';
    if (!contentType.startsWith('multipart/form-data') || !Buffer.isBuffer(request.body)) return failed('send it as a file upload (multipart/form-data).');
    let text: string;
    try {
      const { files } = await parseMultipart(request.body, contentType);
      const file = files.find((f) => f.fieldName === 'upload_file') ?? files[0];
      if (!file || file.content.length === 0) return failed('no file was chosen.');
      text = new TextDecoder('utf-8', { fatal: true }).decode(file.content);
    } catch (error) {
      return failed(error instanceof TypeError ? 'the file is not UTF-8 text.' : `the upload could not be read (${(error as Error).message}).`);
    }
    let list;
    try {
      list = parseSourceList(text);
    } catch (error) {
      if (error instanceof SourceListError) return failed(`${error.message}.`);
      throw error;
    }
    const result = await withTransaction(pool, (client) => applySourceList(client, list));
    const summary = `${result.added} added, ${result.updated} updated, ${result.unchanged} unchanged`
      + (result.nameConflicts.length ? `; names already used by other sources, left unchanged: ${result.nameConflicts.join(', ')}` : '');
    return reply.code(303).redirect(withOutcome(request, '/data/', { done: 'uploaded', subject: summary }));
  });
}
