/**
 * The Donations page's actions (POST, CSRF-checked by the auth plugin, administrators only):
 * re-run a refused file's import, and edit a donation source's name and instructions. Each
 * redirects (303) back with its outcome (notices.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DashboardDeps, FormFields } from '../dashboard-deps.ts';
import { updateDonationSource } from '../donation-sources.repository.ts';
import { rerunDonationImport } from '../donations.repository.ts';
import { requireAdmin } from './configurations.page.ts';
import { safeReturn, withOutcome } from './notices.ts';
import { INSTRUCTIONS_MAX, SOURCE_NAME_MAX } from './donations.sources.ts';

function field(request: FastifyRequest, name: string): string {
  const value = ((request.body ?? {}) as FormFields)[name];
  return Array.isArray(value) ? value[0] ?? '' : value ?? '';
}

/** Control characters other than line breaks and tabs have no place in text shown to participants. */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export function registerDonationActions(scope: FastifyInstance, { pool, log }: DashboardDeps): void {
  scope.post('/donations/files/:id/rerun', async (request, reply) => {
    const user = requireAdmin(request);
    const back = safeReturn(field(request, 'return'), '/data/donations');
    const id = Number((request.params as { id: string }).id);
    const identifier = Number.isSafeInteger(id) && id > 0 ? await rerunDonationImport(pool, id) : undefined;
    if (identifier === undefined) return reply.code(303).redirect(withOutcome(request, back, { failed: 'donation-not-rerunnable' }));
    log.info({ user, file: id }, 'donated file queued for import again from the dashboard');
    return reply.code(303).redirect(withOutcome(request, back, { done: 'donation-rerun', subject: `file ${id} of ${identifier}` }));
  });

  // Instructions of 4,000 characters, URL-encoded, can exceed the forms' usual 16 KB.
  scope.post('/donations/sources', { bodyLimit: 64 * 1024 }, async (request, reply) => {
    const user = requireAdmin(request);
    const identifier = field(request, 'source');
    const name = field(request, 'name').trim();
    const instructions = field(request, 'instructions').replace(/\r\n?/g, '\n').trim();
    const back = '/data/donations';
    const refuse = (why: string) => reply.code(303).redirect(withOutcome(request, back, { failed: 'donation-source-invalid', subject: why }));
    if (!name || name.length > SOURCE_NAME_MAX || /[\n\t]/.test(name) || CONTROL.test(name)) return refuse(`a name is one line of 1 to ${SOURCE_NAME_MAX} characters`);
    if (instructions.length > INSTRUCTIONS_MAX || CONTROL.test(instructions)) return refuse(`instructions are plain text of at most ${INSTRUCTIONS_MAX} characters`);
    if (!(await updateDonationSource(pool, { identifier, name, instructions }))) {
      return reply.code(303).redirect(withOutcome(request, back, { failed: 'unknown-donation-source' }));
    }
    log.info({ user, source: identifier }, 'donation source edited from the dashboard');
    return reply.code(303).redirect(withOutcome(request, back, { done: 'donation-source-saved', subject: name }));
  });
}
