/**
 * HTML for the server-rendered dashboard: an escaping tagged template and the page shell. Values
 * interpolated with `html` are escaped unless they are themselves `html` results (SafeHtml), so a
 * participant-supplied string (user agent, point JSON) can never inject markup.
 */

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

const SPECIAL = /[&<>"']/;

export function escapeHtml(text: string): string {
  // Most values have nothing to escape: a test is cheaper than a replace with a callback.
  return SPECIAL.test(text) ? text.replace(/[&<>"']/g, (c) => ESCAPES[c]) : text;
}

type Interpolated = SafeHtml | string | number | boolean | null | undefined | readonly Interpolated[];

function render(value: Interpolated): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/** html`<p>${text}</p>`: escapes every interpolated value that is not already SafeHtml. */
export function html(strings: TemplateStringsArray, ...values: Interpolated[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i += 1) out += render(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

/** Trusted markup (e.g. a generated SVG) as SafeHtml, without escaping. */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

export interface PageShell {
  title: string;
  /** the signed-in user, for the navigation bar; undefined on the login page */
  username?: string;
  /** the session's CSRF token, for the logout form */
  csrfToken?: string;
  /** which navigation entry is current */
  current?: string;
  body: SafeHtml;
}

const NAV = [
  { href: '/data/', key: 'home', label: 'Sources' },
  { href: '/data/system-health', key: 'system-health', label: 'System health' },
  { href: '/data/user-agents', key: 'user-agents', label: 'User agents' },
  { href: '/data/products', key: 'products', label: 'Products' },
  { href: '/data/export', key: 'export', label: 'Export' },
  { href: '/data/configurations', key: 'configurations', label: 'Configurations' },
  { href: '/data/api-tokens', key: 'api-tokens', label: 'API tokens' },
];

/** A whole page: head with the local stylesheet, navigation, main content. */
export function renderPage(page: PageShell): string {
  const nav = page.username
    ? html`<nav class="top"><a class="brand" href="/data/">Webmunk DCS</a>
        <ul>${NAV.map((n) => html`<li><a href="${n.href}"${n.key === page.current ? raw(' aria-current="page"') : ''}>${n.label}</a></li>`)}</ul>
        <form method="post" action="/data/logout" class="logout"><input type="hidden" name="_csrf" value="${page.csrfToken}">
          <span>${page.username}</span> <button type="submit">Log out</button></form></nav>`
    : html``;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title} · Webmunk DCS</title><link rel="stylesheet" href="/data/static/dashboard.css"></head>
<body>${nav}<main>${page.body}</main></body></html>`.value;
}
