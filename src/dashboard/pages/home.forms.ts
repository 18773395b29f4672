/** The home page's management panels: add a source, groups, the source list as TSV. */
import type { FastifyRequest } from 'fastify';
import { csrfField } from '../auth/csrf.ts';
import type { SourceGroup } from '../groups.repository.ts';
import { html, raw, type SafeHtml } from '../../html.ts';
import { groupOptions } from './home.sources.ts';

export function addSourceForm(request: FastifyRequest, groups: SourceGroup[]): SafeHtml {
  return html`<section class="panel"><h3>Add a source</h3>
  <p class="muted small">Register a participant before their first upload, so the status checks report them as "never uploaded" until they do.</p>
  <form method="post" action="/data/sources/add" class="toolbar">${csrfField(request)}
    <label>Identifier <input type="text" name="source" required></label>
    <label>Name <input type="text" name="name"></label>
    <label>Group <select name="group">${groupOptions(groups, null)}</select></label>
    <input type="text" name="new_group" placeholder="new group name" aria-label="New group name">
    <button type="submit">Add source</button></form></section>`;
}

export function groupsPanel(request: FastifyRequest, groups: SourceGroup[]): SafeHtml {
  const rows = groups.map((g) => html`<tr><td><a href="/data/?group=${g.id}">${g.name}</a></td><td class="num">${g.sources}</td>
    <td>${g.suppressAlerts ? html`<span class="muted">alerts suppressed</span>` : ''}</td>
    <td class="nowrap"><form class="inline" method="post" action="/data/groups/suppress">${csrfField(request)}<input type="hidden" name="id" value="${g.id}">
        <input type="hidden" name="suppress" value="${g.suppressAlerts ? '0' : '1'}"><button type="submit" class="secondary">${g.suppressAlerts ? 'Enable alerts' : 'Suppress alerts'}</button></form>
      <form class="inline" method="post" action="/data/groups/delete">${csrfField(request)}<input type="hidden" name="id" value="${g.id}">
        <button type="submit" class="danger" title="The sources stay, ungrouped">Delete</button></form></td></tr>`);
  return html`<section class="panel"><h3>Groups</h3>
  ${groups.length ? html`<table class="data"><thead><tr><th>Group</th><th class="num">Sources</th><th></th><th></th></tr></thead><tbody>${rows}</tbody></table>` : html`<p class="muted">No groups yet.</p>`}
  <form method="post" action="/data/groups/add" class="toolbar">${csrfField(request)}
    <label>New group <input type="text" name="name" required></label><button type="submit">Create group</button></form></section>`;
}

export function sourceListPanel(request: FastifyRequest): SafeHtml {
  // Multipart fields are read only by the upload's handler, so the CSRF token rides in the URL.
  const action = `/data/sources.tsv?_csrf=${encodeURIComponent(request.session?.csrfToken ?? '')}`;
  return html`<section class="panel"><h3>Source list (TSV)</h3>
  <p class="muted small">Columns <code>Source ID</code>, <code>Source Name</code>, <code>Group</code>, tab-separated, for keeping the roster in a spreadsheet.
  Uploading adds the sources that are missing and sets names and groups; an empty name or group clears it; a file without a Group column leaves groups alone.
  The download's <code>Configuration</code> column (the REX configuration each source was served last) is ignored on upload.</p>
  <p><a class="button secondary" href="/data/sources.tsv" download>Download source list</a></p>
  <form method="post" action="${raw(action.replace(/&/g, '&amp;').replace(/"/g, '&quot;'))}" enctype="multipart/form-data" class="toolbar">
    <input type="file" name="upload_file" accept=".tsv,.txt,text/tab-separated-values,text/plain" required aria-label="Source list file">
    <button type="submit">Upload source list</button></form></section>`;
}
