/**
 * Which configuration an identifier gets (ecosystem-api.md §2.5, with the original's mistakes
 * left out): (1) the one staff assigned to it directly, (2) enabled configurations whose
 * identifier pattern is the identifier itself, (3) enabled configurations whose pattern matches
 * the whole identifier; each only where its context pattern matches the context, in evaluation
 * order, and the first match wins (PDK-B served the last). A weighted configuration stands for its
 * arm set: the identifier's recorded arm, or one drawn by weight at its first request.
 */
import { randomInt } from 'node:crypto';
import type { PoolClient } from '../db/database.ts';
import { findAssignment, findDraw, recordDraw, type ChosenBy } from './assignments.repository.ts';
import type { Configuration } from './configuration.ts';
import { findConfiguration, findConfigurationByName, listConfigurations } from './configurations.repository.ts';
import { matchesWhole } from './patterns.ts';

export interface Resolved {
  configuration: Configuration;
  chosenBy: ChosenBy;
}

/**
 * The configuration for `identifier` in `context`, or undefined. `defaultName` (APP_CONFIG_DEFAULT)
 * is served when nothing matches. Callers bound the identifier's and context's length first.
 * Records a new draw; run it in a transaction.
 */
export async function resolveConfiguration(client: PoolClient, identifier: string, context: string, defaultName?: string): Promise<Resolved | undefined> {
  const fits = (c: Configuration) => c.enabled && matchesWhole(c.contextPattern, context);

  const assignedId = await findAssignment(client, identifier);
  const assigned = assignedId === undefined ? undefined : await findConfiguration(client, assignedId);
  if (assigned && fits(assigned)) return { configuration: assigned, chosenBy: 'assigned' };

  const enabled = await listConfigurations(client, { enabledOnly: true });
  const exact = enabled.filter((c) => c.idPattern === identifier);
  const patterns = enabled.filter((c) => c.idPattern !== identifier && matchesWhole(c.idPattern, identifier));
  const triedArmSets = new Set<string>();
  for (const [candidates, chosenBy] of [[exact, 'exact'], [patterns, 'pattern']] as const) {
    for (const candidate of candidates) {
      if (candidate.weight === null) {
        if (fits(candidate)) return { configuration: candidate, chosenBy };
        continue;
      }
      if (triedArmSets.has(candidate.idPattern)) continue;
      triedArmSets.add(candidate.idPattern);
      const arms = enabled.filter((c) => c.weight !== null && c.idPattern === candidate.idPattern);
      const arm = await armOf(client, identifier, arms, fits);
      if (arm) return { configuration: arm, chosenBy: 'drawn' };
    }
  }

  if (defaultName === undefined) return undefined;
  const fallback = await findConfigurationByName(client, defaultName);
  return fallback?.enabled ? { configuration: fallback, chosenBy: 'default' } : undefined;
}

/**
 * The identifier's arm in an arm set (enabled, weighted configurations with one identifier
 * pattern): the one it drew before, or a new draw by weight among the arms whose context fits.
 * An arm drawn before but disabled since is drawn again (weight 0 is how an arm is closed to new
 * participants without moving anyone). Undefined when the drawn arm's context does not fit this
 * request, or no arm can be drawn.
 */
async function armOf(client: PoolClient, identifier: string, arms: Configuration[], fits: (c: Configuration) => boolean): Promise<Configuration | undefined> {
  const idPattern = arms[0].idPattern;
  const drawn = await findDraw(client, identifier, idPattern);
  const current = arms.find((arm) => arm.id === drawn);
  if (current) return fits(current) ? current : undefined;
  const open = arms.filter((arm) => arm.weight! > 0 && fits(arm));
  const total = open.reduce((sum, arm) => sum + arm.weight!, 0);
  if (total === 0) return undefined;
  let ticket = randomInt(total);
  const pick = open.find((arm) => (ticket -= arm.weight!) < 0)!;
  await recordDraw(client, identifier, idPattern, pick.id, drawn);
  // Another request for the same identifier may have drawn first: its draw is the one kept.
  const kept = await findDraw(client, identifier, idPattern);
  const arm = arms.find((a) => a.id === kept);
  return arm && fits(arm) ? arm : undefined;
}
