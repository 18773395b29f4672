/**
 * The one way to run a transaction (docs/architecture.md, "The db/ toolkit"): BEGIN with its
 * isolation level and SET LOCAL settings in one round trip, COMMIT when the work returns,
 * ROLLBACK when it throws (the error is passed on). Routes and jobs open transactions;
 * repositories take the `Transaction` (or any client) they are given and never open one.
 */
import type pg from 'pg';

declare const inTransaction: unique symbol;

/** A client inside an open transaction: what `work` is given. It is a PoolClient, so repositories taking one accept it. */
export type Transaction = pg.PoolClient & { readonly [inTransaction]: true };

export type IsolationLevel = 'read committed' | 'repeatable read' | 'serializable';

export interface TransactionOptions {
  /** PostgreSQL's default (read committed) when unset */
  isolation?: IsolationLevel;
  readOnly?: boolean;
  /** a read-only REPEATABLE READ transaction: every statement sees the same snapshot */
  readOnlySnapshot?: boolean;
  /** statements that run longer are cancelled (SQLSTATE 57014); SET LOCAL, so for this transaction only */
  statementTimeoutMs?: number;
  /** SET LOCAL name = value for each entry, e.g. `{ synchronous_commit: 'off' }`: undone at COMMIT or ROLLBACK */
  settings?: Readonly<Record<string, string | number>>;
}

const SETTING_NAME = /^[a-z_][a-z0-9_.]*$/;

/** `BEGIN …; SET LOCAL …` as one simple query (a simple query may hold several statements). */
export function beginStatement(options: TransactionOptions = {}): string {
  const isolation = options.readOnlySnapshot ? 'repeatable read' : options.isolation;
  const modes = [isolation && `ISOLATION LEVEL ${isolation.toUpperCase()}`, (options.readOnly || options.readOnlySnapshot) && 'READ ONLY'].filter(Boolean);
  const settings: Record<string, string | number> = { ...options.settings };
  if (options.statementTimeoutMs !== undefined) settings.statement_timeout = Math.trunc(options.statementTimeoutMs);
  const sets = Object.entries(settings).map(([name, value]) => {
    if (!SETTING_NAME.test(name)) throw new Error(`not a setting name: ${name}`);
    return `SET LOCAL ${name} = ${typeof value === 'number' ? String(value) : `'${value.replaceAll("'", "''")}'`}`;
  });
  return [['BEGIN', ...modes].join(' '), ...sets].join('; ');
}

/**
 * Runs `work` in one transaction on `client`, which the caller connected and releases (a client
 * holding a session lock, or connected with a deadline). When the ROLLBACK itself fails the
 * connection is unusable: the error says so (`connectionBroken`), and the caller must release
 * the client with an error so that the pool discards it.
 */
export async function transactionOn<T>(client: pg.PoolClient, work: (tx: Transaction) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  try {
    // Inside the try: a SET LOCAL that fails leaves an aborted transaction to roll back.
    await client.query(beginStatement(options));
    const result = await work(client as Transaction);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    throw await rolledBack(client, error);
  }
}

/** Rolls back after `error` and returns it, marked `connectionBroken` when the ROLLBACK fails too. */
async function rolledBack(client: pg.PoolClient, error: unknown): Promise<unknown> {
  try {
    await client.query('ROLLBACK');
  } catch {
    if (error !== null && typeof error === 'object') (error as { connectionBroken?: boolean }).connectionBroken = true;
  }
  return error;
}

/**
 * Runs a stream in one transaction on `client`: BEGIN (with `options`) before its first item,
 * COMMIT after its last, ROLLBACK when it throws (the error is passed on, marked
 * `connectionBroken` when the ROLLBACK fails too). For reads too large to hold, one short
 * transaction per slice (the exports, one per batch of sources), so none holds a snapshot for
 * long. A consumer that stops early leaves the transaction open, and perhaps a COPY half-read:
 * it must then release the client with an error so that the pool discards its connection.
 */
export async function* transactionStream<T>(client: pg.PoolClient, work: (tx: Transaction) => AsyncIterable<T>, options: TransactionOptions = {}): AsyncGenerator<T> {
  try {
    await client.query(beginStatement(options));
    yield* work(client as Transaction);
    await client.query('COMMIT');
  } catch (error) {
    throw await rolledBack(client, error);
  }
}

/**
 * Runs `work` in one transaction on a client of `pool`: committed when it returns, rolled back
 * when it throws (the error is passed on), the client released on every path, and discarded
 * rather than reused when its connection broke.
 */
export async function withTransaction<T>(pool: pg.Pool, work: (tx: Transaction) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    return await transactionOn(client, work, options);
  } catch (error) {
    if ((error as { connectionBroken?: boolean }).connectionBroken) broken = error as Error;
    throw error;
  } finally {
    client.release(broken);
  }
}
