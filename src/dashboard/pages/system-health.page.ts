/**
 * /data/system-health: is the server keeping up? The queue's key figures, 24 hours of server-health
 * snapshots as charts, the backups, the donations line, the points in the DEFAULT partition, the errored bundles (with Reprocess for administrators) and the run history
 * of every scheduled job. Plain HTML and inline SVG, no script.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { listRuns, readBackupHealth, type BackupRun } from '../../backup/backup-runs.repository.ts';
import { describeBackups, type BackupStatus } from '../../backup/backup-status.ts';
import type { Config } from '../../config.ts';
import { describeSchedule, type JobDefinition } from '../../job-contract.ts';
import { JOBS } from '../../jobs/job-list.ts';
import { latestJobRuns, listJobRuns, listJobTotals, type JobRun, type JobTotals } from '../../jobs/job-runs.repository.ts';
import { describeDefaultPartition, readDefaultPartition } from '../../monitoring/default-partition.ts';
import { readStatus, type ServerStatus } from '../../monitoring/status.ts';
import { csrfField } from '../auth/csrf.ts';
import { barChart, type Bar } from '../charts.ts';
import type { DashboardDeps } from '../dashboard-deps.ts';
import { readDonationHealth } from '../donations.repository.ts';
import { formatAge, formatBytes, formatCount, formatDateTime, formatDuration } from '../format.ts';
import { html, type SafeHtml } from '../../html.ts';
import { countRetryableErrored, listErroredBundles, listHealthSnapshots, type ErroredBundle, type SnapshotRow } from '../system-health.repository.ts';
import { queryParam, sendPage } from './page.ts';
import { registerSystemHealthActions } from './system-health.actions.ts';
import { donationsHealthSection } from './system-health.donations.ts';
import { partitionsHealthSection } from './system-health.partitions.ts';

const BUCKET_MS = 15 * 60_000;
const DAY_MS = 24 * 3_600_000;
const ERRORED_SHOWN = 50;
const RUNS_SHOWN = 50;
const BACKUP_RUNS_SHOWN = 10;

const plural = (n: number, one: string, many = `${one}s`) => `${formatCount(n)} ${n === 1 ? one : many}`;

function figures(status: ServerStatus, erroredUploadsMaxBytes: number): SafeHtml {
  const oldest = status.oldestPendingReceivedAt;
  const lag = oldest ? formatDuration(status.processingLagSeconds) : '0 s';
  const figure = (label: string, value: string, note?: string) => html`<div><dt>${label}</dt><dd>${value}</dd>${note ? html`<dd class="note">${note}</dd>` : ''}</div>`;
  return html`<dl class="figures">
    ${figure('Bundles received', formatCount(status.bundles))}
    ${figure('Pending', formatCount(status.bundlesPending))}
    ${figure('Errored', formatCount(status.bundlesErrored))}
    ${figure('Processed', formatCount(status.bundlesProcessed))}
    ${figure('Points stored', formatCount(status.points), status.pointsRejected > 0 ? `${formatCount(status.pointsRejected)} rejected` : undefined)}
    ${figure('Processing lag', lag, oldest ? 'age of the oldest pending bundle' : 'nothing waiting')}
    ${figure('Spooled uploads', formatCount(status.spooled), status.spooled > 0 ? `${formatBytes(status.spoolBytes)} waiting for the database` : 'none waiting')}
    ${figure('Undecodable uploads kept', formatBytes(status.erroredUploadBytes), status.erroredUploadsNotKept > 0
      ? `${formatCount(status.erroredUploadsNotKept)} more not kept: the limit of ${formatBytes(erroredUploadsMaxBytes)} is reached`
      : `limit ${formatBytes(erroredUploadsMaxBytes)}`)}
  </dl>`;
}

/** Tick marks every 3 hours on the hour in the configured zone ("13:00"), whatever its UTC offset. */
function ticks(from: Date, to: Date, timeZone: string): Array<[Date, string]> {
  const format = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const out: Array<[Date, string]> = [];
  for (let t = from.getTime(); t <= to.getTime(); t += BUCKET_MS) {
    const text = format.format(new Date(t));
    const [hour, minute] = text.split(':').map(Number);
    if (minute === 0 && hour % 3 === 0) out.push([new Date(t), text]);
  }
  return out;
}

/**
 * One bar per 15-minute slot holding a snapshot. Two snapshots in one slot (the scheduled one and
 * one taken by hand) add up for the "added" series and keep the later value for the gauges.
 */
