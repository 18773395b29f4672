/** The original's backup file names read by pdk-import/backup-files/file-names.ts: any host, both hooks, with and without `.encrypted`. */
import { expect, it } from 'vitest';
import { parseBackupFileName } from '../../src/pdk-import/backup-files/file-names.ts';

it('reads PDK points files, dumpdata files and Webmunk points files of any host name', () => {
  expect(parseBackupFileName('/b/2024-01-01__2024-01-08/pdk_backup_study_host.example.org_2024-01-01_2024-01-07_data_points_500_1234.pdk-bundle.bz2.encrypted')).toMatchObject({
    kind: 'points', writer: 'pdk', host: 'study_host.example.org', from: '2024-01-01', to: '2024-01-07', offset: 500, total: 1234, compression: 'bz2', encrypted: true,
  });
  expect(parseBackupFileName('webmunk_backup_*_2024-01-01_2024-01-01_webmunk-extension-element-click_data_points_0_12.webmunk-pd-bundle.gz')).toMatchObject({
    kind: 'points', writer: 'webmunk', host: '*', generatorId: 'webmunk-extension-element-click', offset: 0, total: 12, compression: 'gzip', encrypted: false,
  });
  expect(parseBackupFileName('pdk_backup_localhost_2024-01-01_2024-01-01_passive_data_kitdatasource.json-dumpdata.bz2.encrypted')).toMatchObject({
    kind: 'dumpdata', writer: 'pdk', host: 'localhost', model: 'passive_data_kitdatasource', compression: 'bz2', encrypted: true,
  });
});

it('says why another file is not read', () => {
  expect(parseBackupFileName('/b/notes.txt')).toEqual({ path: '/b/notes.txt', reason: expect.stringContaining('not named like a backup file') });
  expect(parseBackupFileName('pdk_backup_h_2024-01-01_2024-01-01_data_points_0_1.pdk-bundle.gz.encrypted')).toEqual({
    path: 'pdk_backup_h_2024-01-01_2024-01-01_data_points_0_1.pdk-bundle.gz.encrypted', reason: expect.stringContaining('a pdk_backup file of a kind this import does not know'),
  });
});
