/**
 * The ChatGPT importer on a real-format export (test/fixtures/donations/chatgpt-conversations.json
 * in a ZIP beside the files OpenAI puts there): every point field by field, the sealed texts opened
 * with the study's secret key, the review rows; then hostile and broken files, each refused with a
 * message for the participant and a reason for the staff, never imported in part.
 */
import { readFileSync } from 'node:fs';
import nacl from 'tweetnacl';
import { beforeAll, describe, expect, it } from 'vitest';
import { openSealedBox } from '../../src/crypto/sealed-box.ts';
import { DonationFileError, type DonationPoint, type Extraction, type ImportContext } from '../../src/donations/importer-contract.ts';
import { chatgptImporter } from '../../src/donations/importers/chatgpt.ts';
import { centralHeaderOf, localHeaderOf, zipOf, type FileInZip } from './zip-files.ts';

const CONVERSATIONS_TEXT = readFileSync(new URL('../fixtures/donations/chatgpt-conversations.json', import.meta.url), 'utf8');
const CONVERSATIONS = JSON.parse(CONVERSATIONS_TEXT) as Record<string, unknown>[];
const KEYS = nacl.box.keyPair();
const CONTEXT: ImportContext = { timeZone: 'America/New_York', hashKey: new Uint8Array(32).fill(1), contentPublicKey: KEYS.publicKey, maxExpandedBytes: 1024 * 1024 };

/** What else an OpenAI export holds (read by nobody). */
const OTHER_FILES: FileInZip[] = [
  { name: 'chat.html', data: '<!DOCTYPE html><html><body><script>var jsonData = [];</script></body></html>' },
  { name: 'user.json', data: '{"id": "user-abc", "email": "someone@example.org", "chatgpt_plus_user": false}' },
  { name: 'message_feedback.json', data: '[]' },
  { name: 'file-7Hq2Lr9XcVb-tram.jpg', data: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1]) },
];

const exportZip = (conversations: string | Buffer = CONVERSATIONS_TEXT, name = 'conversations.json') => zipOf([...OTHER_FILES.slice(0, 2), { name, data: conversations }, ...OTHER_FILES.slice(2)]);
const extract = (bytes: Buffer, context: Partial<ImportContext> = {}) => chatgptImporter.extract({ name: 'chatgpt-export.zip', bytes }, { ...CONTEXT, ...context });
const open = (sealed: unknown) => openSealedBox(Buffer.from(sealed as string, 'base64'), KEYS.secretKey)?.toString('utf8');

/** The refusal `promise` ends in, checked to be a DonationFileError with both texts. */
async function refusal(promise: Promise<unknown>): Promise<DonationFileError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error, 'the file is refused').toBeInstanceOf(DonationFileError);
  const refused = error as DonationFileError;
  expect(refused.participantMessage.length).toBeGreaterThan(20);
  expect(refused.staffReason.length).toBeGreaterThan(5);
  return refused;
}

/** A message point as the original made it, its sealed fields opened. */
function opened(point: DonationPoint) {
  const { pdk_encrypted_conversation_title: title, pdk_encrypted_content: content, ...clear } = point.properties;
  return { created: point.created.getTime(), title: open(title), content: open(content), ...clear };
}

const metadataOf = (conversation: Record<string, unknown>) => {
  const { mapping: _mapping, title: _title, ...rest } = conversation;
  return rest;
};

