/** The data-quality flags of one source, for the source page's Data quality panel (the job writes them). */
import type { Pool } from '../db/database.ts';

export interface SourceFlag {
  kind: string;
  evidenceCount: number;
  firstSeen: Date;
  lastSeen: Date;
  examples: Record<string, unknown>[];
  raisedAt: Date | null;
  clearedAt: Date | null;
}

/** Raised flags first, then cleared ones, then evidence below its threshold; by kind within each. */
export async function listSourceFlags(pool: Pool, source: string): Promise<SourceFlag[]> {
  const { rows } = await pool.query(
    `SELECT kind, evidence_count, first_seen, last_seen, examples, raised_at, cleared_at FROM data_quality_flags
     WHERE source = $1 ORDER BY raised_at IS NULL, cleared_at IS NOT NULL, kind`,
    [source],
  );
  return rows.map((r) => ({
    kind: r.kind, evidenceCount: Number(r.evidence_count), firstSeen: r.first_seen, lastSeen: r.last_seen,
    examples: r.examples, raisedAt: r.raised_at, clearedAt: r.cleared_at,
  }));
}
