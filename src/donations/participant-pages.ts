/**
 * The participants' donation pages: plain HTML in the dashboard's style (its public stylesheet,
 * same origin), readable on a phone, usable with the keyboard alone, no script and no outside asset.
 */
import { html, raw, type SafeHtml } from '../html.ts';
import type { Extraction } from './importer-contract.ts';
import type { ParticipantFile } from './participant.repository.ts';

export interface SourceText {
  identifier: string;
  name: string;
  instructions: string;
}

/** Headers of every participant page: nothing loads from elsewhere, nothing frames it, no link leaks the URL's token. */
export const PARTICIPANT_HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
} as const;

export function participantPage(title: string, body: SafeHtml, refreshSeconds?: number): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
${refreshSeconds ? html`<meta http-equiv="refresh" content="${refreshSeconds}">` : ''}
<title>${title}</title><link rel="stylesheet" href="/data/static/dashboard.css"></head>
<body class="participant"><main>${body}</main></body></html>`.value;
}

/** Staff instructions are plain text: a blank line starts a paragraph, a line break stays one. */
function paragraphs(text: string): SafeHtml {
  return html`${text.split(/\n\s*\n/).filter((p) => p.trim()).map((p) => html`<p>${p.trim().split('\n').map((line, i) => html`${i > 0 ? raw('<br>') : ''}${line}`)}</p>`)}`;
}

const DEFAULT_INSTRUCTIONS: Record<string, string> = {
  amazon: 'On amazon.com, open Account & Lists, then "Request your data" (or "Download order reports"), and ask for your order history.\n\nAmazon sends you a CSV file of the items you ordered. Keep it as it is and upload it on the next page.\n\nYou will see every row the file holds before anything is sent, and you can leave out any of them.',
  chatgpt: 'In ChatGPT, open Settings, then Data controls, then "Export data". OpenAI e-mails you a link to a ZIP file.\n\nDownload the ZIP file and upload it on the next page as it is, without unpacking it.\n\nYou will see the list of your conversations (titles and message counts, not the messages) before anything is sent, and you can leave out any of them. The texts of the messages are encrypted for the research team.',
};

function instructionsOf(source: SourceText): SafeHtml {
  return paragraphs(source.instructions.trim() || DEFAULT_INSTRUCTIONS[source.identifier] || '');
}

/** The start page: what to download, and the button that opens the upload page (the signed link travels in the form). */
export function instructionsPage(sources: SourceText[], auto: string): string {
  return participantPage('Donate your data', html`<h1>Donate your data</h1>
<p>Thank you for taking part. This study asks you to share a copy of data a service keeps about you.</p>
${sources.map((source) => html`<section class="panel"><h2>${source.name}</h2>${instructionsOf(source)}</section>`)}
<form method="post" action="/data/external/start"><input type="hidden" name="auto" value="${auto}">
<button type="submit" class="big">Continue to the upload page</button></form>`);
}

export function linkRefusedPage(): string {
  return participantPage('Donation link', html`<h1>This link does not work</h1>
<p>This page opens from the link in your study's task list. Please open it again from there.</p>`);
}

/**
 * A link of an identifier on the erased list (the participant withdrew). Neutral on purpose: the
 * page says nothing of the erasure to whoever holds the link.
 */
export function linkClosedPage(): string {
  return participantPage('Donation link', html`<h1>This link can no longer be used</h1>
<p>This link can no longer be used for uploads. If you have a question about the study, please contact the study team.</p>`);
}

export function helpPage(source: SourceText, token: string | undefined): string {
  return participantPage(`${source.name}: how to download it`, html`<h1>${source.name}: how to download it</h1>
${instructionsOf(source)}
${token ? html`<p><a href="/data/external/upload/${token}">Back to the upload page</a></p>` : ''}`);
}

const STATE_TEXT: Record<string, string> = {
  received: 'Received: being read',
  extracting: 'Received: being read',
  'awaiting-confirmation': 'Ready for your review',
  imported: 'Sent',
  refused: 'Not used',
  expired: 'Not reviewed in time: not used',
};

function when(date: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(date);
}

function fileRow(file: ParticipantFile, token: string, timeZone: string): SafeHtml {
  const detail = file.state === 'awaiting-confirmation'
    ? html`<a class="button" href="/data/external/upload/${token}/review/${file.id}">Review and send (${file.rowsExtracted ?? 0} rows)</a>`
    : file.state === 'imported' ? html`${file.rowsConfirmed ?? 0} rows sent`
      : file.participantMessage ?? '';
  return html`<tr><td>${file.name}<br><span class="muted small">${when(file.uploadedAt, timeZone)}</span></td><td><strong>${STATE_TEXT[file.state] ?? file.state}</strong><br>${detail}</td></tr>`;
}

