/** The Export page's list of report jobs: state and progress, size, duration, download, retry, re-run. */
import type { ReportJob } from '../../exports/report-jobs.repository.ts';
import { formatBytes, formatCount, formatDateTime, formatDuration } from '../format.ts';
import { html, type SafeHtml } from '../../html.ts';

function selectionText(job: ReportJob): string {
  const n = job.sources.length;
  const count = `${formatCount(n)} source${n === 1 ? '' : 's'}`;
  if ('all' in job.selection) return `all (${count})`;
  if ('groups' in job.selection) return `${job.selection.groups.join(', ')} (${count})`;
  return n <= 3 ? job.sources.join(', ') : count;
}

function daysText(job: ReportJob): string {
  const by = job.dateType === 'recorded' ? 'received' : 'created';
  if (!job.from && !job.to) return `all days (${by})`;
  if (job.from === job.to) return `${job.from} (${by})`;
  return `${job.from ?? '…'} to ${job.to ?? '…'} (${by})`;
}

/**
 * Re-run (issue 21 §3), for a finished or failed job the server wrote: a new job with the same
 * request. Nightly jobs are re-run by night, and a job of dcs export by the command.
 */
function rerunButton(job: ReportJob, csrfToken: string): SafeHtml {
  if (job.batch || job.destinations.some((d) => d.startsWith('file:'))) return html``;
  return html`<form method="post" action="/data/export/jobs/${job.id}/rerun" class="inline"><input type="hidden" name="_csrf" value="${csrfToken}"><button type="submit" class="secondary" title="Run this export again as a new job, with the rules in force now">Re-run</button></form>`;
}

function stateCell(job: ReportJob, csrfToken: string): SafeHtml {
  if (job.state === 'running') {
    return html`<span class="outcome-running">running</span><div class="small muted">${formatCount(job.pointsWritten)} points · type ${Math.min(job.typesDone + 1, job.types.length)} of ${job.types.length}</div>`;
  }
  if (job.state === 'failed') {
    const canRetry = !job.destinations.some((d) => d.startsWith('file:'));
    return html`<span class="outcome-failed">failed</span><details><summary class="small">why</summary><pre class="error-text">${job.error ?? ''}</pre></details>
      ${canRetry ? html`<form method="post" action="/data/export/jobs/${job.id}/retry" class="inline"><input type="hidden" name="_csrf" value="${csrfToken}"><button type="submit" class="secondary">Retry</button></form>` : html`<div class="small muted">re-run the dcs export command</div>`}
      ${rerunButton(job, csrfToken)}`;
  }
  if (job.state === 'queued') return html`<span class="muted">queued</span>`;
  return html`<span class="outcome-succeeded">done</span><div class="small muted">${formatCount(job.pointsWritten)} point${job.pointsWritten === 1 ? '' : 's'}</div>
    ${rerunButton(job, csrfToken)}`;
}

function fileCell(job: ReportJob): SafeHtml {
  if (job.state !== 'done') return html`<span class="mono small">${job.fileName ?? ''}</span>`;
  const downloadable = job.destinations.includes('folder');
  const s3 = job.storedAt.filter((place) => place.startsWith('s3://'));
  return html`${downloadable ? html`<a href="/data/export/jobs/${job.id}/download" download>${job.fileName}</a>` : html`<span class="mono small">${job.storedAt[0] ?? ''}</span>`}
    ${s3.map((place) => html`<div class="small muted mono">${place}</div>`)}`;
}

export function jobsTable(jobs: readonly ReportJob[], timeZone: string, csrfToken: string): SafeHtml {
  if (jobs.length === 0) return html`<p class="muted">No exports yet.</p>`;
  const rows = jobs.map((job) => {
    const seconds = job.startedAt && job.finishedAt ? (job.finishedAt.getTime() - job.startedAt.getTime()) / 1000 : undefined;
    return html`<tr><td class="num">${job.id}</td>
      <td class="nowrap">${formatDateTime(job.requestedAt, timeZone)}<div class="small muted">${job.requestedBy}${job.rerunOf === null ? '' : ` · re-run of ${job.rerunOf}`}</div></td>
      <td>${selectionText(job)}</td>
      <td>${formatCount(job.types.length)} type${job.types.length === 1 ? '' : 's'}<div class="small muted">${job.format}</div></td>
      <td class="nowrap">${daysText(job)}</td>
      <td>${stateCell(job, csrfToken)}</td>
      <td class="num">${formatBytes(job.fileBytes)}</td>
      <td class="num">${seconds === undefined ? '–' : formatDuration(seconds)}</td>
      <td class="file-cell">${fileCell(job)}</td></tr>`;
  });
  return html`<div class="table-scroll"><table class="data export-jobs"><thead><tr><th class="num">Job</th><th>Requested</th><th>Sources</th><th>Types</th><th>Days</th><th>State</th><th class="num">Size</th><th class="num">Took</th><th>Archive</th></tr></thead>
    <tbody>${rows}</tbody></table></div>`;
}
