/**
 * The `donations` job on a real database: donated files sealed in 1 MiB chunks as the upload
 * handler stores them, opened with DONATION_SECRET_KEY, run through the real importers, their
 * extractions sealed to the participant's review key; refusals with both messages; damaged files;
 * retries; the time-outs and the retention of the sealed bytes; two runs at once.
 */
import { readFileSync } from 'node:fs';
import nacl from 'tweetnacl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.ts';
import { openSealedBox } from '../../src/crypto/sealed-box.ts';
import { donationsJob, runDonations } from '../../src/donations/donations.job.ts';
import { DAMAGED_MESSAGE, FAILED_MESSAGE, importClaimedFile } from '../../src/donations/import-file.ts';
import { claimReceivedFile } from '../../src/donations/import.repository.ts';
import { importContext } from '../../src/donations/importer-list.ts';
import { amazonImporter } from '../../src/donations/importers/amazon.ts';
import { openExtraction, reviewSecretKey } from '../../src/donations/upload-link.ts';
import { createLogger } from '../../src/log.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { CHUNK_BYTES, openTestRequest, sealFileChunks, storeReceivedFile, type TestRequest } from '../helpers/donations.ts';
import { zipOf } from './zip-files.ts';

const FIXTURES = new URL('../fixtures/donations/', import.meta.url);
const DONATION = nacl.box.keyPair();
const CONTENT = nacl.box.keyPair();
const OTHER = nacl.box.keyPair();
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const ENV = {
  DONATION_PUBLIC_KEY: b64(DONATION.publicKey),
  DONATION_SECRET_KEY: b64(DONATION.secretKey),
  DONATION_HASH_KEY: b64(new Uint8Array(32).fill(7)),
  PDK_EXTERNAL_CONTENT_PUBLIC_KEY: b64(CONTENT.publicKey),
  TIME_ZONE: 'America/New_York',
  LOG_LEVEL: 'silent',
};

/** An Amazon report of about 2.6 MB (three chunks): the fixture's rows again and again. */
function largeAmazonReport(): Buffer {
  const [header, ...rows] = readFileSync(new URL('amazon-consumer.csv', FIXTURES), 'utf8').split('\r\n').filter(Boolean);
  const lines = [header];
  while (lines.length < 2000 * rows.length) lines.push(...rows);
  return Buffer.from(`${lines.join('\r\n')}\r\n`);
}

let db: TestDatabase;
let config: Config;
const log = createLogger('silent');
const run = (overrides: Partial<Config> = {}) => runDonations({ pool: db.pool, config: { ...config, ...overrides }, log });
let request: TestRequest;
let requests = 0;

async function fileRow(id: number) {
  const { rows } = await db.pool.query(
    `SELECT state, attempts, rows_extracted, participant_message, staff_reason, extraction,
            (SELECT count(*)::int FROM donation_file_chunks WHERE file_id = f.id) AS chunks
     FROM donation_files f WHERE id = $1`,
    [id],
  );
  return rows[0];
}

const store = (bytes: Buffer, source = 'amazon', to: TestRequest = request, name = 'Retail.OrderHistory.1.csv') => storeReceivedFile(db.pool, to.id, source, name, bytes, DONATION.publicKey);
const reviewSecret = (to: TestRequest = request) => reviewSecretKey(to.link.token, to.link.reviewSecretWrapped)!;
const age = (id: number, interval: string) => db.pool.query(`UPDATE donation_files SET state_changed_at = now() - $2::interval WHERE id = $1`, [id, interval]);

beforeAll(async () => {
  db = await createTestDatabase();
  config = loadConfig({ DATABASE_URL: db.url, ...ENV });
  request = await openTestRequest(db.pool, '40172630');
});

afterAll(async () => {
  await db.drop();
});

/** Each test starts with no files waiting (a file left behind would be imported by the next run). */
async function freshRequest(): Promise<TestRequest> {
  await db.pool.query(`UPDATE donation_files SET state = 'expired' WHERE state IN ('received', 'extracting')`);
  requests += 1;
  return openTestRequest(db.pool, `5000000${requests}`);
}

