/**
 * Tells workers that bundles are waiting. Workers in this process are woken at once (a function
 * call, or a message to the processing thread). Workers elsewhere LISTEN on `dcs_bundles`; they get
 * at most one NOTIFY per NOTIFY_INTERVAL_MS from this process, sent outside the upload's
 * transaction: a NOTIFY inside it would hold PostgreSQL's global notify lock across the commit's
 * WAL flush and serialise every concurrent upload behind it.
 */
import { CHANNELS, notify } from '../db/channels.ts';
import type { Pool } from '../db/database.ts';

const NOTIFY_INTERVAL_MS = 250;

export interface BundleNotifier {
  /** Called after every stored upload. Never throws, never waits. */
  bundleStored(): void;
}

export function createBundleNotifier(pool: Pool, wakeLocal: () => void): BundleNotifier {
  let lastNotify = 0;
  let pending: NodeJS.Timeout | undefined;
  const send = () => {
    pending = undefined;
    lastNotify = Date.now();
    notify(pool, CHANNELS.bundles).catch(() => undefined);
  };
  return {
    bundleStored() {
      wakeLocal();
      if (pending) return;
      const wait = lastNotify + NOTIFY_INTERVAL_MS - Date.now();
      if (wait <= 0) send();
      else pending = setTimeout(send, wait).unref();
    },
  };
}