function bars(snapshots: readonly SnapshotRow[], value: (s: SnapshotRow) => number, kind: 'added' | 'gauge', title: (s: SnapshotRow, v: number) => string, timeZone: string): Bar[] {
  const bySlot = new Map<number, { start: Date; value: number; last: SnapshotRow }>();
  for (const s of snapshots) {
    const slot = Math.floor(s.takenAt.getTime() / BUCKET_MS) * BUCKET_MS;
    const previous = bySlot.get(slot);
    const v = kind === 'added' && previous ? previous.value + value(s) : value(s);
    bySlot.set(slot, { start: new Date(slot), value: v, last: s });
  }
  return [...bySlot.values()].map((b) => ({ start: b.start, value: b.value, title: `${formatDateTime(b.last.takenAt, timeZone)}: ${title(b.last, b.value)}` }));
}

/** The lag in the unit that keeps the axis readable: seconds, minutes or hours. */
function lagUnit(snapshots: readonly SnapshotRow[]): { name: string; seconds: number } {
  const most = Math.max(0, ...snapshots.map((s) => s.processingLagSeconds));
  if (most >= 3 * 3600) return { name: 'hours', seconds: 3600 };
  if (most >= 180) return { name: 'minutes', seconds: 60 };
  return { name: 'seconds', seconds: 1 };
}

function charts(snapshots: readonly SnapshotRow[], now: Date, timeZone: string): SafeHtml {
  if (snapshots.length === 0) {
    return html`<section class="panel"><h2>Last 24 hours</h2>
      <p class="muted">No server-health snapshots yet. The server-health job takes one every 15 minutes;
      <code>dcs run-job server-health</code> takes one now.</p></section>`;
  }
  const to = new Date(Math.floor(now.getTime() / BUCKET_MS) * BUCKET_MS + BUCKET_MS);
  const from = new Date(to.getTime() - DAY_MS);
  const axis = { from, to, bucketMs: BUCKET_MS, ticks: ticks(from, to, timeZone) };
  const unit = lagUnit(snapshots);
  const received = bars(snapshots, (s) => s.bundlesAdded, 'added', (_s, v) => `${plural(v, 'bundle')} received`, timeZone);
  const pending = bars(snapshots, (s) => s.bundlesPending, 'gauge', (_s, v) => `${plural(v, 'bundle')} pending`, timeZone);
  const points = bars(snapshots, (s) => s.pointsAdded, 'added', (_s, v) => `${plural(v, 'point')} added`, timeZone);
  const lag = bars(snapshots, (s) => s.processingLagSeconds / unit.seconds, 'gauge', (s) => `processing lag ${formatDuration(s.processingLagSeconds)}`, timeZone);
  return html`<section class="panel charts"><h2>Last 24 hours</h2>
    <p class="muted small">One server-health snapshot every 15 minutes (${plural(snapshots.length, 'snapshot')} in this window); times in ${timeZone}.</p>
    <div class="chart-columns">
      <div><h3>Bundles received and pending</h3>
        <p class="legend"><span class="swatch"></span>received since the previous snapshot &nbsp; <span class="swatch second"></span>pending at the snapshot</p>
        ${barChart(received, { ...axis, label: 'Bundles received per snapshot', className: 'chart' })}
        ${barChart(pending, { ...axis, label: 'Bundles pending', className: 'chart chart-second' })}</div>
      <div><h3>Points added</h3>
        <p class="legend"><span class="swatch"></span>points stored since the previous snapshot</p>
        ${barChart(points, { ...axis, label: 'Points added per snapshot' })}
        <h3>Processing lag (${unit.name})</h3>
        ${barChart(lag, { ...axis, label: `Processing lag in ${unit.name}` })}</div>
    </div>
  </section>`;
}

/** A long error message folds away behind its first line, so the table stays scannable. */
function errorText(error: string | null): SafeHtml {
  if (!error) return html`<span class="muted">–</span>`;
  if (error.length <= 120 && !error.includes('\n')) return html`${error}`;
  return html`<details><summary>${error.split('\n')[0].slice(0, 90)}…</summary><pre class="error-text">${error}</pre></details>`;
}

function sourcesOf(sources: string[] | null): SafeHtml {
  if (!sources || sources.length === 0) return html`<span class="muted">–</span>`;
  const shown = sources.slice(0, 5).map((s) => html`<a href="/data/source/${encodeURIComponent(s)}">${s}</a>`);
  const links = shown.flatMap((link, i) => (i === 0 ? [link] : [html`, `, link]));
  return html`${links}${sources.length > 5 ? html` <span class="muted">+${sources.length - 5} more</span>` : ''}`;
}

