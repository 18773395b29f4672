/** `asin-harvest`: every 5 minutes, the ASINs of the points stored since the last run (harvest.ts). */
import type { JobDefinition } from '../job-contract.ts';
import { harvestAsins } from './harvest.ts';

export const asinHarvestJob: JobDefinition = {
  name: 'asin-harvest',
  description: 'Finds the Amazon products (ASINs) in new points: orders, product links, data-asin markup.',
  schedule: { everyMinutes: 5 },
  timeoutMinutes: 60,
  async run({ pool, config }) {
    const result = await harvestAsins(pool, config);
    return { points_scanned: result.points, sightings: result.sightings, new_products: result.newProducts, rejected: result.rejected };
  },
};
