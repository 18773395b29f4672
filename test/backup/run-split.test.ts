/**
 * A large first backup is a series of runs, each complete with its manifest (at most a run's worth
 * of bundles lost to a crash), and a restore reads them all as one.
 */
import { expect, it } from 'vitest';
import { runBackupNow } from '../../src/backup/backup.job.ts';
import { folderStore } from '../../src/object-store.ts';
import { restoreBackup } from '../../src/backup/restore.ts';
import { verifyBackups } from '../../src/backup/verify-backups.ts';
import { createLogger } from '../../src/log.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { useTestServer } from '../helpers/server.ts';
import { postGzip } from '../processing/support.ts';
import { BACKUP_KEY, pointRows, studyPoints, tempDir } from './support.ts';

const backupDir = tempDir();
const server = useTestServer({ BACKUP_KEY, BACKUP_DIR: backupDir });

it('splits a backup into runs of bounded size, and restores them all', async () => {
  for (let i = 0; i < 5; i += 1) await postGzip(server, studyPoints(`split-${i}`, 100));
  await server.process();
  const { rows: [sizes] } = await server.db.pool.query('SELECT max(octet_length(body))::int AS largest FROM bundles');
  // Two bundles a run at most: three runs.
  const counts = await runBackupNow({ pool: server.db.pool, config: server.config, log: createLogger('silent') }, 2 * sizes.largest + 1);
  expect(counts).toMatchObject({ runs: 3, bundles: 5 });
  expect((await server.db.pool.query('SELECT count(*)::int AS n FROM backup_queue')).rows[0].n).toBe(0);

  const store = folderStore(backupDir);
  expect(await verifyBackups(store, server.config.backupKey!)).toMatchObject({ runs: 3, bundles: 5, problems: [] });
  const target = await createTestDatabase();
  try {
    const outcome = await restoreBackup(target.pool, store, server.config.backupKey!, { merge: false });
    expect(outcome).toMatchObject({ runs: 3, bundlesRead: 5, bundlesLoaded: 5 });
    const { rows } = await target.pool.query(`SELECT count(*)::int AS n FROM bundles WHERE status = 'pending'`);
    expect(rows[0].n).toBe(5);
    expect(await pointRows(target.pool)).toEqual([]);
  } finally {
    await target.drop();
  }
  expect((await pointRows(server.db.pool)).length).toBe(500);
});