function erroredSection(request: FastifyRequest, bundles: readonly ErroredBundle[], total: number, retryable: number, timeZone: string): SafeHtml {
  const isAdmin = request.session?.user.isAdmin ?? false;
  const heading = html`<h2>Errored bundles <span class="muted small">${plural(total, 'bundle')} in all${total > bundles.length ? `, the latest ${bundles.length} shown` : ''}</span></h2>`;
  if (total === 0) return html`<section class="panel">${heading}<p class="ok">No errored bundles.</p></section>`;
  const rows = bundles.map((b) => {
    const retry = b.attempts > 0;
    const tick = isAdmin
      ? html`<td>${retry ? html`<input type="checkbox" name="bundle" value="${b.id}" aria-label="Reprocess bundle ${b.id}">` : html`<span class="muted small" title="Undecodable at upload: the bundle holds the raw request">—</span>`}</td>`
      : '';
    return html`<tr>${tick}<td class="num">${b.id}</td><td class="nowrap">${formatDateTime(b.receivedAt, timeZone)}</td>
      <td>${b.transport}</td><td class="small">${b.contentType ?? '–'}</td><td class="small">${b.identifier ?? '–'}</td>
      <td class="num">${b.attempts}</td>
      <td class="error-cell">${retry ? '' : html`<div class="muted small">Undecodable at upload (holds the raw request): not reprocessable.</div>`}${errorText(b.error)}</td><td class="small">${sourcesOf(b.sources)}</td></tr>`;
  });
  const table = html`<div class="table-scroll"><table class="data errored"><thead><tr>${isAdmin ? html`<th><span class="visually-hidden">Reprocess</span></th>` : ''}<th class="num">Bundle</th><th>Received</th><th>Transport</th><th>Content type</th>
    <th>Identifier</th><th class="num">Attempts</th><th>Error</th><th>Sources</th></tr></thead><tbody>${rows}</tbody></table></div>`;
  const note = html`<p class="muted small">Reprocessing queues a bundle as pending again, for the worker to process once more (e.g. after a fix).
    Bundles undecodable at upload hold the raw request and cannot be reprocessed.</p>`;
  if (!isAdmin) return html`<section class="panel">${heading}${table}<p class="muted small">Only an administrator can reprocess bundles.</p></section>`;
  return html`<section class="panel">${heading}${note}
    <form method="post" action="/data/system-health/reprocess">${csrfField(request)}
      ${table}
      <div class="toolbar-actions">
        <button type="submit">Reprocess selected</button>
        ${retryable > 0 ? html`<button type="submit" name="all" value="1" class="secondary">Reprocess all ${plural(retryable, 'errored bundle')}</button>` : ''}
      </div>
    </form></section>`;
}

function runDuration(run: JobRun, now: Date): string {
  if (!run.finishedAt) return run.outcome === 'running' ? `running for ${formatDuration((now.getTime() - run.startedAt.getTime()) / 1000)}` : '–';
  return formatDuration((run.finishedAt.getTime() - run.startedAt.getTime()) / 1000);
}

function countsText(run: JobRun): string {
  return Object.entries(run.counts ?? {}).map(([key, value]) => `${key}: ${typeof value === 'number' ? Math.round(value * 100) / 100 : value}`).join(', ');
}

const outcome = (run: JobRun) => html`<span class="outcome-${run.outcome}">${run.outcome}</span>`;

