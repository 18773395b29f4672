/** `keepa-enrich`: every minute while products are due, enriches them (enrich.ts). Off without KEEPA_API_KEY. */
import type { JobDefinition } from '../job-contract.ts';
import { enrichProducts } from './enrich.ts';

export const keepaEnrichJob: JobDefinition = {
  name: 'keepa-enrich',
  description: 'Enriches harvested products through peer servers and Keepa (needs KEEPA_API_KEY).',
  schedule: { everyMinutes: 1 },
  enabled: (config) => Boolean(config.keepaApiKey),
  async run({ pool, config, log }) {
    if (!config.keepaApiKey) throw new Error('KEEPA_API_KEY is not set, so there is no Keepa enrichment.');
    const result = await enrichProducts({ pool, config, log });
    return { enriched: result.enriched, from_peers: result.fromPeers, missed: result.missed, keepa_requests: result.requests, tokens_left: result.tokensLeft ?? -1 };
  },
};
