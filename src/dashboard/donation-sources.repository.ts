/**
 * The donation sources' names and instructions (donation_sources), which staff edit on the
 * Donations page and participants read on the instructions and help pages.
 */
import type { Pool } from '../db/database.ts';

export interface DonationSource {
  identifier: string;
  name: string;
  instructions: string;
}

export async function listDonationSources(db: Pool): Promise<DonationSource[]> {
  const { rows } = await db.query('SELECT identifier, name, instructions FROM donation_sources ORDER BY priority, identifier');
  return rows;
}

/** Sets a source's name and instructions; false when there is no such source. */
export async function updateDonationSource(db: Pool, source: DonationSource): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE donation_sources SET name = $2, instructions = $3 WHERE identifier = $1', [source.identifier, source.name, source.instructions]);
  return rowCount === 1;
}
