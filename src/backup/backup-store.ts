/**
 * Where backups go and come back from: a folder or an S3 bucket (either, both), as the shared
 * object store (`object-store.ts`). Keys are relative paths (`dcs-backup/<run>/manifest.json`).
 */
import type { Config } from '../config.ts';
import { folderStore, s3Store, type ObjectStore } from '../object-store.ts';

export type BackupStore = ObjectStore;

/** `s3://bucket/prefix` or a folder path, as `dcs restore --from` and `dcs backup verify --from` take it. */
export function storeFromArgument(destination: string, forcePathStyle: boolean): BackupStore {
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(destination);
  return s3 ? s3Store({ bucket: s3[1], prefix: s3[2], forcePathStyle }) : folderStore(destination);
}

/** The destinations configured (BACKUP_DIR, BACKUP_S3_*); none: backups cannot run. */
export function configuredStores(config: Config): BackupStore[] {
  const stores: BackupStore[] = [];
  if (config.backupDir) stores.push(folderStore(config.backupDir));
  if (config.backupS3Bucket) stores.push(s3Store({ bucket: config.backupS3Bucket, prefix: config.backupS3Prefix, forcePathStyle: config.backupS3ForcePathStyle }));
  return stores;
}
