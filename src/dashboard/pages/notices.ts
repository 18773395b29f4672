/**
 * What an action reports after its redirect: a code and a subject in the query (`?done=renamed&
 * subject=P001`), turned into a sentence here, so a link can never put arbitrary text on a page.
 */
import { html, type SafeHtml } from '../html.ts';
import { queryParam } from './page.ts';
import type { FastifyRequest } from 'fastify';

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
  'export-not-retryable': (s) => `Export job ${s} has not failed, or was written by dcs export (run the command again).`,
};

/** The redirect target after an action: `back` with the outcome in the query. */
export function withOutcome(back: string, outcome: { done?: string; failed?: string; subject?: string }): string {
  const url = new URL(back, 'http://dashboard.invalid');
  for (const key of ['done', 'failed', 'subject']) url.searchParams.delete(key);
  if (outcome.done) url.searchParams.set('done', outcome.done);
  if (outcome.failed) url.searchParams.set('failed', outcome.failed);
  if (outcome.subject) url.searchParams.set('subject', outcome.subject.slice(0, 300));
  return url.pathname + url.search;
}

/** Only a dashboard path is a place to go back to (never another site). */
export function safeReturn(value: unknown, fallback = '/data/'): string {
  return typeof value === 'string' && value.startsWith('/data/') && !value.startsWith('//') && !value.includes('\\') ? value : fallback;
}

export function outcomeNotice(request: FastifyRequest): SafeHtml {
  const subject = queryParam(request, 'subject');
  const done = DONE[queryParam(request, 'done')];
  const failed = FAILED[queryParam(request, 'failed')];
  if (failed) return html`<p class="notice error" role="alert">${failed(subject)}</p>`;
  if (done) return html`<p class="notice" role="status">${done(subject)}</p>`;
  return html``;
}
