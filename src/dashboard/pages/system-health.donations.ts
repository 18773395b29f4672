/**
 * System health's Donations line: are uploads open (or what is missing), files waiting for the
 * worker's `donations` job and the oldest one's age, files awaiting the participants' confirmation,
 * files refused in the last 7 days. Details are on the Donations page.
 */
import type { Config } from '../../config.ts';
import { donationSettingsMissing, offeredSources } from '../../donations/importer-list.ts';
import { html, type SafeHtml } from '../../html.ts';
import type { DonationHealth } from '../donations.repository.ts';
import { formatAge, formatCount } from '../format.ts';

/** The donations job runs every minute: a file waiting longer than this means no worker imports. */
const STALE_WAIT_MS = 30 * 60_000;

const files = (n: number) => `${formatCount(n)} file${n === 1 ? '' : 's'}`;

export function donationsHealthSection(health: DonationHealth, config: Config, now: Date): SafeHtml {
  const missing = donationSettingsMissing(config).map((m) => m.split(' ')[0]);
  const offered = offeredSources(config);
  const uploads = missing.length > 0
    ? `Uploads closed: ${missing.join(', ')} not set.`
    : `Uploads open${offered.length ? ` (${offered.join(', ')})` : ', but no source is offered'}.`;
  const oldest = health.oldestWaitingUploadedAt;
  const stale = oldest !== null && now.getTime() - oldest.getTime() > STALE_WAIT_MS;
  const waiting = health.waiting === 0
    ? 'No file waiting to be imported'
    : `${files(health.waiting)} waiting to be imported, the oldest uploaded ${formatAge(oldest, now)}`;
  return html`<section class="panel" id="donations"><h2>Donations</h2>
    <p class="notice${stale ? ' error' : ''}" role="${stale ? 'alert' : 'status'}">${uploads} ${waiting}; ${files(health.awaitingConfirmation)} awaiting the participant's confirmation;
      ${files(health.refusedLastWeek)} refused in the last 7 days.${stale ? ' Is a worker with DONATION_SECRET_KEY running?' : ''}</p>
    <p class="small"><a href="/data/donations">Donations page</a></p></section>`;
}