describe('ChatGPT importer: a real-format export', () => {
  let extraction: Extraction;
  beforeAll(async () => {
    extraction = await extract(await exportZip());
  });

  it('declares itself as the source `chatgpt`, a ZIP, reviewed by date, title and message count', () => {
    expect(chatgptImporter).toMatchObject({ source: 'chatgpt', fileKind: 'zip', reviewColumns: ['Date', 'Conversation', 'Messages'] });
  });

  it('makes one review row per conversation with a text message: its day in TIME_ZONE, title and count', () => {
    expect(extraction.rows.map((row) => ({ key: row.key, cells: row.cells }))).toEqual([
      { key: '1', cells: { Date: '2024-05-01', Conversation: 'Trip to Lisbon ✈️', Messages: '7' } },
      // 2025-01-01T00:00Z is still 2024 in New York
      { key: '2', cells: { Date: '2024-12-31', Conversation: '数学の宿題', Messages: '2' } },
    ]);
    expect(extraction.notes).toEqual([
      '3 messages without text (pictures alone, code, tool results) left out.',
      '1 message without a time left out.',
      '1 conversation without a text message left out.',
    ]);
  });

  it('makes a message point per text message, every branch of the mapping, its texts sealed and measured', () => {
    const lisbon = metadataOf(CONVERSATIONS[0]);
    const messages = extraction.rows[0].points.filter((p) => p.generatorId === 'pdk-external-chatgpt-message');
    const point = (id: string, author: string, created: number, content: string, length: number, words: number) => ({
      created, title: 'Trip to Lisbon ✈️', content, message_id: id, author, conversation_metadata: lisbon, pdk_length_content: length, pdk_word_count_content: words,
    });
    expect(messages.map(opened)).toEqual([
      point('7a2b3c4d-sys1', 'system', 1714560000000, 'The user prefers short answers.', 31, 5),
      point('b41f9e20-user1', 'user', 1714560005123, 'Plan 3 days in Lisbon — cheap eats, please! 🇵🇹', 46, 10),
      point('c5d6e7f8-asst1', 'assistant', 1714560012500, 'Day 1: Alfama and a bifana.\nDay 2: Belém, pastéis de nata.\nDay 3: LX Factory.', 77, 16),
      // the answer "regenerate" made, on another branch
      point('d9e0f1a2-asst1b', 'assistant', 1714560030750, 'Regenerated: start in Baixa, then Sintra.', 41, 6),
      // the text typed beside a picture; the picture left out
      point('e3f4a5b6-user2', 'user', 1714560100000, 'Is this tram the 28?', 20, 5),
      point('1b2c3d4e-toolt', 'tool', 1714560115000, 'Searched 3 sites', 16, 3),
      // two parts, joined by a line break
      point('2c3d4e5f-asst2', 'assistant', 1714560120000, "Yes — it's the 28.\nIt runs every 10 minutes.", 44, 10),
    ]);
    // the original's keys, in its order; the title nowhere in clear
    expect(Object.keys(messages[0].properties)).toEqual(['message_id', 'author', 'pdk_encrypted_conversation_title', 'conversation_metadata', 'pdk_encrypted_content', 'pdk_length_content', 'pdk_word_count_content']);
    expect(JSON.stringify(extraction.rows.map((row) => row.points))).not.toMatch(/Lisbon|数学|Alfama|tram/);
    expect(lisbon).toMatchObject({ conversation_id: '6630a1b2-0c4d-8e9f-a0b1-c2d3e4f5a6b7', create_time: 1714559990.5, safe_urls: ['https://www.carris.pt/en/'] });
    expect(lisbon).not.toHaveProperty('title');
    expect(lisbon).not.toHaveProperty('mapping');
  });

  it('makes engagement points for the user (outgoing) and system (incoming) messages, never for replies, each with its message id', () => {
    const engagement = extraction.rows.flatMap((row) => row.points).filter((p) => p.generatorId === 'pdk-external-engagement-chatgpt');
    expect(engagement.map((p) => ({ created: p.created.getTime(), ...p.properties }))).toEqual([
      { created: 1714560000000, type: 'message', duration: 0, incoming_engagement: 1, message_id: '7a2b3c4d-sys1' },
      { created: 1714560005123, type: 'message', duration: 0, outgoing_engagement: 1, message_id: 'b41f9e20-user1' },
      { created: 1714560100000, type: 'message', duration: 0, outgoing_engagement: 1, message_id: 'e3f4a5b6-user2' },
      { created: 1735689610000, type: 'message', duration: 0, outgoing_engagement: 1, message_id: '3d4e5f60-u' },
    ]);
  });

  it('reads the second conversation in Japanese with its own metadata', () => {
    const messages = extraction.rows[1].points.filter((p) => p.generatorId === 'pdk-external-chatgpt-message').map(opened);
    const homework = metadataOf(CONVERSATIONS[1]);
    expect(messages).toEqual([
      { created: 1735689610000, title: '数学の宿題', content: '二次方程式 x² − 5x + 6 = 0 を解いて', message_id: '3d4e5f60-u', author: 'user', conversation_metadata: homework, pdk_length_content: 26, pdk_word_count_content: 7 },
      { created: 1735689620000, title: '数学の宿題', content: 'x = 2, x = 3 です。 - 以上', message_id: '4e5f6071-a', author: 'assistant', conversation_metadata: homework, pdk_length_content: 21, pdk_word_count_content: 6 },
    ]);
  });

  it('finds conversations.json in the one folder of an export zipped again, and ignores macOS copies', async () => {
    const again = await zipOf([
      { name: '__MACOSX/export/._conversations.json', data: 'not json' },
      { name: '__MACOSX/conversations.json', data: 'not json' },
      { name: 'export/conversations.json', data: CONVERSATIONS_TEXT },
    ]);
    expect((await extract(again)).rows.map((row) => row.cells.Messages)).toEqual(['7', '2']);
  });

  it('reads a stored (uncompressed) entry and a byte-order mark', async () => {
    const zip = await exportZip(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(CONVERSATIONS_TEXT)]));
    expect((await extract(zip)).rows).toHaveLength(2);
  });
});