describe('donations job: imports', () => {
  it('is listed, every minute, scheduled where donations are set up', () => {
    expect(donationsJob).toMatchObject({ name: 'donations', schedule: { everyMinutes: 1 } });
    expect(donationsJob.enabled!(config)).toBe(true);
    expect(donationsJob.enabled!(loadConfig({}))).toBe(false);
  });

  it('imports an Amazon report of three chunks: the extraction sealed to the review key is the importer\'s', async () => {
    request = await freshRequest();
    const bytes = largeAmazonReport();
    expect(sealFileChunks(bytes, DONATION.publicKey)).toHaveLength(Math.ceil(bytes.length / CHUNK_BYTES));
    expect(bytes.length).toBeGreaterThan(2 * CHUNK_BYTES);
    const id = await store(bytes);

    const counts = await run();
    expect(counts).toMatchObject({ extracted: 1, refused: 0, retried: 0, waiting: 0 });
    const row = await fileRow(id);
    const expected = await amazonImporter.extract({ name: 'Retail.OrderHistory.1.csv', bytes }, importContext(config, 'amazon'));
    expect(expected.rows).toHaveLength(6000);
    expect(row).toMatchObject({ state: 'awaiting-confirmation', attempts: 1, rows_extracted: 6000, participant_message: null, staff_reason: null, chunks: 3 });
    expect(openExtraction(row.extraction, reviewSecret())).toEqual(expected);
    // sealed: neither the donation key nor another review key opens it
    expect(openExtraction(row.extraction, DONATION.secretKey)).toBeUndefined();
    expect(JSON.stringify(row.extraction)).not.toContain('Anker');
  });

  it('imports a ChatGPT export: conversations to review, message texts sealed to the study\'s content key', async () => {
    request = await freshRequest();
    const conversations = readFileSync(new URL('chatgpt-conversations.json', FIXTURES));
    const id = await store(await zipOf([{ name: 'user.json', data: '{}' }, { name: 'conversations.json', data: conversations }]), 'chatgpt', request, 'export.zip');

    expect(await run()).toMatchObject({ extracted: 1 });
    const row = await fileRow(id);
    const extraction = openExtraction(row.extraction, reviewSecret())!;
    const titles = (JSON.parse(conversations.toString()) as { title: string }[]).map((c) => c.title);
    expect(row).toMatchObject({ state: 'awaiting-confirmation', rows_extracted: extraction.rows.length });
    expect(extraction.rows.length).toBeGreaterThan(1);
    expect(titles).toEqual(expect.arrayContaining(extraction.rows.map((r) => r.cells.Conversation)));
    const message = extraction.rows[0].points.find((p) => p.generatorId === 'pdk-external-chatgpt-message')!;
    const title = openSealedBox(Buffer.from(message.properties.pdk_encrypted_conversation_title as string, 'base64'), CONTENT.secretKey)!.toString();
    expect(title).toBe(extraction.rows[0].cells.Conversation);
  });

  it('refuses a file its importer refuses, with the participant\'s message and the staff\'s reason, keeping the chunks for a re-run', async () => {
    request = await freshRequest();
    const id = await store(Buffer.from('Name,Phone\r\nAda,555-0100\r\n'));
    expect(await run()).toMatchObject({ extracted: 0, refused: 1 });
    const row = await fileRow(id);
    expect(row).toMatchObject({ state: 'refused', attempts: 1, extraction: null, rows_extracted: null, chunks: 1 });
    expect(row.participant_message).toMatch(/^This file is not an Amazon order history report\. Please download/);
    expect(row.staff_reason).toMatch(/^no Amazon report header/);
  });

  it('refuses a damaged file: a chunk sealed to another key, altered, missing, or bytes that are not the upload\'s', async () => {
    request = await freshRequest();
    const report = readFileSync(new URL('amazon-consumer.csv', FIXTURES));
    const otherKey = await store(report);
    await db.pool.query(`UPDATE donation_file_chunks SET sealed = $2 WHERE file_id = $1`, [otherKey, sealFileChunks(report, OTHER.publicKey)[0]]);
    const altered = await store(report);
    await db.pool.query(`UPDATE donation_file_chunks SET sealed = set_byte(sealed, 59, get_byte(sealed, 59) # 1) WHERE file_id = $1`, [altered]);
    const notTheUpload = await store(report);
    await db.pool.query(`UPDATE donation_files SET sha256 = sha256('something else'::bytea) WHERE id = $1`, [notTheUpload]);
    const large = largeAmazonReport();
    const missing = await store(large);
    await db.pool.query(`DELETE FROM donation_file_chunks WHERE file_id = $1 AND n = 1`, [missing]);
    const short = await store(report);
    await db.pool.query(`UPDATE donation_files SET size = size + 1 WHERE id = $1`, [short]);

    expect(await run()).toMatchObject({ extracted: 0, refused: 5, retried: 0 });
    const reasons = [];
    for (const id of [otherKey, altered, notTheUpload, missing, short]) {
      const row = await fileRow(id);
      expect(row).toMatchObject({ state: 'refused', attempts: 1, participant_message: DAMAGED_MESSAGE, extraction: null });
      reasons.push(row.staff_reason);
    }
    expect(reasons).toEqual([
      'chunk 0 does not open with DONATION_SECRET_KEY (sealed to another key, or altered)',
      'chunk 0 does not open with DONATION_SECRET_KEY (sealed to another key, or altered)',
      'the sha256 of the opened bytes differs from the one the upload recorded',
      'chunk 1 is missing (the next stored is 2)',
      `the chunks hold ${report.length} bytes, the upload recorded ${report.length + 1}`,
    ]);
  });

  it('puts a file that fails for another reason back, tries it again on later runs, and refuses it at the third attempt', async () => {
    request = await freshRequest();
    // a request without a review key cannot have an extraction stored: not the file's fault
    await db.pool.query(`UPDATE donation_requests SET review_public_key = NULL WHERE id = $1`, [request.id]);
    const id = await store(readFileSync(new URL('amazon-consumer.csv', FIXTURES)));

    expect(await run()).toMatchObject({ extracted: 0, retried: 1, refused: 0 });
    expect(await fileRow(id)).toMatchObject({ state: 'received', attempts: 1, staff_reason: `import failed (attempt 1 of 3): request ${request.id} has no review key`, participant_message: null });
    expect(await run()).toMatchObject({ retried: 1 });
    expect(await run()).toMatchObject({ retried: 0, refused: 1 });
    expect(await fileRow(id)).toMatchObject({
      state: 'refused', attempts: 3, participant_message: FAILED_MESSAGE, staff_reason: `import failed (attempt 3 of 3): request ${request.id} has no review key`, chunks: 1,
    });
  });

  it('leaves files waiting, and says so, while a key the import needs is missing or wrong', async () => {
    request = await freshRequest();
    const id = await store(readFileSync(new URL('amazon-consumer.csv', FIXTURES)));
    expect(await run({ donationSecretKey: undefined })).toMatchObject({ extracted: 0, waiting: 1 });
    expect(await run({ donationSecretKey: OTHER.secretKey })).toMatchObject({ extracted: 0, waiting: 1 });
    expect(await run({ donationHashKey: undefined })).toMatchObject({ extracted: 0, waiting: 1 });
    expect(await fileRow(id)).toMatchObject({ state: 'received', attempts: 0 });
    expect(await run()).toMatchObject({ extracted: 1, waiting: 0 });
  });

  it('never lets two runs at once claim the same file', async () => {
    request = await freshRequest();
    const report = readFileSync(new URL('amazon-consumer.csv', FIXTURES));
    const ids = [];
    for (let i = 0; i < 8; i++) ids.push(await store(report));
    const [a, b] = await Promise.all([run(), run()]);
    expect(a.extracted + b.extracted).toBe(8);
    const { rows } = await db.pool.query(`SELECT state, attempts FROM donation_files WHERE id = ANY($1)`, [ids]);
    expect(rows).toEqual(ids.map(() => ({ state: 'awaiting-confirmation', attempts: 1 })));
  });

  it('drops the outcome of a claim it no longer holds (reset as stale and claimed again meanwhile)', async () => {
    request = await freshRequest();
    const id = await store(readFileSync(new URL('amazon-consumer.csv', FIXTURES)));
    const claimed = (await claimReceivedFile(db.pool, ['amazon'], []))!;
    expect(claimed).toMatchObject({ id, attempts: 1, source: 'amazon' });
    // another worker's claim after a reset
    await db.pool.query(`UPDATE donation_files SET attempts = 2, state_changed_at = now() WHERE id = $1`, [id]);
    expect(await importClaimedFile(db.pool, config, claimed, importContext(config, 'amazon'), log)).toBe('lost');
    expect(await fileRow(id)).toMatchObject({ state: 'extracting', attempts: 2, extraction: null, rows_extracted: null });
  });
});

