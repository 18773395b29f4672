/**
 * The pdk-external-chatgpt-message exporter, cell by cell, from points stored by real processing:
 * the importer extracts the fixture export, the points get passive-data-metadata as the donation
 * flow adds it (source, generator "<id>: Passive Data Kit External Importer", timestamp), go up
 * over HTTP as a bundle, are processed, exported and read back.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { openSealedBox } from '../../src/crypto/sealed-box.ts';
import { chatgptImporter } from '../../src/donations/importers/chatgpt.ts';
import { zipOf } from '../donations/zip-files.ts';
import { useTestServer } from '../helpers/server.ts';
import { exportArchive, uploadPoints } from './support.ts';

const LISBON = 'Europe/Lisbon';
const KEYS = nacl.box.keyPair();
const SOURCE = '31415926';
const HEADER = ['Source', 'Date Created', 'Date Created UTC', 'Date Recorded', 'Date Recorded UTC', 'Time Zone', 'Message ID', 'Message Author', 'Conversation ID',
  'Conversation Creation Timestamp', 'Conversation Update Timestamp', 'URLs Consulted', 'Content Length', 'Content Word Count', 'Conversation Title (Encrypted)', 'Message Content (Encrypted)'];

/** The confirmed rows' points as the donation flow stores them. */
async function donatedPoints(): Promise<Record<string, unknown>[]> {
  const conversations = readFileSync(new URL('../fixtures/donations/chatgpt-conversations.json', import.meta.url), 'utf8');
  const bytes = await zipOf([{ name: 'conversations.json', data: conversations }]);
  const extraction = await chatgptImporter.extract({ name: 'export.zip', bytes }, { timeZone: LISBON, hashKey: new Uint8Array(32), contentPublicKey: KEYS.publicKey, maxExpandedBytes: 1e6 });
  return extraction.rows.flatMap((row) => row.points).map((point) => ({
    ...point.properties,
    'passive-data-metadata': {
      source: SOURCE,
      'generator-id': point.generatorId,
      generator: `${point.generatorId}: Passive Data Kit External Importer`,
      timestamp: Math.floor(point.created.getTime() / 1000),
    },
  }));
}

describe('pdk-external-chatgpt-message export (server TIME_ZONE Europe/Lisbon)', () => {
  const server = useTestServer({ TIME_ZONE: LISBON });

  it('writes one row per message, newest first: ids, authors, conversation, measures, the sealed boxes as stored', async () => {
    const points = await donatedPoints();
    await uploadPoints(server, points);
    const archive = await exportArchive(server, { types: ['pdk-external-chatgpt-message'], sources: [SOURCE] });
    expect([...archive.keys()].sort()).toEqual(['README.txt', 'pdk-external-chatgpt-message.txt']);
    const { rows: recordedRows } = await server.db.pool.query<{ iso: string }>(
      `SELECT DISTINCT to_char(recorded AT TIME ZONE 'Europe/Lisbon', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS iso FROM data_points WHERE source = $1`, [SOURCE]);
    expect(recordedRows).toHaveLength(1);
    const text = archive.get('pdk-external-chatgpt-message.txt')!.data.toString('utf8');
    const rows: string[][] = parse(text, { delimiter: '\t', quote: '"', record_delimiter: '\r\n' });
    expect(rows[0]).toEqual(HEADER);

    // messages only: engagement points carry their message's id too
    const sealed = new Map(points.filter((p) => p.pdk_encrypted_content).map((p) => [p.message_id as string, [p.pdk_encrypted_conversation_title, p.pdk_encrypted_content]]));
    const lisbon = ['6630a1b2-0c4d-8e9f-a0b1-c2d3e4f5a6b7', '1714559990.5', '1714561200.25', '["https://www.carris.pt/en/"]'];
    // the export's 1735689600.0 went through JSON.parse: an integral number, written as an int
    const homework = ['677481a0-1111-8000-9000-aaaaaaaaaaaa', '1735689600', '1735689700', '[]'];
    const row = (id: string, author: string, created: string, createdUtc: string, conversation: string[], length: string, words: string) =>
      [SOURCE, created, createdUtc, LISBON, id, author, ...conversation, length, words, ...(sealed.get(id) as string[])];
    const withoutRecorded = rows.slice(1).map((cells) => [...cells.slice(0, 3), ...cells.slice(5)]);
    expect(withoutRecorded).toEqual([
      row('4e5f6071-a', 'assistant', '2025-01-01T00:00:20+00:00', '2025-01-01T00:00:20+00:00', homework, '21', '6'),
      row('3d4e5f60-u', 'user', '2025-01-01T00:00:10+00:00', '2025-01-01T00:00:10+00:00', homework, '26', '7'),
      row('2c3d4e5f-asst2', 'assistant', '2024-05-01T11:42:00+01:00', '2024-05-01T10:42:00+00:00', lisbon, '44', '10'),
      row('1b2c3d4e-toolt', 'tool', '2024-05-01T11:41:55+01:00', '2024-05-01T10:41:55+00:00', lisbon, '16', '3'),
      row('e3f4a5b6-user2', 'user', '2024-05-01T11:41:40+01:00', '2024-05-01T10:41:40+00:00', lisbon, '20', '5'),
      row('d9e0f1a2-asst1b', 'assistant', '2024-05-01T11:40:30+01:00', '2024-05-01T10:40:30+00:00', lisbon, '41', '6'),
      row('c5d6e7f8-asst1', 'assistant', '2024-05-01T11:40:12+01:00', '2024-05-01T10:40:12+00:00', lisbon, '77', '16'),
      row('b41f9e20-user1', 'user', '2024-05-01T11:40:05+01:00', '2024-05-01T10:40:05+00:00', lisbon, '46', '10'),
      row('7a2b3c4d-sys1', 'system', '2024-05-01T11:40:00+01:00', '2024-05-01T10:40:00+00:00', lisbon, '31', '5'),
    ]);
    // Date Recorded: the upload's time, in the zone and in UTC
    for (const cells of rows.slice(1)) {
      expect(cells[3].startsWith(recordedRows[0].iso.replace(/\.?0+$/, ''))).toBe(true);
      expect(Date.parse(cells[4])).toBe(Date.parse(cells[3]));
    }
    // the exported boxes open with the study's secret key to the message and its title
    const asst2 = rows.find((cells) => cells[6] === '2c3d4e5f-asst2')!;
    expect(openSealedBox(Buffer.from(asst2[15], 'base64'), KEYS.secretKey)?.toString('utf8')).toBe("Yes — it's the 28.\nIt runs every 10 minutes.");
    expect(openSealedBox(Buffer.from(asst2[14], 'base64'), KEYS.secretKey)?.toString('utf8')).toBe('Trip to Lisbon ✈️');
  });
});
