/** Page links: first, previous, a window around the current page, next, last. */
import { html, type SafeHtml } from '../../html.ts';

/** `link(n)` gives the URL of page n. */
export function pagination(current: number, pages: number, link: (page: number) => string): SafeHtml {
  if (pages <= 1) return html``;
  const shown = new Set([1, pages]);
  for (let p = Math.max(1, current - 2); p <= Math.min(pages, current + 2); p++) shown.add(p);
  const items: SafeHtml[] = [];
  let previous = 0;
  for (const p of [...shown].sort((a, b) => a - b)) {
    if (p > previous + 1) items.push(html`<span class="gap">…</span>`);
    items.push(p === current ? html`<span class="current" aria-current="page">${p}</span>` : html`<a href="${link(p)}">${p}</a>`);
    previous = p;
  }
  return html`<nav class="pages" aria-label="Pages">${current > 1 ? html`<a href="${link(current - 1)}" rel="prev">‹ Previous</a>` : ''}${items}${current < pages ? html`<a href="${link(current + 1)}" rel="next">Next ›</a>` : ''}</nav>`;
}
