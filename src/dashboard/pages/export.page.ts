/**
 * /data/export: request an export (sources, groups or all; data types with their point counts;
 * days; format) and follow the jobs: progress, size, duration, download, retry. The request is
 * queued for the report-jobs job, which runs every minute. Works without a script.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ASIN_DETAILS_TYPE } from '../../exports/asin-details.ts';
import { exportableTypes, NOT_IN_GROUP } from '../../exports/export-catalog.repository.ts';
import { WEBMUNK_EXPORTERS } from '../../exports/columns/index.ts';
import { listReportJobs, type SourceSelection } from '../../exports/report-jobs.repository.ts';
import { ExportRequestError, requestExport } from '../../exports/request-export.ts';
import type { DashboardDeps, FormFields } from '../dashboard-deps.ts';
import { formatCount } from '../format.ts';
import { listGroups } from '../groups.repository.ts';
import { html } from '../../html.ts';
import { outcomeNotice, withOutcome } from './notices.ts';
import { jobsTable } from './export.jobs.ts';
import { sendPage } from './page.ts';

interface FormState {
  selection: 'all' | 'groups' | 'sources';
  groups: string[];
  sources: string;
  types: string[];
  from: string;
  to: string;
  dateType: string;
  format: string;
}

const EMPTY: FormState = { selection: 'all', groups: [], sources: '', types: [], from: '', to: '', dateType: 'created', format: 'tsv' };
const WEBMUNK_TYPES = new Set([...WEBMUNK_EXPORTERS.map((e) => e.id), ASIN_DETAILS_TYPE]);

function values(fields: FormFields, name: string): string[] {
  const value = fields[name];
  return (Array.isArray(value) ? value : value === undefined ? [] : [value]).map((v) => v.trim()).filter(Boolean);
}

function readForm(body: unknown): FormState {
  const fields = (body ?? {}) as FormFields;
  const one = (name: string) => values(fields, name)[0] ?? '';
  const selection = one('selection');
  return {
    selection: selection === 'groups' || selection === 'sources' ? selection : 'all',
    groups: values(fields, 'group'),
    sources: one('sources').slice(0, 1_000_000),
    types: values(fields, 'type'),
    from: one('from'),
    to: one('to'),
    dateType: one('date_type') || 'created',
    format: one('format') || 'tsv',
  };
}

const plural = (n: number, noun: string) => `${formatCount(n)} ${noun}${n === 1 ? '' : 's'}`;
const checked = (on: boolean) => (on ? html` checked` : '');

async function renderForm(deps: DashboardDeps, request: FastifyRequest, reply: FastifyReply, form: FormState, error?: string) {
  const { pool, config } = deps;
  const [types, groups, jobs] = await Promise.all([exportableTypes(pool, config.timeZone), listGroups(pool), listReportJobs(pool, 50)]);
  const csrf = request.session?.csrfToken ?? '';
  const groupChoices = [...groups.filter((g) => g.sources > 0).map((g) => ({ name: g.name, sources: g.sources })), { name: NOT_IN_GROUP, sources: undefined }];
  const typeRow = (t: { identifier: string; label: string; points: number }) => html`<label class="type-choice"><input type="checkbox" name="type" value="${t.identifier}"${checked(form.types.includes(t.identifier))}>
    <span>${t.label}</span> <span class="mono small muted">${t.identifier}</span> <span class="small muted">${plural(t.points, t.identifier === ASIN_DETAILS_TYPE ? 'product' : 'point')}</span></label>`;
  const webmunk = types.filter((t) => WEBMUNK_TYPES.has(t.identifier));
  const others = types.filter((t) => !WEBMUNK_TYPES.has(t.identifier));
  const body = html`<h1>Export</h1>${outcomeNotice(request)}
    ${error ? html`<p class="notice error" role="alert">${error}</p>` : ''}
    <form method="post" action="/data/export" class="export-form">
      <input type="hidden" name="_csrf" value="${csrf}">
      <div class="grid">
      <fieldset class="panel"><legend>Sources</legend>
        <label><input type="radio" name="selection" value="all"${checked(form.selection === 'all')}> Every source on the dashboard</label>
        <label><input type="radio" name="selection" value="groups"${checked(form.selection === 'groups')}> The sources of these groups:</label>
        <div class="choices">${groupChoices.map((g) => html`<label><input type="checkbox" name="group" value="${g.name}"${checked(form.groups.includes(g.name))}> ${g.name}${g.sources === undefined ? '' : html` <span class="small muted">${plural(g.sources, 'source')}</span>`}</label>`)}</div>
        <label><input type="radio" name="selection" value="sources"${checked(form.selection === 'sources')}> These sources (identifiers, one per line or separated by commas):</label>
        <textarea name="sources" rows="4" cols="40" aria-label="Source identifiers">${form.sources}</textarea>
      </fieldset>
      <fieldset class="panel"><legend>Days and format</legend>
        <div class="toolbar"><label>From <input type="date" name="from" value="${form.from}"></label><label>to <input type="date" name="to" value="${form.to}"></label></div>
        <p class="small muted">Whole days in ${config.timeZone}, both included. Leave empty for all data.</p>
        <label><input type="radio" name="date_type" value="created"${checked(form.dateType !== 'recorded')}> by when the browser made the point (Date Created)</label>
        <label><input type="radio" name="date_type" value="recorded"${checked(form.dateType === 'recorded')}> by when the server received it (Date Recorded)</label>
        <p><label>Format <select name="format">
          <option value="tsv"${form.format === 'tsv' ? html` selected` : ''}>TSV files (as the original server)</option>
          <option value="parquet"${form.format === 'parquet' ? html` selected` : ''}>Parquet (typed columns, one file per type)</option>
          <option value="raw"${form.format === 'raw' ? html` selected` : ''}>Raw JSON (points as received)</option>
        </select></label></p>
      </fieldset>
      </div>
      <fieldset class="panel"><legend>Data types</legend>
        ${types.length === 0 ? html`<p class="muted">No points yet (counts appear once the source-statistics job has folded the first points).</p>` : ''}
        ${webmunk.length > 0 ? html`<h3>Webmunk</h3><div class="choices types">${webmunk.map(typeRow)}</div>` : ''}
        ${others.length > 0 ? html`<h3>Other data types <span class="small muted">(generic layout: one row per point, its properties as JSON)</span></h3><div class="choices types">${others.map(typeRow)}</div>` : ''}
      </fieldset>
      <p><button type="submit">Queue export</button> <span class="small muted">Archives are written in the background (the report-jobs job, every minute) and listed below.</span></p>
    </form>
    <h2>Export jobs</h2>${jobsTable(jobs, config.timeZone, csrf)}`;
  return sendPage(request, reply, { title: 'Export', current: 'export', body, status: error ? 400 : 200 });
}

function selectionOf(form: FormState): SourceSelection {
  if (form.selection === 'groups') return { groups: form.groups };
  if (form.selection === 'sources') return { sources: [...new Set(form.sources.split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean))] };
  return { all: true };
}

export function registerExportPage(scope: FastifyInstance, deps: DashboardDeps): void {
  scope.get('/export', (request, reply) => renderForm(deps, request, reply, EMPTY));

  // 1 MB: a pasted list of ~25,000 source identifiers.
  scope.post('/export', { bodyLimit: 1024 * 1024 }, async (request, reply) => {
    const form = readForm(request.body);
    try {
      const job = await requestExport(deps.pool, {
        requestedBy: request.session!.user.username, types: form.types, selection: selectionOf(form),
        from: form.from || undefined, to: form.to || undefined, dateType: form.dateType, format: form.format, destinations: ['folder'],
      });
      return reply.code(303).redirect(withOutcome(request, '/data/export', { done: 'export-queued', subject: String(job.id) }));
    } catch (error) {
      if (error instanceof ExportRequestError) return renderForm(deps, request, reply, form, error.message);
      throw error;
    }
  });
}