describe('ChatGPT importer: many messages within the limit', () => {
  it('reads 200 conversations of 60 messages each, one conversation at a time', async () => {
    const conversations = Array.from({ length: 200 }, (_, c) => ({
      title: `Conversation ${c}`,
      create_time: 1700000000 + c * 86400,
      mapping: Object.fromEntries(Array.from({ length: 60 }, (_, m) => [`m-${c}-${m}`, {
        message: { author: { role: m % 2 ? 'assistant' : 'user' }, create_time: 1700000000 + c * 86400 + m, content: { content_type: 'text', parts: [`message ${m} of conversation ${c}`] } },
      }])),
      id: `c-${c}`,
    }));
    const extraction = await extract(await exportZip(JSON.stringify(conversations)), { maxExpandedBytes: 8 * 1024 * 1024 });
    expect(extraction.rows).toHaveLength(200);
    expect(extraction.rows.every((row, c) => row.cells.Messages === '60' && row.cells.Conversation === `Conversation ${c}`)).toBe(true);
    const points = extraction.rows.flatMap((row) => row.points);
    expect(points.filter((p) => p.generatorId === 'pdk-external-chatgpt-message')).toHaveLength(12_000);
    expect(points.filter((p) => p.generatorId === 'pdk-external-engagement-chatgpt')).toHaveLength(6_000);
    expect(open(points.find((p) => p.properties.message_id === 'm-199-59')!.properties.pdk_encrypted_content)).toBe('message 59 of conversation 199');
  });
});

