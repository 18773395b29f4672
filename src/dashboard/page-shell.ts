/** The dashboard's page shell: head with the local stylesheet, the staff navigation, main content. */
import { html, raw, type SafeHtml } from '../html.ts';

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
  { href: '/data/data-quality', key: 'data-quality', label: 'Data quality' },
  { href: '/data/products', key: 'products', label: 'Products' },
  { href: '/data/export', key: 'export', label: 'Export' },
  { href: '/data/donations', key: 'donations', label: 'Donations' },
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
