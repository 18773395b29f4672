/**
 * One claimed donated file through its import (donations.job.ts): its sealed chunks opened with
 * DONATION_SECRET_KEY in order and checked against the size and sha256 the upload recorded, the
 * source's importer run on the bytes, and the outcome written back in one transaction: the
 * extraction sealed to the request's review key (`awaiting-confirmation`), or a refusal with a
 * message for the participant and a reason for the staff. Anything else that goes wrong sends the
 * file back to `received` for a later run, until its third attempt refuses it.
 */
import crypto from 'node:crypto';
import { constants as bufferLimits } from 'node:buffer';
import type { Config } from '../config.ts';
import { openSealedBox } from '../crypto/sealed-box.ts';
import type { Pool } from '../db/database.ts';
import { withTransaction } from '../db/transaction.ts';
import type { Logger } from '../log.ts';
import { DonationFileError, type ImportContext } from './importer-contract.ts';
import { importerFor } from './importer-list.ts';
import { MAX_ATTEMPTS, lockReviewKey, readChunks, refuseFile, releaseFile, storeExtraction, type ClaimedFile } from './import.repository.ts';
import { sealExtraction } from './upload-link.ts';

/** Chunks read per query: 8 MiB of plaintext, 16 MiB of bytea text on the wire at most. */
const CHUNKS_PER_READ = 8;

const UPLOAD_AGAIN = 'Please upload the file again.';
/** For a file whose stored bytes do not check out: nothing the participant did. */
export const DAMAGED_MESSAGE = `Your file was damaged while we stored it. ${UPLOAD_AGAIN}`;
/** For a file that failed on our side, MAX_ATTEMPTS times. */
export const FAILED_MESSAGE = 'We could not import this file because of a problem on our side, not in your file. '
  + `The study team can see what went wrong and import it again; you may also upload it again later.`;

export type ImportOutcome = 'extracted' | 'refused' | 'retried' | 'lost';

/**
 * The file's plaintext from its chunks; throws DonationFileError when a chunk is missing, does not
 * open with the secret key (sealed to another key, or altered) or the bytes differ from the upload's.
 */
export async function openDonatedFile(db: Pool, file: ClaimedFile, secretKey: Uint8Array): Promise<Buffer> {
  const damaged = (reason: string) => new DonationFileError(DAMAGED_MESSAGE, reason);
  if (file.size > bufferLimits.MAX_LENGTH) throw damaged(`recorded size ${file.size} bytes is more than a Buffer holds`);
  const bytes = Buffer.allocUnsafe(file.size);
  let offset = 0;
  let next = 0;
  for (;;) {
    const chunks = await readChunks(db, file.id, next, CHUNKS_PER_READ);
    for (const chunk of chunks) {
      if (chunk.n !== next) throw damaged(`chunk ${next} is missing (the next stored is ${chunk.n})`);
      const plain = openSealedBox(chunk.sealed, secretKey);
      if (!plain) throw damaged(`chunk ${chunk.n} does not open with DONATION_SECRET_KEY (sealed to another key, or altered)`);
      if (offset + plain.length > file.size) throw damaged(`the chunks hold more than the recorded ${file.size} bytes`);
      plain.copy(bytes, offset);
      offset += plain.length;
      next += 1;
    }
    if (chunks.length < CHUNKS_PER_READ) break;
  }
  if (offset !== file.size) throw damaged(`the chunks hold ${offset} bytes, the upload recorded ${file.size}`);
  const sha256 = crypto.createHash('sha256').update(bytes).digest();
  if (!file.sha256 || !sha256.equals(file.sha256)) throw damaged('the sha256 of the opened bytes differs from the one the upload recorded');
  return bytes;
}

/** Imports a claimed file and writes the outcome back; never throws for the file's sake. */
export async function importClaimedFile(db: Pool, config: Config, file: ClaimedFile, context: ImportContext, log: Logger): Promise<ImportOutcome> {
  const ids = { file: file.id, request: file.requestId, source: file.source, attempt: file.attempts };
  try {
    const importer = importerFor(file.source);
    if (!importer) throw new Error(`no importer for the source ${file.source}`);
    // the bytes are not held past the importer: they can go before the extraction is sealed
    const extraction = await importer.extract({ name: file.name, bytes: await openDonatedFile(db, file, config.donationSecretKey!) }, context);
    const stored = await withTransaction(db, async (client) => {
      const reviewKey = await lockReviewKey(client, file.requestId);
      if (!reviewKey) throw new Error(`request ${file.requestId} has no review key`);
      return storeExtraction(client, file, await sealExtraction(extraction, reviewKey), extraction.rows.length);
    });
    if (!stored) return lost(log, ids);
    log.info({ ...ids, bytes: file.size, rows: extraction.rows.length, points: extraction.rows.reduce((n, row) => n + row.points.length, 0) }, 'donated file extracted, awaiting the participant\'s confirmation');
    return 'extracted';
  } catch (error) {
    if (error instanceof DonationFileError) {
      // the reason is on the dashboard; a log line holds no words of the file
      if (!(await refuseFile(db, file, error.participantMessage, error.staffReason))) return lost(log, ids);
      log.info({ ...ids, bytes: file.size }, 'donated file refused (the reason is on the Donations page)');
      return 'refused';
    }
    const reason = `import failed (attempt ${file.attempts} of ${MAX_ATTEMPTS}): ${error instanceof Error ? error.message : String(error)}`;
    log.error({ ...ids, err: error }, 'donated file import failed');
    const written = file.attempts >= MAX_ATTEMPTS ? await refuseFile(db, file, FAILED_MESSAGE, reason) : await releaseFile(db, file, reason);
    if (!written) return lost(log, ids);
    return file.attempts >= MAX_ATTEMPTS ? 'refused' : 'retried';
  }
}

function lost(log: Logger, ids: Record<string, unknown>): ImportOutcome {
  log.warn(ids, 'donated file changed hands during its import (reset as stale?): this outcome is dropped');
  return 'lost';
}