describe('ChatGPT importer: hostile and broken files', () => {
  it('refuses a zip bomb: a small ZIP whose conversations.json inflates past the limit', async () => {
    // 64 MB of spaces in 300 KB
    const bomb = await exportZip(`[${' '.repeat(64 * 1024 * 1024)}]`);
    expect(bomb.length).toBeLessThan(512 * 1024);
    const error = await refusal(extract(bomb));
    expect(error.participantMessage).toMatch(/larger than this study accepts/);
    expect(error.staffReason).toMatch(/over the limit of 1048576/);
  });

  it('refuses a bomb whose ZIP declares a small size: counted while inflating', async () => {
    const bomb = await exportZip(`[${' '.repeat(8 * 1024 * 1024)}]`);
    const central = centralHeaderOf(bomb, 'conversations.json');
    bomb.writeUInt32LE(1000, central + 24);
    const error = await refusal(extract(bomb));
    expect(error.staffReason).toMatch(/conversations\.json/);
  });

  it('ignores entries named ../../x, /etc/passwd or C:\\ paths, and never takes them for conversations.json', async () => {
    const zip = await zipOf([
      { name: '../../x', data: 'pwned' },
      { name: '/etc/passwd', data: 'root:x:0:0' },
      { name: 'C:\\Windows\\conversations.json', data: '[]' },
      { name: '../conversations.json', data: '[]' },
      { name: 'conversations.json', data: CONVERSATIONS_TEXT },
    ]);
    expect((await extract(zip)).rows).toHaveLength(2);
    const onlyHostile = await zipOf([{ name: '../conversations.json', data: CONVERSATIONS_TEXT }, { name: '/conversations.json', data: CONVERSATIONS_TEXT }]);
    expect((await refusal(extract(onlyHostile))).staffReason).toBe('no conversations.json in the ZIP');
  });

  it('refuses a ZIP without conversations.json, and one with two', async () => {
    expect((await refusal(extract(await zipOf(OTHER_FILES)))).participantMessage).toMatch(/no conversations\.json/);
    const two = await zipOf([{ name: 'conversations.json', data: CONVERSATIONS_TEXT }, { name: 'copy/conversations.json', data: '[]' }]);
    expect((await refusal(extract(two))).staffReason).toBe('2 entries named conversations.json');
  });

  it('refuses a truncated ZIP', async () => {
    const zip = await exportZip();
    for (const length of [zip.length - 10, Math.floor(zip.length / 2), 100, 0]) {
      expect((await refusal(extract(zip.subarray(0, length)))).staffReason).toMatch(/^not a readable ZIP/);
    }
  });

  it('refuses a CSV renamed .zip', async () => {
    const csv = Buffer.from('Order Date,Order ID,Title\n2024-05-01,111-2222222-3333333,USB-C cable\n');
    expect((await refusal(extract(csv))).participantMessage).toMatch(/not a ZIP archive/);
  });

  it('refuses damaged data (a flipped byte) and a wrong CRC-32', async () => {
    const zip = await exportZip();
    const local = localHeaderOf(zip, 'conversations.json');
    const damaged = Buffer.from(zip);
    damaged[local + 30 + 'conversations.json'.length + 200] ^= 0xff;
    await refusal(extract(damaged));
    const badCrc = Buffer.from(zip);
    const central = centralHeaderOf(badCrc, 'conversations.json');
    badCrc.writeUInt32LE((badCrc.readUInt32LE(central + 16) ^ 1) >>> 0, central + 16);
    expect((await refusal(extract(badCrc))).staffReason).toMatch(/CRC-32/);
  });

  it('refuses a password-protected entry and an unsupported compression method', async () => {
    const encrypted = await exportZip();
    encrypted[centralHeaderOf(encrypted, 'conversations.json') + 8] |= 1;
    encrypted[localHeaderOf(encrypted, 'conversations.json') + 6] |= 1;
    expect((await refusal(extract(encrypted))).participantMessage).toMatch(/password-protected/);
    const bzip2 = await exportZip();
    bzip2.writeUInt16LE(12, centralHeaderOf(bzip2, 'conversations.json') + 10);
    expect((await refusal(extract(bzip2))).staffReason).toMatch(/compression method 12/);
  });

  it('refuses conversations.json that is not JSON, not a list, or a list of no conversations', async () => {
    for (const text of ['hello', '', '{"conversations": []}', '42', '[1, "two", null]', '[]', '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]']) {
      const error = await refusal(extract(await exportZip(text)));
      expect(error.participantMessage).toMatch(/not a ChatGPT conversation list|no conversation with a text message/);
    }
  });

  it('refuses a list cut short after whole conversations: nothing is imported in part', async () => {
    const cut = CONVERSATIONS_TEXT.slice(0, CONVERSATIONS_TEXT.indexOf('"数学の宿題"') + 20);
    expect((await refusal(extract(await exportZip(cut)))).staffReason).toMatch(/unexpected end/);
  });

  it('refuses text that is not valid JSON inside a conversation (a raw control character)', async () => {
    const broken = CONVERSATIONS_TEXT.replace('Searched 3 sites', 'Searched\u0001 3 sites');
    await refusal(extract(await exportZip(broken)));
  });
});
