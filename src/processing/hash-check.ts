/**
 * Before processing trusts content-hash.ts on a database, it compares it with the database's own
 * jsonb_hash_extended on a probe point that reaches every branch (string lengths, non-ASCII text
 * and keys, numbers of every kind, nesting). They differ only if that server hashes otherwise
 * (another byte order, a future PostgreSQL); then every hash is left to PostgreSQL, as before.
 */
import type { Pool, PoolClient } from '../db/database.ts';
import type { Logger } from '../log.ts';
import { hashText, jsonbHash } from './content-hash.ts';

const PROBE = JSON.stringify({
  'passive-data-metadata': { source: '48213077', generator: 'probe: Mozilla/5.0', timestamp: 1790000000.137, encrypted: false },
  text: Array.from({ length: 30 }, (_, n) => 'x'.repeat(n)),
  unicode: ['é', '中文', '😀', 'a\u0001b', '"\\/\n'],
  keys: { b: 1, a: 2, aa: 3, 'é': 4, '中': 5, '': null },
  numbers: [0, -1, 1.5, 10000, 0.0001, 123456789.125, 1e21, 1e-7, -42.36012345678901],
  nested: [[], {}, [true, false, null, [{ deep: 'y' }]]],
});

const checked = new WeakMap<Pool, Promise<boolean>>();

/** True if this Node process computes the database's content hash; asked once per pool. */
export function hashesMatch(pool: Pool, client: PoolClient, log: Logger): Promise<boolean> {
  let answer = checked.get(pool);
  if (!answer) {
    answer = client.query<{ h: string }>('SELECT jsonb_hash_extended($1::jsonb, 0)::text AS h', [PROBE]).then(({ rows }) => {
      const same = rows[0].h === hashText(jsonbHash(JSON.parse(PROBE)));
      if (!same) log.error('this database hashes jsonb differently from content-hash.ts; content hashes are computed by PostgreSQL (slower)');
      return same;
    });
    // A failed query (database gone) is asked again next time.
    answer.catch(() => checked.delete(pool));
    checked.set(pool, answer);
  }
  return answer;
}
