/**
 * The participant's side of a donation (ecosystem-api.md §2.8.1 steps 3-6, issue 20 §1, §2, §4):
 * the instructions page the enrollment server's signed link opens, the upload page behind an
 * unguessable link (rotated each time the participant comes through the start page, as the
 * original), and the review page where the participant sees, deselects and confirms the rows.
 * Only the signed `auto` token opens or re-links a request, never an identifier a browser posts
 * (§4.4.3); no page offers any file back.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Config } from '../config.ts';
import { CHANNELS, notify } from '../db/channels.ts';
import type { Pool } from '../db/database.ts';
import { withTransaction } from '../db/transaction.ts';
import { html } from '../html.ts';
import type { Logger } from '../log.ts';
import { readAutoToken } from './auto-token.ts';
import { insertDonationBundles } from './donation-bundle.ts';
import { receiveDonatedFiles } from './file-receiver.ts';
import type { DonationImporter } from './importer-contract.ts';
import { importerFor, offeredSources } from './importer-list.ts';
import { helpPage, instructionsPage, linkClosedPage, linkRefusedPage, PARTICIPANT_HEADERS, participantPage, reviewPage, uploadPage } from './participant-pages.ts';
import { donationSource, fileForReview, filesOfRequest, issueUploadLink, markDiscarded, markImported, requestByToken, type LinkedRequest } from './participant.repository.ts';
import { FINAL_UPLOAD_DAYS, openRequest } from './requests.repository.ts';
import { newUploadLink, openExtraction, reviewSecretKey, tokenSha256 } from './upload-link.ts';

interface Deps {
  pool: Pool;
  config: Config;
  log: Logger;
}

const TOKEN = /^[0-9a-f]{64}$/;
const FORM_LIMIT = 1024 * 1024;

function formFields(body: unknown): URLSearchParams {
  return new URLSearchParams(Buffer.isBuffer(body) ? body.toString('utf8') : '');
}

function sendPage(reply: FastifyReply, page: string, status = 200) {
  return reply.code(status).headers(PARTICIPANT_HEADERS).type('text/html; charset=utf-8').send(page);
}

const NOTICES: Record<string, { text: string; error?: boolean }> = {
  uploaded: { text: 'File uploaded and saved successfully. It is being read now; it will be ready for your review in a moment.' },
  refused: { text: 'We could not use the file you uploaded: see the reason below. You can upload another file.', error: true },
  none: { text: 'Choose a file first, then press Upload.', error: true },
  sent: { text: 'Thank you: the rows you chose were sent to the research team.' },
  discarded: { text: 'Nothing from that file was sent.' },
  failed: { text: 'Unable to upload the file: the upload stopped before the whole file arrived. Please try again.', error: true },
};

export function registerParticipantRoutes(app: FastifyInstance, { pool, config, log }: Deps): void {
  const offered = () => offeredSources(config);
  /** The request behind an upload link, with the sources this server offers it; 'erased' for an erased identifier's. */
  const linked = async (token: string): Promise<{ request: LinkedRequest; importers: Map<string, DonationImporter> } | 'erased' | undefined> => {
    if (!TOKEN.test(token)) return undefined;
    const request = await requestByToken(pool, tokenSha256(token));
    if (!request) return undefined;
    if (request.erased) return 'erased';
    const importers = new Map(request.sources.filter((s) => offered().includes(s.identifier)).map((s) => [s.identifier, importerFor(s.identifier)!]));
    return { request, importers };
  };
  const toStart = (reply: FastifyReply) => reply.code(302).headers(PARTICIPANT_HEADERS).header('location', '/data/external/start').send();
  // 410 Gone: the enrollment server's own GET of the start link ignores the reply (ecosystem-api.md §2.8.1)
  const closed = (reply: FastifyReply) => sendPage(reply, linkClosedPage(), 410);

  app.register(async (scope) => {
    // The upload form's body is streamed by its handler, never buffered (files of up to DONATION_MAX_FILE_MB).
    scope.addContentTypeParser('multipart/form-data', (_request, _payload, done) => done(null, undefined));
    // The URL holds the participant's token: an error is logged without it.
    scope.setErrorHandler((error, request, reply) => {
      log.error({ err: error, route: request.routeOptions.url }, 'donation page failed');
      const status = (error as { statusCode?: number }).statusCode ?? 500;
      return sendPage(reply, participantPage('Something went wrong', html`<h1>Something went wrong</h1>
<p>${status === 413 ? 'What you sent is too large.' : 'Please go back and try again. If it happens again, tell the research team.'}</p>`), status >= 400 && status < 600 ? status : 500);
    });

    scope.get('/data/external/start', async (request, reply) => {
      const auto = (request.query as Record<string, unknown>).auto;
      const opened = typeof auto === 'string' && config.externalContentKey ? readAutoToken(auto, config.externalContentKey) : undefined;
      if (!opened) return sendPage(reply, linkRefusedPage(), 400);
      if ((await openRequest(pool, opened, config.donationSources)) === undefined) return closed(reply);
      const sources = await Promise.all(opened.sources.filter((s) => offered().includes(s)).map((s) => donationSource(pool, s)));
      return sendPage(reply, instructionsPage(sources.filter((s) => s !== undefined), auto as string));
    });

    scope.post('/data/external/start', { bodyLimit: 128 * 1024 }, async (request, reply) => {
      const auto = formFields(request.body).get('auto');
      const opened = auto && config.externalContentKey ? readAutoToken(auto, config.externalContentKey) : undefined;
      if (!opened) return sendPage(reply, linkRefusedPage(), 400);
      const link = newUploadLink();
      const admitted = await withTransaction(pool, async (tx) => {
        const opening = (await openRequest(tx, opened, config.donationSources)) !== undefined;
        if (opening) await issueUploadLink(tx, opened.identifier, link);
        return opening;
      });
      if (!admitted) return closed(reply);
      return reply.code(303).headers(PARTICIPANT_HEADERS).header('location', `/data/external/upload/${link.token}`).send();
    });

    scope.get('/data/external/upload/:token', async (request, reply) => {
      const found = await linked((request.params as { token: string }).token);
      if (!found) return toStart(reply);
      if (found === 'erased') return closed(reply);
      return sendPage(reply, await renderUpload(found.request, found.importers, (request.params as { token: string }).token, (request.query as { done?: string }).done));
    });

    scope.post('/data/external/upload/:token', async (request, reply) => {
      const token = (request.params as { token: string }).token;
      const found = await linked(token);
      if (!found || found === 'erased') {
        request.raw.resume();
        return found ? closed(reply) : toStart(reply);
      }
      const type = request.headers['content-type'] ?? '';
      if (!type.toLowerCase().startsWith('multipart/form-data') || !config.donationPublicKey) {
        request.raw.resume();
        return sendPage(reply, await renderUpload(found.request, found.importers, token, 'failed'), 400);
      }
      let done: string;
      try {
        const received = await receiveDonatedFiles(pool, request.raw, {
          requestId: found.request.id, importers: found.importers, publicKey: config.donationPublicKey, maxFileBytes: config.donationMaxFileBytes,
        });
        done = received.stored > 0 ? 'uploaded' : received.refused > 0 ? 'refused' : 'none';
        log.info({ donationRequest: found.request.id, stored: received.stored, refused: received.refused }, 'donated files received');
      } catch (error) {
        log.warn({ donationRequest: found.request.id, err: error }, 'donated upload not completed');
        done = 'failed';
      }
      return reply.code(303).headers(PARTICIPANT_HEADERS).header('location', `/data/external/upload/${token}?done=${done}`).send();
    });

    scope.get('/data/external/upload/:token/review/:file', async (request, reply) => {
      const { token, file } = request.params as { token: string; file: string };
      const found = await linked(token);
      if (!found) return toStart(reply);
      if (found === 'erased') return closed(reply);
      const review = await openReview(found.request, token, Number(file));
      if (!review) return reply.code(303).headers(PARTICIPANT_HEADERS).header('location', `/data/external/upload/${token}`).send();
      return sendPage(reply, reviewPage({ token, fileId: Number(file), fileName: review.name, sourceName: review.importer.name, columns: review.importer.reviewColumns, extraction: review.extraction }));
    });

    scope.post('/data/external/upload/:token/review/:file', { bodyLimit: FORM_LIMIT }, async (request, reply) => {
      const { token, file } = request.params as { token: string; file: string };
      const found = await linked(token);
      if (!found) return toStart(reply);
      if (found === 'erased') return closed(reply);
      const fields = formFields(request.body);
      const done = await confirm(found.request, token, Number(file), fields.get('action') === 'discard' ? [] : fields.getAll('row'));
      return reply.code(303).headers(PARTICIPANT_HEADERS).header('location', `/data/external/upload/${token}${done ? `?done=${done}` : ''}`).send();
    });

    scope.get('/data/external/help/:source', async (request, reply) => {
      const source = await donationSource(pool, (request.params as { source: string }).source);
      if (!source) return sendPage(reply, participantPage('Not found', html`<h1>There is no such page</h1>`), 404);
      const token = (request.query as { token?: unknown }).token;
      return sendPage(reply, helpPage(source, typeof token === 'string' && TOKEN.test(token) ? token : undefined));
    });
  });

  async function renderUpload(request: LinkedRequest, importers: Map<string, DonationImporter>, token: string, done: string | undefined): Promise<string> {
    const files = await filesOfRequest(pool, request.id);
    const finalDay = new Date(request.requestedAt.getTime() + FINAL_UPLOAD_DAYS * 86_400_000);
    return uploadPage({
      token,
      sources: request.sources.filter((s) => importers.has(s.identifier)).map((s) => ({ ...s, fileKind: importers.get(s.identifier)!.fileKind })),
      files,
      finalDue: Date.now() >= finalDay.getTime() && !files.some((f) => f.uploadedAt >= finalDay && f.state !== 'refused' && f.state !== 'expired'),
      notice: done ? NOTICES[done] : undefined,
      timeZone: config.timeZone,
      maxFileMb: Math.round(config.donationMaxFileBytes / 1024 / 1024),
    });
  }

  async function openReview(request: LinkedRequest, token: string, fileId: number) {
    if (!Number.isSafeInteger(fileId)) return undefined;
    const file = await fileForReview(pool, request.id, fileId);
    const secret = reviewSecretKey(token, request.reviewSecretWrapped);
    const importer = file && importerFor(file.source);
    const extraction = file && secret && openExtraction(file.extraction, secret);
    return importer && extraction ? { name: file.name, importer, extraction } : undefined;
  }

  /** The ticked rows' points become bundles and the file is imported, in one transaction; nothing ticked: nothing is stored. */
  async function confirm(request: LinkedRequest, token: string, fileId: number, keys: string[]): Promise<string | undefined> {
    if (!Number.isSafeInteger(fileId)) return undefined;
    const secret = reviewSecretKey(token, request.reviewSecretWrapped);
    if (!secret) return undefined;
    // Nothing to confirm (no such file, or not openable with this link) changes nothing: the
    // transaction commits having written nothing.
    const confirmed = await withTransaction(pool, async (tx) => {
      const file = await fileForReview(tx, request.id, fileId, true);
      const extraction = file && openExtraction(file.extraction, secret);
      if (!extraction) return undefined;
      const chosen = new Set(keys);
      const rows = extraction.rows.filter((row) => chosen.has(row.key));
      const points = rows.flatMap((row) => row.points);
      if (points.length === 0) {
        await markDiscarded(tx, fileId);
      } else {
        const bundleId = await insertDonationBundles(tx, fileId, request.identifier, points);
        await markImported(tx, fileId, { rows: rows.length, points: points.length, bundleId: bundleId ?? 0 }, config.donationKeepFiles);
      }
      return { rows: rows.length, of: extraction.rows.length, points: points.length };
    });
    if (!confirmed) return undefined;
    if (confirmed.points > 0) await notify(pool, CHANNELS.bundles).catch(() => undefined);
    log.info({ donationFile: fileId, ...confirmed }, 'donation confirmed');
    return confirmed.points > 0 ? 'sent' : 'discarded';
  }
}