export interface UploadPageModel {
  token: string;
  sources: (SourceText & { fileKind: 'csv' | 'zip' })[];
  files: ParticipantFile[];
  /** the final upload is due (28 days after the request) and none came since */
  finalDue: boolean;
  notice?: { text: string; error?: boolean };
  timeZone: string;
  maxFileMb: number;
}

export function uploadPage(model: UploadPageModel): string {
  const reading = model.files.some((f) => f.state === 'received' || f.state === 'extracting');
  const body = html`<h1>Upload your files</h1>
${model.notice ? html`<p class="notice${model.notice.error ? ' error' : ''}" role="status">${model.notice.text}</p>` : ''}
${model.finalDue ? html`<p class="notice">It is time for your final upload: please download your file again and upload it here.</p>` : ''}
<form method="post" action="/data/external/upload/${model.token}" enctype="multipart/form-data">
${model.sources.map((source) => {
    const last = model.files.find((f) => f.source === source.identifier && f.state === 'imported');
    return html`<section class="panel"><h2><label for="file-${source.identifier}">${source.name}</label></h2>
<p>${last ? html`Last upload: ${when(last.uploadedAt, model.timeZone)}.` : html`Choose the ${source.fileKind === 'zip' ? 'ZIP' : 'CSV'} file you downloaded (at most ${model.maxFileMb} MB).`}
<a href="/data/external/help/${source.identifier}?token=${model.token}" target="_blank" rel="noreferrer">How do I get this file?</a></p>
<input type="file" id="file-${source.identifier}" name="${source.identifier}" multiple accept="${source.fileKind === 'zip' ? '.zip,application/zip' : '.csv,text/csv'}"></section>`;
  })}
<button type="submit" class="big">Upload</button></form>
${model.files.length > 0 ? html`<h2>Your files</h2>
${reading ? html`<p class="muted">This page refreshes itself while your files are being read.</p>` : ''}
<div class="scroll"><table class="data"><thead><tr><th>File, uploaded</th><th>State</th></tr></thead>
<tbody>${model.files.map((file) => fileRow(file, model.token, model.timeZone))}</tbody></table></div>` : ''}`;
  return participantPage('Upload your files', body, reading ? 5 : undefined);
}

export interface ReviewPageModel {
  token: string;
  fileId: number;
  fileName: string;
  sourceName: string;
  columns: readonly string[];
  extraction: Extraction;
}

/** The column with the longest texts (a title): the one that wraps anywhere, so that the others keep their words whole on a phone. */
function longestColumn(model: ReviewPageModel): string | undefined {
  const length = (column: string) => model.extraction.rows.reduce((sum, row) => sum + (row.cells[column]?.length ?? 0), 0);
  return [...model.columns].sort((a, b) => length(b) - length(a))[0];
}

export function reviewPage(model: ReviewPageModel): string {
  const { extraction } = model;
  const long = longestColumn(model);
  return participantPage(`Review: ${model.fileName}`, html`<h1>Review what you send</h1>
<p>${model.sourceName}, file <strong>${model.fileName}</strong>: ${extraction.rows.length} rows. Nothing is sent until you press the button
below. Untick any row you do not want to share; only the ticked rows are sent to the research team.</p>
${extraction.notes.length > 0 ? html`<ul class="notes">${extraction.notes.map((note) => html`<li>${note}</li>`)}</ul>` : ''}
<form method="post" action="/data/external/upload/${model.token}/review/${model.fileId}">
<div class="scroll"><table class="data review"><thead><tr><th scope="col">Send</th>${model.columns.map((c) => html`<th scope="col">${c}</th>`)}</tr></thead>
<tbody>${extraction.rows.map((row) => html`<tr><td><input type="checkbox" name="row" value="${row.key}" id="row-${row.key}" checked aria-label="Send row ${row.key}"></td>${model.columns.map((c, i) => i === 0
    ? html`<td${c === long ? raw(' class="long"') : ''}><label for="row-${row.key}">${row.cells[c] ?? ''}</label></td>`
    : html`<td${c === long ? raw(' class="long"') : ''}>${row.cells[c] ?? ''}</td>`)}</tr>`)}</tbody></table></div>
<p><button type="submit" name="action" value="send" class="big">Send the ticked rows</button>
<button type="submit" name="action" value="discard" class="secondary">Send nothing from this file</button></p>
</form>
<p><a href="/data/external/upload/${model.token}">Back to the upload page</a></p>`);
}
