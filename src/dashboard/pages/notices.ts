/**
 * What an action reports after its redirect: a code and a subject in the query (`?done=renamed&
 * subject=P001&sig=…`), turned into a sentence here. The code picks one of the sentences below;
 * the subject (a source identifier, a group name, an upload's summary) is shown only with `sig`, an
 * HMAC of code and subject under the session's own secret CSRF token: a notice reports an action
 * of this session, and a link made by anyone else puts no text of theirs on the page.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { html, type SafeHtml } from '../../html.ts';
import { queryParam } from './page.ts';

const DONE: Record<string, (subject: string) => string> = {
  added: (s) => `Source ${s} added.`,
  restored: (s) => `Source ${s} is back on the dashboard.`,
  renamed: (s) => `Source ${s} renamed.`,
  moved: (s) => `Source ${s} moved.`,
  removed: (s) => `Source ${s} removed from the dashboard and the status checks. Its data is kept.`,
  suppressed: (s) => `Alerts of ${s} suppressed.`,
  enabled: (s) => `Alerts of ${s} enabled again; the next status-checks run raises any that apply.`,
  'group-added': (s) => `Group ${s} created.`,
  'group-suppressed': (s) => `Alerts of group ${s} suppressed.`,
  'group-enabled': (s) => `Alerts of group ${s} enabled again.`,
  'group-deleted': (s) => `Group ${s} deleted; its sources are now ungrouped.`,
  uploaded: (s) => `Source list read: ${s}.`,
  'export-queued': (s) => `Export job ${s} queued; it starts within a minute and is listed below.`,
  'export-retried': (s) => `Export job ${s} queued again.`,
  'export-rerun': (s) => `Export job ${s} queued; its archive is written under a name of its own.`,
  'config-created': (s) => `Configuration ${s} created.`,
  'config-saved': (s) => `Saved: ${s}.`,
  'config-unchanged': (s) => `Nothing changed: still ${s}.`,
  'config-enabled': (s) => `Configuration ${s} enabled: it is served from now on.`,
  'config-disabled': (s) => `Configuration ${s} disabled: it is no longer served.`,
  'config-assigned': (s) => `Configuration assigned: ${s}.`,
  'config-unassigned': (s) => `${s} has no configuration assigned now; it gets what its identifier matches.`,
  'token-revoked': (s) => `API token ${s} revoked: calls with it are refused from now on.`,
  'rule-made': (s) => `Exclusion rule ${s} is in force: exports, alerts and the query API leave its points out from now on.`,
  'rule-removed': (s) => `Exclusion rule ${s} no longer applies: its points are exported again.`,
  'rule-enabled': (s) => `Exclusion rule ${s} is in force again.`,
  'rule-edited': (s) => `Exclusion rule ${s} saved: what it leaves out changes from now on; its history keeps the version before.`,
  'donation-rerun': (s) => `Import of ${s} queued again: the worker's next donations run imports it.`,
  'donation-source-saved': (s) => `Donation source ${s} saved.`,
  erased: (s) => `Erased ${s}; its later uploads are kept out. The audit entry is below.`,
  readmitted: (s) => `${s} re-admitted: its uploads are stored again.`,
};

const FAILED: Record<string, (subject: string) => string> = {
  'name-taken': (s) => `The name ${s} is already used by another source.`,
  'source-exists': (s) => `Source ${s} already exists.`,
  'unknown-source': (s) => `There is no source ${s}.`,
  'unknown-group': () => 'That group does not exist (any more).',
  'group-exists': (s) => `A group named ${s} already exists.`,
  'missing-identifier': () => 'Give the source identifier.',
  'missing-name': () => 'Give a name.',
  'bad-file': (s) => `The source list could not be read: ${s}`,
  'unknown-configuration': () => 'That configuration does not exist (any more).',
  'export-not-rerunnable': (s) => `Not re-run: ${s}`,
  'export-not-retryable': (s) => `Export job ${s} has not failed, or was written by dcs export (run the command again).`,
  'unknown-token': () => 'That API token does not exist or was already revoked.',
  'unknown-rule': () => 'That exclusion rule does not exist or already was in that state.',
  'donation-not-rerunnable': () => 'That file cannot be imported again: only a refused file whose bytes are still kept can.',
  'donation-source-invalid': (s) => `Not saved: ${s}.`,
  'unknown-donation-source': () => 'That donation source does not exist.',
  'erase-not-confirmed': (s) => `Nothing erased: type ${s} exactly to confirm.`,
  'not-erased': (s) => `${s} is not on the erased list.`,
};

interface Outcome { done?: string; failed?: string; subject?: string }

const SUBJECT_LENGTH = 300;

function signature(request: FastifyRequest, outcome: Outcome): Buffer | undefined {
  const key = request.session?.csrfToken;
  if (!key) return undefined;
  return createHmac('sha256', key).update(`notice\0${outcome.done ?? ''}\0${outcome.failed ?? ''}\0${outcome.subject ?? ''}`).digest().subarray(0, 16);
}

/** The redirect target after an action: `back` with the outcome in the query, signed for this session. */
export function withOutcome(request: FastifyRequest, back: string, outcome: Outcome): string {
  const url = new URL(back, 'http://dashboard.invalid');
  for (const key of ['done', 'failed', 'subject', 'sig']) url.searchParams.delete(key);
  const signed = { ...outcome, subject: outcome.subject?.slice(0, SUBJECT_LENGTH) || undefined };
  if (signed.done) url.searchParams.set('done', signed.done);
  if (signed.failed) url.searchParams.set('failed', signed.failed);
  if (signed.subject) url.searchParams.set('subject', signed.subject);
  const sig = signature(request, signed);
  if (sig) url.searchParams.set('sig', sig.toString('base64url'));
  return url.pathname + url.search;
}

/**
 * Only a dashboard path is a place to go back to (never another site), judged after the URL is
 * normalised as the redirect will be: `/data/../..//evil.example/` is `//evil.example/`.
 */
export function safeReturn(value: unknown, fallback = '/data/'): string {
  if (typeof value !== 'string' || !value.startsWith('/data/') || value.includes('\\')) return fallback;
  const url = new URL(value, 'http://dashboard.invalid');
  if (url.origin !== 'http://dashboard.invalid' || !url.pathname.startsWith('/data/')) return fallback;
  return url.pathname + url.search;
}

export function outcomeNotice(request: FastifyRequest): SafeHtml {
  const outcome: Outcome = { done: queryParam(request, 'done') || undefined, failed: queryParam(request, 'failed') || undefined, subject: queryParam(request, 'subject') || undefined };
  const done = outcome.done !== undefined && Object.hasOwn(DONE, outcome.done) ? DONE[outcome.done] : undefined;
  const failed = outcome.failed !== undefined && Object.hasOwn(FAILED, outcome.failed) ? FAILED[outcome.failed] : undefined;
  if (!done && !failed) return html``;
  const expected = signature(request, outcome);
  const sent = Buffer.from(queryParam(request, 'sig'), 'base64url');
  if (!expected || sent.length !== expected.length || !timingSafeEqual(sent, expected)) return html``;
  const subject = outcome.subject ?? '';
  if (failed) return html`<p class="notice error" role="alert">${failed(subject)}</p>`;
  return html`<p class="notice" role="status">${done!(subject)}</p>`;
}
