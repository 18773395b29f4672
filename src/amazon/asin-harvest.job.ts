/**
 * `asin-harvest`: every 5 minutes, the ASINs of the points stored since the last run (harvest.ts);
 * then, when the exclusion rules changed, the products' counts again without what they exclude.
 */
import type { JobDefinition } from '../job-contract.ts';
import { harvestAsins } from './harvest.ts';
import { recountProductsForRules } from './products.repository.ts';

export const asinHarvestJob: JobDefinition = {
  name: 'asin-harvest',
  description: 'Finds the Amazon products (ASINs) in new points: orders, product links, data-asin markup.',
  schedule: { everyMinutes: 5 },
  timeoutMinutes: 60,
  async run({ pool, config }) {
    const result = await harvestAsins(pool, config);
    const recounted = await recountProductsForRules(pool);
    return { points_scanned: result.points, sightings: result.sightings, new_products: result.newProducts, rejected: result.rejected, recounted };
  },
};