function jobsTable(jobs: readonly JobDefinition[], latest: Map<string, JobRun>, totals: readonly JobTotals[], config: Config, now: Date): SafeHtml {
  const totalOf = new Map(totals.map((t) => [t.job, t]));
  const rows = jobs.map((job) => {
    const run = latest.get(job.name);
    const total = totalOf.get(job.name);
    const enabled = job.enabled?.(config) ?? true;
    return html`<tr><td class="nowrap"><code>${job.name}</code></td><td>${job.description}</td>
      <td>${describeSchedule(job, config)}${enabled ? '' : html` <span class="muted small">(not scheduled)</span>`}</td>
      <td class="nowrap">${run ? html`${formatDateTime(run.startedAt, config.timeZone)} <span class="muted small">${formatAge(run.startedAt, now)}</span>` : html`<span class="muted">never</span>`}</td>
      <td>${run ? outcome(run) : ''}</td><td class="nowrap">${run ? runDuration(run, now) : ''}</td>
      <td class="num">${formatCount(total?.runs ?? 0)}</td><td class="num">${formatCount(total?.failures ?? 0)}</td></tr>`;
  });
  return html`<div class="table-scroll"><table class="data jobs"><thead><tr><th>Job</th><th>What it does</th><th>Schedule</th><th>Latest run</th><th>Outcome</th><th>Duration</th>
    <th class="num">Runs</th><th class="num">Failures</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

function runsTable(runs: readonly JobRun[], config: Config, now: Date): SafeHtml {
  if (runs.length === 0) return html`<p class="muted">No job has run yet.</p>`;
  const rows = runs.map((run) => html`<tr><td class="nowrap"><code>${run.job}</code></td><td>${run.trigger}</td>
    <td class="nowrap">${formatDateTime(run.startedAt, config.timeZone)}</td><td class="nowrap">${runDuration(run, now)}</td><td>${outcome(run)}</td>
    <td class="small counts">${countsText(run)}</td><td class="small">${run.error ?? ''}</td></tr>`);
  return html`<div class="table-scroll"><table class="data runs"><thead><tr><th>Job</th><th>Trigger</th><th>Started</th><th>Duration</th><th>Outcome</th><th>Counts</th><th>Error</th></tr></thead>
    <tbody>${rows}</tbody></table></div>`;
}

function backupsSection(status: BackupStatus, runs: readonly BackupRun[], config: Config, now: Date): SafeHtml {
  const notice = html`<p class="notice${status.alert ? ' error' : ''}" role="${status.alert ? 'alert' : 'status'}">${status.message}</p>`;
  // A run that did not succeed wrote no manifest: what it got through is not a backup, so no counts.
  const figure = (run: BackupRun, text: string) => (run.state === 'succeeded' ? text : '–');
  const rows = runs.map((run) => html`<tr><td class="nowrap"><code>${run.name}</code></td>
    <td class="nowrap">${formatDateTime(run.startedAt, config.timeZone)} <span class="muted small">${formatAge(run.startedAt, now)}</span></td>
    <td><span class="outcome-${run.state}">${run.state}</span></td><td class="num">${figure(run, formatCount(run.bundles))}</td>
    <td class="num">${figure(run, formatCount(run.tableRows))}</td><td class="num">${figure(run, String(run.files))}</td>
    <td class="num nowrap">${figure(run, formatBytes(run.bytes))}</td><td class="small">${run.destinations.join(', ')}</td><td class="small">${errorText(run.error)}</td></tr>`);
  const table = runs.length === 0 ? '' : html`<div class="table-scroll"><table class="data backups"><thead><tr><th>Run</th><th>Started</th><th>Outcome</th>
    <th class="num">New bundles</th><th class="num">Table rows</th><th class="num">Files</th><th class="num">Size</th><th>Destinations</th><th>Error</th></tr></thead>
    <tbody>${rows}</tbody></table></div>`;
  return html`<section class="panel" id="backups"><h2>Backups</h2>${notice}${table}
    <p class="muted small">Encrypted with BACKUP_KEY; <code>dcs backup verify</code> checks every file, <code>dcs restore --from …</code> brings a backup back (docs/backups.md).</p></section>`;
}

function reprocessedNotice(request: FastifyRequest): SafeHtml {
  const text = queryParam(request, 'reprocessed');
  if (!/^\d{1,9}$/.test(text)) return html``;
  const n = Number(text);
  if (n === 0) return html`<p class="notice" role="status">No bundle was queued: tick the bundles to reprocess, or use “Reprocess all”.</p>`;
  return html`<p class="notice" role="status">${plural(n, 'bundle')} queued for processing again.</p>`;
}

export function registerSystemHealthPage(scope: FastifyInstance, deps: DashboardDeps): void {
  const { pool, config } = deps;
  registerSystemHealthActions(scope, deps);
  scope.get('/system-health', async (request, reply) => {
    const now = new Date();
    const since = new Date(Math.floor(now.getTime() / BUCKET_MS) * BUCKET_MS + BUCKET_MS - DAY_MS);
    const [status, snapshots, errored, retryable, latest, totals, runs, backupHealth, backupRuns, donationHealth, defaultRows] = await Promise.all([
      readStatus(pool, config.spoolDir),
      listHealthSnapshots(deps.readPool, since), // the job's history: may lag
      listErroredBundles(pool, ERRORED_SHOWN),
      countRetryableErrored(pool),
      latestJobRuns(pool),
      listJobTotals(pool),
      listJobRuns(pool, { limit: RUNS_SHOWN }),
      readBackupHealth(pool),
      listRuns(pool, BACKUP_RUNS_SHOWN),
      readDonationHealth(pool),
      readDefaultPartition(pool),
    ]);
    const body = html`<h1>System health</h1>
      ${reprocessedNotice(request)}
      ${figures(status, config.erroredUploadsMaxBytes)}
      ${backupsSection(describeBackups(backupHealth, config, now), backupRuns, config, now)}
      ${donationsHealthSection(donationHealth, config, now)}
      ${partitionsHealthSection(defaultRows, describeDefaultPartition(defaultRows))}
      ${charts(snapshots, now, config.timeZone)}
      ${erroredSection(request, errored, status.bundlesErrored, retryable, config.timeZone)}
      <section class="panel"><h2>Scheduled jobs</h2>${jobsTable(JOBS, latest, totals, config, now)}
        <h3>Latest runs</h3>${runsTable(runs, config, now)}</section>`;
    return sendPage(request, reply, { title: 'System health', current: 'system-health', body });
  });
}
