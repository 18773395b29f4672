/**
 * A donated file as the Donations page and the source page's panel show it: its state in words,
 * its counts, what the participant was told and why (for the staff), and the re-run button.
 * Names, messages and reasons come from participants' files: the template escapes them.
 */
import type { FastifyRequest } from 'fastify';
import { html, type SafeHtml } from '../../html.ts';
import { csrfField } from '../auth/csrf.ts';
import type { DonationFile, DonationState } from '../donations.repository.ts';
import { formatBytes, formatCount, formatDateTime } from '../format.ts';

export const STATE_LABELS: Record<DonationState, string> = {
  receiving: 'uploading',
  received: 'waiting for import',
  extracting: 'importing',
  'awaiting-confirmation': 'awaiting confirmation',
  imported: 'imported',
  refused: 'refused',
  expired: 'expired unconfirmed',
};

export function stateBadge(state: DonationState): SafeHtml {
  return html`<span class="donation-state state-${state}">${STATE_LABELS[state]}</span>`;
}

export function countsText(file: DonationFile): string {
  const parts: string[] = [];
  if (file.rowsExtracted !== null) parts.push(`${formatCount(file.rowsExtracted)} rows extracted`);
  if (file.rowsConfirmed !== null) parts.push(`${formatCount(file.rowsConfirmed)} confirmed`);
  if (file.points !== null) parts.push(`${formatCount(file.points)} points`);
  return parts.join(', ');
}

function messages(file: DonationFile): SafeHtml {
  return html`${file.participantMessage ? html`<div><span class="muted">Participant was told:</span> ${file.participantMessage}</div>` : ''}
    ${file.staffReason ? html`<div><span class="muted">Reason:</span> <span class="mono">${file.staffReason}</span></div>` : ''}`;
}

/** The re-run button for a refused file whose bytes are kept (back to `returnTo` after); why not otherwise. */
function rerun(request: FastifyRequest, file: DonationFile, returnTo: string): SafeHtml {
  if (file.state !== 'refused') return html``;
  if (!file.hasChunks) return html`<span class="muted small">file deleted: cannot re-run</span>`;
  if (!request.session?.user.isAdmin) return html`<span class="muted small">an administrator can re-run it</span>`;
  return html`<form method="post" action="/data/donations/files/${file.id}/rerun" class="inline">${csrfField(request)}
    <input type="hidden" name="return" value="${returnTo}"><button type="submit" class="secondary">Re-run import</button></form>`;
}

/** The cells of one file (the request's own cells come before them); a re-run returns to `returnTo`. */
export function fileCells(request: FastifyRequest, file: DonationFile, sourceNames: ReadonlyMap<string, string>, timeZone: string, returnTo = request.url): SafeHtml {
  return html`<td class="file-name">${file.name || html`<span class="muted">(no name)</span>`}<div class="small muted">${sourceNames.get(file.source) ?? file.source}</div></td>
    <td class="num nowrap">${formatBytes(file.size)}</td>
    <td class="nowrap">${formatDateTime(file.uploadedAt, timeZone)}</td>
    <td>${stateBadge(file.state)}<div class="small muted nowrap">since ${formatDateTime(file.stateChangedAt, timeZone)}</div></td>
    <td class="small">${countsText(file) || html`<span class="muted">–</span>`}</td>
    <td class="small file-messages">${messages(file)}</td>
    <td>${rerun(request, file, returnTo)}</td>`;
}

export const FILE_HEADINGS = html`<th>File</th><th class="num">Size</th><th>Uploaded</th><th>State</th><th>Counts</th><th>Messages</th><th></th>`;
