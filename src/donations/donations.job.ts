/**
 * The job `donations` (every minute, docs/donations.md "The import job and retention"): imports the
 * donated files that came in (import-file.ts), one at a time for up to ~50 s, for the participants'
 * review; then the time-outs: stale `extracting` files back to `received`, unconfirmed reviews
 * expired after DONATION_REVIEW_HOURS, and the sealed bytes no longer needed deleted. Opening the
 * files needs DONATION_SECRET_KEY, which only workers hold; without it the job still does the rest.
 */
import nacl from 'tweetnacl';
import type { Config } from '../config.ts';
import type { JobContext, JobCounts, JobDefinition } from '../job-contract.ts';
import type { Logger } from '../log.ts';
import type { ImportContext } from './importer-contract.ts';
import { importContext, importerFor } from './importer-list.ts';
import { FAILED_MESSAGE, importClaimedFile } from './import-file.ts';
import {
  claimReceivedFile, deleteAbandonedUploads, deleteSpentChunks, expireUnconfirmed, receivedBySource, resetStaleExtracting,
} from './import.repository.ts';

/** A run stops taking new files after this long, so that the next minute's run finds the lock free. */
export const IMPORT_BUDGET_MS = 50_000;

const EXPIRED_MESSAGE = 'You did not confirm this file in time, so nothing from it was kept. Please upload it again.';

/** Why files cannot be opened with this configuration; undefined when they can. */
export function secretKeyProblem(config: Config): string | undefined {
  if (!config.donationSecretKey) return 'DONATION_SECRET_KEY is not set on this worker';
  const publicKey = nacl.box.keyPair.fromSecretKey(config.donationSecretKey).publicKey;
  if (config.donationPublicKey && !Buffer.from(publicKey).equals(Buffer.from(config.donationPublicKey))) {
    return 'DONATION_SECRET_KEY is not the secret half of DONATION_PUBLIC_KEY';
  }
  return undefined;
}

/** Each problem is logged once per process (the job runs every minute). */
const told = new Set<string>();
function tellOnce(log: Logger, problem: string, waiting: number): void {
  if (told.has(problem)) return;
  told.add(problem);
  log.warn({ waiting }, `donated files are not imported: ${problem}`);
}

/** The import context of each source with files waiting, or the reason it cannot be imported now. */
function contextsOf(config: Config, sources: Iterable<string>): { ready: Map<string, ImportContext>; blocked: Map<string, string> } {
  const ready = new Map<string, ImportContext>();
  const blocked = new Map<string, string>();
  for (const source of sources) {
    if (!importerFor(source)) {
      blocked.set(source, `no importer for the source ${source}`);
      continue;
    }
    try {
      ready.set(source, importContext(config, source));
    } catch (error) {
      blocked.set(source, `${source}: ${(error as Error).message}`);
    }
  }
  return { ready, blocked };
}

/** Imports received files until none is left that this worker can import, or the budget is spent. */
async function importReceived({ pool, config, log }: JobContext, counts: JobCounts, budgetMs: number): Promise<void> {
  const waiting = await receivedBySource(pool);
  const total = [...waiting.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return;
  const keyProblem = secretKeyProblem(config);
  if (keyProblem) {
    counts.waiting = total;
    tellOnce(log, keyProblem, total);
    return;
  }
  const { ready, blocked } = contextsOf(config, waiting.keys());
  for (const [source, problem] of blocked) {
    counts.waiting += waiting.get(source)!;
    tellOnce(log, problem, waiting.get(source)!);
  }
  const deadline = Date.now() + budgetMs;
  // a file that failed is tried again by a later run, not at once
  const failed: number[] = [];
  while (ready.size > 0 && Date.now() < deadline) {
    const file = await claimReceivedFile(pool, [...ready.keys()], failed);
    if (!file) break;
    const outcome = await importClaimedFile(pool, config, file, ready.get(file.source)!, log);
    counts[outcome] += 1;
    if (outcome === 'retried') failed.push(file.id);
  }
}

/** One run of the job; `budgetMs` bounds the imports (tests shorten it). */
export async function runDonations(ctx: JobContext, budgetMs = IMPORT_BUDGET_MS): Promise<JobCounts> {
  const { pool, config } = ctx;
  const counts: JobCounts = { extracted: 0, refused: 0, retried: 0, lost: 0, waiting: 0 };
  const stale = await resetStaleExtracting(pool, FAILED_MESSAGE);
  counts.stale_reset = stale.received;
  counts.refused += stale.refused;
  await importReceived(ctx, counts, budgetMs);
  counts.expired = await expireUnconfirmed(pool, config.donationReviewHours, EXPIRED_MESSAGE);
  const spent = config.donationKeepFiles ? { files: 0, chunks: 0 } : await deleteSpentChunks(pool, config.donationReviewHours);
  counts.files_cleaned = spent.files;
  counts.chunks_deleted = spent.chunks;
  counts.abandoned_uploads = await deleteAbandonedUploads(pool, config.donationReviewHours);
  return counts;
}

/** Scheduled where donations are set up at all (a key of theirs configured). */
export function donationsConfigured(config: Config): boolean {
  return Boolean(config.externalContentKey || config.donationPublicKey || config.donationSecretKey);
}

export const donationsJob: JobDefinition = {
  name: 'donations',
  description: 'Imports donated files for the participants\' review (needs DONATION_SECRET_KEY), expires unconfirmed reviews, deletes spent files',
  schedule: { everyMinutes: 1 },
  enabled: donationsConfigured,
  timeoutMinutes: 15,
  run: (ctx) => runDonations(ctx),
};
