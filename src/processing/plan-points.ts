/**
 * From decoded bundles to the rows they would add, in Node: each point's metadata
 * (point-fields.ts), secondary identifier (secondary.ts), `created` in microseconds, content
 * digest (content-digest.ts) and place in the bundle text (point-text.ts), plus what each bundle
 * rejected. What cannot be computed here exactly is marked for PostgreSQL (store-points.ts asks
 * it in one query): the digest of a point with a number written with an exponent, a secondary
 * identifier that is a number or object, and a `date` text to read as an ISO time.
 */
import type { ClaimedBundle } from './claim-bundles.ts';
import { digestOf, printJsonb } from './content-digest.ts';
import { epochSecondsToMicros } from './micros.ts';
import { describePoint } from './point-fields.ts';
import { scanBundle } from './point-text.ts';
import { secondaryIdentifier, SQL_SECONDARY, type SecondaryRuleRow } from './secondary.ts';

/** The rejection of a point whose source is on the erased list (data-quality/erasure.ts). */
export const ERASED_SOURCE = 'erased source';

export interface DecodedBundle {
  bundle: ClaimedBundle;
  /** The bundle's JSON text: an array of points. */
  text: string;
}

export interface PlannedPoint {
  /** Index in the batch's bundles. */
  bundle: number;
  source: string;
  generatorId: string;
  generator: string;
  userAgent: string;
  secondary: string | null | typeof SQL_SECONDARY;
  /** Microseconds since 2000; undefined until PostgreSQL has read `dateText`. */
  created: number | undefined;
  createdFrom: string;
  dateText: string | null;
  /** The content digest (32 hex digits); undefined: PostgreSQL computes it from the point's text. */
  digest: string | undefined;
  /** Where the point's text is in its bundle's (point-text.ts). */
  start: number;
  metadataEnd: number;
  end: number;
  /** The `@` keys naming uploaded files (only for bundles that have files). */
  files: { k: string; f: string }[] | undefined;
  /** An imported point (ClaimedBundle.imported) whose metadata says it came encrypted. */
  encryptedBefore?: true;
  /** Set by store-points.ts for the first copy of a point not yet stored. */
  isNew?: boolean;
}

export interface BundlePlan {
  total: number;
  rejected: number;
  rejections: Record<string, number>;
  sources: Set<string>;
}

export interface BatchPlan {
  decoded: DecodedBundle[];
  points: PlannedPoint[];
  bundles: BundlePlan[];
  /** Some point needs PostgreSQL for its digest, secondary identifier or time. */
  needsSql: boolean;
}

/** Keys ending in `@` name uploaded files (pdk-server.md §2.4); collect them, at any depth. */
function attachmentRefs(value: unknown, out: { k: string; f: string }[]): void {
  if (Array.isArray(value)) {
    for (const item of value) attachmentRefs(item, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key.endsWith('@')) {
        for (const name of Array.isArray(item) ? item : [item]) if (typeof name === 'string') out.push({ k: key, f: name });
      } else {
        attachmentRefs(item, out);
      }
    }
  }
}

function wasEncrypted(value: unknown): boolean {
  const metadata = (value as Record<string, unknown>)['passive-data-metadata'] as Record<string, unknown>;
  return metadata.encrypted_transmission === true;
}

/** A bundle's counts before any of its points; a large bundle's pieces all add to one (large-bundle.ts). */
export function emptyBundlePlan(): BundlePlan {
  return { total: 0, rejected: 0, rejections: {}, sources: new Set() };
}

export function emptyPlan(): BatchPlan {
  return { decoded: [], points: [], bundles: [], needsSql: false };
}

/**
 * Adds a decoded bundle to `plan`; `values` is its text parsed, which the plan does not keep (a
 * batch's parsed points then die young, instead of filling the old generation until it commits).
 * `rules` are the data types with a secondary identifier; `digestsInNode` false sends every digest
 * to PostgreSQL (digest-check.ts found this database printing jsonb otherwise); points of an
 * `erased` source are dropped, counted as rejections 'erased source'. `stats` receives
 * the bundle's counts (the pieces of a large bundle share one).
 */
export function planBundle(plan: BatchPlan, decoded: DecodedBundle, values: unknown[], rules: Map<string, SecondaryRuleRow>, digestsInNode: boolean, erased: ReadonlySet<string>, stats = emptyBundlePlan()): void {
  const { bundle, text } = decoded;
  const index = plan.decoded.length;
  const spans = scanBundle(text);
  if (spans.length !== values.length) throw new Error(`bundle ${bundle.id}: ${spans.length} elements found in the text, ${values.length} parsed`);
  stats.total += values.length;
  plan.decoded.push(decoded);
  plan.bundles.push(stats);
  values.forEach((value, i) => {
    const fields = describePoint(value);
    if (typeof fields === 'string' || erased.has(fields.source)) {
      const reason = typeof fields === 'string' ? fields : ERASED_SOURCE;
      stats.rejections[reason] = (stats.rejections[reason] ?? 0) + 1;
      stats.rejected += 1;
      return;
    }
    const span = spans[i];
    if (span.metadataEnd < 0) throw new Error(`bundle ${bundle.id}: no passive-data-metadata object found in the text of point ${i}`);
    stats.sources.add(fields.source);
    const jsonb = digestsInNode ? printJsonb(text, span.start).jsonb : undefined;
    const digest = jsonb === undefined ? undefined : digestOf(jsonb);
    const secondary = secondaryIdentifier(value, rules.get(fields.generatorId));
    const created = fields.epochSeconds !== null ? epochSecondsToMicros(fields.epochSeconds) : fields.dateText === null ? bundle.receivedMicros : undefined;
    if (!digest || secondary === SQL_SECONDARY || created === undefined) plan.needsSql = true;
    let files: { k: string; f: string }[] | undefined;
    if (bundle.hasFiles) attachmentRefs(value, (files = []));
    plan.points.push({
      bundle: index,
      source: fields.source,
      generatorId: fields.generatorId,
      generator: fields.generator,
      userAgent: fields.userAgent,
      secondary,
      created,
      createdFrom: fields.epochFrom ?? 'received',
      dateText: fields.dateText,
      digest,
      start: span.start,
      metadataEnd: span.metadataEnd,
      end: span.end,
      files,
      ...(bundle.imported && wasEncrypted(value) ? { encryptedBefore: true as const } : {}),
    });
  });
}