describe('donations job: time-outs and retention', () => {
  it('sends a file stuck in extracting for 15 minutes back, and refuses one whose worker stopped three times', async () => {
    request = await freshRequest();
    const report = readFileSync(new URL('amazon-consumer.csv', FIXTURES));
    const [stuck, recent, third] = [await store(report), await store(report), await store(report)];
    await db.pool.query(`UPDATE donation_files SET state = 'extracting', attempts = 1 WHERE id = ANY($1)`, [[stuck, recent]]);
    await db.pool.query(`UPDATE donation_files SET state = 'extracting', attempts = 3 WHERE id = $1`, [third]);
    await age(stuck, '16 minutes');
    await age(recent, '14 minutes');
    await age(third, '16 minutes');

    expect(await run()).toMatchObject({ stale_reset: 1, refused: 1, extracted: 1 });
    expect(await fileRow(stuck)).toMatchObject({ state: 'awaiting-confirmation', attempts: 2 });
    expect(await fileRow(recent)).toMatchObject({ state: 'extracting', attempts: 1 });
    const refused = await fileRow(third);
    expect(refused).toMatchObject({ state: 'refused', attempts: 3, participant_message: FAILED_MESSAGE, chunks: 1 });
    expect(refused.staff_reason).toMatch(/^the worker importing it stopped \(3 times, each over 15 minutes\)/);
  });

  it('expires a review not confirmed within DONATION_REVIEW_HOURS: extraction and chunks deleted, the row kept', async () => {
    request = await freshRequest();
    const report = readFileSync(new URL('amazon-consumer.csv', FIXTURES));
    const [old, young] = [await store(report), await store(report)];
    await run();
    await age(old, '73 hours');
    await age(young, '71 hours');
    expect(await run()).toMatchObject({ expired: 1 });
    const expired = await fileRow(old);
    expect(expired).toMatchObject({ state: 'expired', extraction: null, rows_extracted: 3, chunks: 1 });
    expect(expired.participant_message).toMatch(/did not confirm this file in time/);
    expect(expired.staff_reason).toBe('not confirmed by the participant within 72 hours (DONATION_REVIEW_HOURS)');
    expect(await fileRow(young)).toMatchObject({ state: 'awaiting-confirmation', chunks: 1 });
    // the expired file's chunks go DONATION_REVIEW_HOURS later, as a refused file's
    await age(old, '73 hours');
    expect(await run()).toMatchObject({ files_cleaned: 1, chunks_deleted: 1 });
    expect(await fileRow(old)).toMatchObject({ state: 'expired', chunks: 0 });
  });

  it('deletes the chunks of imported files, and of refused ones after DONATION_REVIEW_HOURS, unless DONATION_KEEP_FILES', async () => {
    request = await freshRequest();
    const report = readFileSync(new URL('amazon-consumer.csv', FIXTURES));
    const [imported, oldRefused, newRefused] = [await store(report), await store(report), await store(report)];
    await db.pool.query(`UPDATE donation_files SET state = 'imported', extraction = NULL WHERE id = $1`, [imported]);
    await db.pool.query(`UPDATE donation_files SET state = 'refused', staff_reason = 'x', participant_message = 'y' WHERE id = ANY($1)`, [[oldRefused, newRefused]]);
    await age(oldRefused, '73 hours');
    const abandoned = (await db.pool.query(`INSERT INTO donation_files (request_id, source, state, state_changed_at) VALUES ($1, 'amazon', 'receiving', now() - interval '73 hours') RETURNING id::int`, [request.id])).rows[0].id;

    expect(await run({ donationKeepFiles: true })).toMatchObject({ files_cleaned: 0, chunks_deleted: 0, abandoned_uploads: 1 });
    expect((await fileRow(imported)).chunks).toBe(1);
    expect(await fileRow(abandoned)).toBeUndefined();

    expect(await run()).toMatchObject({ files_cleaned: 2, chunks_deleted: 2 });
    expect(await fileRow(imported)).toMatchObject({ state: 'imported', chunks: 0 });
    expect(await fileRow(oldRefused)).toMatchObject({ state: 'refused', staff_reason: 'x', participant_message: 'y', chunks: 0 });
    expect(await fileRow(newRefused)).toMatchObject({ state: 'refused', chunks: 1 });
  });
});
