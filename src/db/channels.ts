/**
 * Every LISTEN/NOTIFY channel of the server, in one place (docs/architecture.md, "The db/
 * toolkit"). A notification only wakes a listener sooner: every listener also polls.
 */
import type pg from 'pg';

export const CHANNELS = {
  /** new or re-queued bundles: workers wake and claim them */
  bundles: 'dcs_bundles',
} as const;

export type Channel = (typeof CHANNELS)[keyof typeof CHANNELS];

/** Sends a notification on `channel` (outside any transaction when given the pool: sent at once). */
export async function notify(db: pg.Pool | pg.PoolClient, channel: Channel, payload = ''): Promise<void> {
  await db.query('SELECT pg_notify($1, $2)', [channel, payload]);
}

/** Starts listening on `channel` on `client` (a connection of its own, kept open). */
export async function listen(client: pg.PoolClient | pg.Client, channel: Channel): Promise<void> {
  // An identifier, not a parameter: quoted as one.
  await client.query(`LISTEN "${channel.replaceAll('"', '""')}"`);
}
