/**
 * `dcs keepa status`: the Keepa token balance (one token-status request, which costs nothing)
 * and the enrichment queue, for an operator deciding on a Keepa plan.
 */
import type { Config } from '../config.ts';
import type { Pool } from '../db/database.ts';
import { keepaSettings } from '../amazon/enrich.ts';
import { fetchKeepaTokens } from '../amazon/keepa-client.ts';
import { harvestProgress } from '../amazon/harvest-queue.repository.ts';
import { keepaQueue } from '../amazon/products.repository.ts';

export async function keepaCommand(pool: Pool, config: Config, args: string[], json: boolean): Promise<number> {
  if (args[0] !== 'status' || args.length > 1) {
    console.error('Usage: dcs keepa status [--json]');
    return 1;
  }
  const [queue, harvest] = await Promise.all([keepaQueue(pool), harvestProgress(pool)]);
  let tokens: Record<string, unknown> = { configured: false };
  let failed = false;
  if (config.keepaApiKey) {
    try {
      const t = await fetchKeepaTokens(keepaSettings(config));
      tokens = { configured: true, tokensLeft: t.tokensLeft, refillRate: t.refillRate, refillInSeconds: Math.round(t.refillIn / 1000) };
    } catch (error) {
      failed = true;
      tokens = { configured: true, error: (error as Error).message };
    }
  }
  if (json) {
    console.log(JSON.stringify({ keepa: tokens, queue, harvest }));
    return failed ? 1 : 0;
  }
  const line = (label: string, value: unknown) => console.log(`${label.padEnd(26)} ${value ?? '-'}`);
  if (!config.keepaApiKey) line('keepa', 'off (KEEPA_API_KEY is not set)');
  else if (tokens.error) line('keepa', `unreachable: ${tokens.error}`);
  else {
    line('keepa tokens left', tokens.tokensLeft);
    line('keepa refill', `${tokens.refillRate} a minute, next in ${tokens.refillInSeconds} s`);
  }
  line('products enriched', queue.enriched);
  line('products pending', queue.pending);
  line('products missed', queue.missed);
  line('due now', queue.due);
  line('next retry of a miss', queue.nextRetry?.toISOString());
  line('harvest', `${harvest.queued} points waiting (${harvest.pointsScanned} scanned, ${harvest.rejected} candidates rejected)`);
  return failed ? 1 : 0;
}
