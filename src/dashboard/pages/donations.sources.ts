/**
 * The Donations page's "Donation sources" section: each source's name and instructions, which
 * participants read on the instructions and help pages. Plain text (the participants' pages escape
 * it), length-limited; administrators edit them, other staff read them.
 */
import type { FastifyRequest } from 'fastify';
import { html, type SafeHtml } from '../../html.ts';
import { csrfField } from '../auth/csrf.ts';
import { formatCount } from '../format.ts';
import type { DonationSource } from '../donation-sources.repository.ts';

export const SOURCE_NAME_MAX = 100;
export const INSTRUCTIONS_MAX = 4000;

export function donationSourcesSection(request: FastifyRequest, sources: readonly DonationSource[]): SafeHtml {
  const isAdmin = request.session?.user.isAdmin ?? false;
  const rows = sources.map((s) => (isAdmin
    ? html`<form method="post" action="/data/donations/sources" class="donation-source" id="source-${s.identifier}">${csrfField(request)}
        <input type="hidden" name="source" value="${s.identifier}">
        <h3><code>${s.identifier}</code></h3>
        <label>Name <input type="text" name="name" value="${s.name}" required maxlength="${SOURCE_NAME_MAX}"></label>
        <label class="block">Instructions (plain text; a blank line starts a paragraph)
          <textarea name="instructions" rows="6" maxlength="${INSTRUCTIONS_MAX}">${s.instructions}</textarea></label>
        <button type="submit">Save ${s.identifier}</button></form>`
    : html`<div class="donation-source"><h3>${s.name} <code class="small">${s.identifier}</code></h3>
        ${s.instructions ? html`<pre class="instructions">${s.instructions}</pre>` : html`<p class="muted">No instructions of the study's own: participants see the built-in ones.</p>`}</div>`));
  return html`<section class="panel" id="sources"><h2>Donation sources</h2>
    <p class="small muted">What participants see on the instructions and help pages: the source's name and the study's instructions (up to ${formatCount(INSTRUCTIONS_MAX)} characters of plain text).
      Which sources are offered is <code>DONATION_SOURCES</code>.${isAdmin ? '' : ' Only an administrator can edit them.'}</p>
    ${rows}</section>`;
}
