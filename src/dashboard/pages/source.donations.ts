/**
 * The source page's Donations panel, when the participant has a donation request: the sources
 * requested, the files with their states and counts, and a link to the Donations page filtered to
 * this participant (where a re-run returns, with its notice). Nothing when there is no request.
 */
import type { FastifyRequest } from 'fastify';
import type { Pool } from '../../db/database.ts';
import { html, type SafeHtml } from '../../html.ts';
import { listDonationSources } from '../donation-sources.repository.ts';
import { listDonationRequests } from '../donations.repository.ts';
import { formatDateTime } from '../format.ts';
import { FILE_HEADINGS, fileCells } from './donations.files.ts';

/** More files than a participant uploads in a study: the Donations page has the rest. */
const FILES_SHOWN = 20;

export async function sourceDonationsPanel(request: FastifyRequest, pool: Pool, identifier: string, timeZone: string): Promise<SafeHtml> {
  const [[donation], sources] = await Promise.all([listDonationRequests(pool, { identifier }, 1, 0), listDonationSources(pool)]);
  if (!donation) return html``;
  const names = new Map(sources.map((s) => [s.identifier, s.name]));
  const link = `/data/donations?participant=${encodeURIComponent(identifier)}`;
  const shown = donation.files.slice(0, FILES_SHOWN);
  return html`<section class="panel" id="donations"><h2>Donations</h2>
    <p>Requested ${formatDateTime(donation.requestedAt, timeZone)}: ${donation.sources.length ? donation.sources.join(', ') : html`<span class="muted">no source</span>`}.
      <a href="${link}">On the Donations page</a></p>
    ${shown.length === 0 ? html`<p class="muted">No file uploaded yet.</p>` : html`<div class="table-scroll"><table class="data donations"><thead><tr>${FILE_HEADINGS}</tr></thead>
      <tbody>${shown.map((file) => html`<tr data-file="${file.id}">${fileCells(request, file, names, timeZone, link)}</tr>`)}</tbody></table></div>`}
    ${donation.files.length > shown.length ? html`<p class="small"><a href="${link}">All ${donation.files.length} files</a></p>` : ''}</section>`;
}
