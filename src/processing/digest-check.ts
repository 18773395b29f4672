/**
 * Before processing trusts content-digest.ts on a database, it compares it with the database's own
 * dcs_point_digest() on a probe point that reaches every branch (escapes PostgreSQL writes and
 * those it does not, non-ASCII text and keys, key order and duplicate keys, numbers as sent,
 * nesting, the flag processing adds). They differ only if that server prints jsonb otherwise (a
 * future PostgreSQL); then every digest is left to PostgreSQL (slower, still exact).
 */
import type { Pool, PoolClient } from '../db/database.ts';
import type { Logger } from '../log.ts';
import { digestFromUuid, digestOf, printJsonb } from './content-digest.ts';

const PROBE = `{"passive-data-metadata": {"source": "48213077", "generator": "probe: Mozilla/5.0", "timestamp": 1790000000.137,
    "encrypted_transmission": false},
  "text": ["", "tab\\tquote\\" back\\\\slash \\/ \\u00e9 \\u0001 \\u001F \\u0008 \\ud83d\\ude00", "é 中文 😀 \u007f"],
  "keys": {"b": 1, "a": 2, "aa": 3, "é": 4, "中": 5, "": null, "a": 6, "\\u0061b": 7},
  "numbers": [0, -0, -0.0, -1, 1.50, 10000, 0.0001, 123456789.125, 12345678901234567890, -42.36012345678901],
  "nested": [[], {}, [true, false, null, [{"deep": "y"}]]]}`;

const checked = new WeakMap<Pool, Promise<boolean>>();

/** True if this Node process computes the database's content digests; asked once per pool. */
export function digestsMatch(pool: Pool, client: PoolClient, log: Logger): Promise<boolean> {
  let answer = checked.get(pool);
  if (!answer) {
    answer = client.query<{ d: string }>('SELECT dcs_point_digest($1::jsonb)::text AS d', [PROBE]).then(({ rows }) => {
      const printed = printJsonb(PROBE, 0).jsonb;
      const same = printed !== undefined && digestFromUuid(rows[0].d) === digestOf(printed);
      if (!same) log.error('this database prints jsonb differently from content-digest.ts; content digests are computed by PostgreSQL (slower)');
      return same;
    });
    // A failed query (database gone) is asked again next time.
    answer.catch(() => checked.delete(pool));
    checked.set(pool, answer);
  }
  return answer;
}
