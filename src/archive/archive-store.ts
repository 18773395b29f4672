/**
 * Where archived months go and come back from: a folder (ARCHIVE_DIR) or an S3 bucket
 * (ARCHIVE_S3_BUCKET, ARCHIVE_S3_PREFIX; region, credentials and endpoint from the AWS SDK's own
 * variables, as for exports), as the shared object store (`object-store.ts`), whose files are
 * streamed both ways: a month of a large study is terabytes.
 */
import type { Config } from '../config.ts';
import { folderStore, s3Store, type ObjectStore } from '../object-store.ts';

export type ArchiveStore = ObjectStore;

/** The store the configuration names, or undefined: none is set. */
export function configuredArchiveStore(config: Pick<Config, 'archiveDir' | 'archiveS3'>): ArchiveStore | undefined {
  if (config.archiveDir) return folderStore(config.archiveDir);
  if (config.archiveS3) return s3Store(config.archiveS3);
  return undefined;
}
