/**
 * Donations in tests (issue 20): points as the donation flow stores them (the importer's
 * properties with the passive-data-metadata the original's create_data_point wrote,
 * ecosystem-api.md §3, to be uploaded as a bundle for the participant's source); requests with an
 * upload link; files sealed in chunks as the upload handler stores them.
 */
import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import { sealedBoxTo } from '../../src/crypto/sealed-box.ts';
import { storedPoint } from '../../src/donations/donation-bundle.ts';
import type { DonationPoint } from '../../src/donations/importer-contract.ts';
import { newUploadLink, type UploadLink } from '../../src/donations/upload-link.ts';
import type { Point } from './samples.ts';

/** A donated point as the flow stores it (donation-bundle.ts), as a sample point. */
export function storedLikeTheFlow(point: DonationPoint, source: string): Point {
  return storedPoint(point, source) as Point;
}

/** An item of a donated Amazon order history with every property the importer writes (for tests that need one of each type). */
export const DONATED_AMAZON_ITEM: Point = storedLikeTheFlow({
  generatorId: 'pdk-external-amazon-item',
  created: new Date('2023-01-15T17:00:00Z'),
  properties: {
    item: 'USB-C Cable, 6 ft "braided"', category: 'ELECTRONICS', asin: 'B07THHQMHM', unspc_code: '43202222', website: 'Amazon.com',
    condition: 'new', seller: 'Anker Direct', seller_credentials: 'Small Business', list_price: '$15.99', purchase_price: '$12.99',
    purchase_subtotal: '$25.98', purchase_tax: '$2.08', purchase_total: '$28.06', tax_exemption_applied: 'No', tax_exemption_type: 'None',
    exemption_opt_out: 'No', currency: 'USD', quantity: 2, zipcode: '45402', carrier_name: 'UPS', status: 'Shipped', ordered: '2023-01-15',
    pdk_hashed_order_id: '0f3c2b1a9e8d7c6b5a49382716055f4e3d2c1b0a99887766554433221100ffee', shipped: '2023-01-16', released: '2019-09-13',
  },
}, '40172630');

/** What the upload handler seals at a time: 1 MiB of the file's plaintext per chunk. */
export const CHUNK_BYTES = 1024 * 1024;

/**
 * A donated file's bytes as the upload handler stores them in `donation_file_chunks`: each
 * `chunkBytes` of plaintext (1 MiB) a sealed box to DONATION_PUBLIC_KEY, in order (n = 0, 1, 2…).
 */
export function sealFileChunks(bytes: Uint8Array, publicKey: Uint8Array, chunkBytes = CHUNK_BYTES): Buffer[] {
  const seal = sealedBoxTo(publicKey);
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += chunkBytes) chunks.push(Buffer.from(seal(bytes.subarray(at, at + chunkBytes))));
  return chunks;
}

export interface TestRequest {
  id: number;
  link: UploadLink;
}

/** A donation request with a current upload link (its review key pair), as the start page leaves it. */
export async function openTestRequest(pool: Pool, identifier: string, sources = ['amazon', 'chatgpt']): Promise<TestRequest> {
  const link = newUploadLink();
  const { rows } = await pool.query(
    `INSERT INTO donation_requests (identifier, upload_token_sha256, token_issued_at, review_public_key, review_secret_wrapped)
     VALUES ($1, $2, now(), $3, $4) RETURNING id::int`,
    [identifier, link.tokenSha256, link.reviewPublicKey, link.reviewSecretWrapped],
  );
  await pool.query(`INSERT INTO donation_request_sources (request_id, source) SELECT $1, unnest($2::text[])`, [rows[0].id, sources]);
  return { id: rows[0].id, link };
}

/** A file the upload handler finished receiving: `received`, its size and sha256, its chunks sealed to `publicKey`. */
export async function storeReceivedFile(pool: Pool, requestId: number, source: string, name: string, bytes: Buffer, publicKey: Uint8Array): Promise<number> {
  const { rows } = await pool.query(
    `INSERT INTO donation_files (request_id, source, name, size, sha256, state) VALUES ($1, $2, $3, $4, $5, 'received') RETURNING id::int`,
    [requestId, source, name, bytes.length, createHash('sha256').update(bytes).digest()],
  );
  const chunks = sealFileChunks(bytes, publicKey);
  await pool.query(
    `INSERT INTO donation_file_chunks (file_id, n, sealed) SELECT $1, n - 1, sealed FROM unnest($2::bytea[]) WITH ORDINALITY AS c (sealed, n)`,
    [rows[0].id, chunks],
  );
  return rows[0].id;
}
