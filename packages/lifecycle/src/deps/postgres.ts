/**
 * `@podkit/lifecycle/postgres`: a readiness check and a warmup for the user's own `pg` Pool.
 * podkit opens no connection of its own: the check borrows a client from the pool, the warmup
 * makes the pool open its connections before the service takes traffic.
 *
 * pg is an optional peer dependency: this module only imports its types, so loading it never
 * loads pg, and the core (`@podkit/lifecycle`) never loads this module.
 *
 * Three things a naive `pool.query('SELECT 1')` gets wrong, and what is done here instead:
 * - An exhausted pool queues `connect()` with no limit (unless `connectionTimeoutMillis` is set),
 *   and pg cannot take a queued request back. The check waits for a client only as long as its
 *   AbortSignal allows, keeps at most ONE request in the pool's queue however many runs time out
 *   meanwhile, and hands a client that arrives after every waiter gave up straight back.
 * - A query on a connection that went silent never ends on its own. The query is raced with the
 *   signal, and a client whose query did not finish (or whose connection failed) is released
 *   with an error, which makes the pool close it instead of lending it to the application.
 * - A checked-out pg client that loses its connection emits 'error', which crashes the process
 *   when nobody listens. Every client is listened to while podkit holds it.
 */
import type { Pool, PoolClient } from 'pg';
import { InvalidOptionError } from '../errors.js';
import { durationMs, knownKeys, plainObject, positiveInteger } from '../validate.js';
import { abortable } from '../timeout.js';
import { retry, type RetryOptions } from '../retry.js';

export interface PostgresCheckOptions {
  /**
   * Server-side bound on the check's query (`SET LOCAL statement_timeout`, for this query only;
   * the pool's connections keep their own setting), in ms. Keep it below the check's `timeoutMs`,
   * which bounds the whole run (waiting for a client included) on the client side.
   * @default 500
   */
  statementTimeoutMs?: number;
  /** The query that must succeed, e.g. `SELECT 1 FROM my_table LIMIT 1` to also prove a grant. @default 'SELECT 1' */
  query?: string;
}

export interface PostgresWarmupOptions {
  /**
   * How many pool connections to open before ready: that many clients are checked out at once,
   * each runs `SELECT 1`, and all are released (they stay in the pool as idle connections, until
   * the pool's `idleTimeoutMillis`). At most the pool's `max`.
   * @default 1
   */
  connections?: number;
  /**
   * Retry a failed attempt with exponential backoff (see `retry()` in `@podkit/lifecycle`), or
   * `false` to fail the warmup at the first failure. The warmup's own timeout bounds it either way.
   * @default { attempts: 5, initialDelayMs: 200, maxDelayMs: 5000, factor: 2 }
   */
  retry?: RetryOptions | false;
}

/** Every default of this module, in one place. */
export const POSTGRES_DEFAULTS = { statementTimeoutMs: 500, query: 'SELECT 1', connections: 1 } as const;

/**
 * A readiness check: borrows a client from the pool and runs `SELECT 1` under a statement timeout.
 * Answers within the check's timeout even when the pool is exhausted or the server went silent,
 * and never leaks a client (see the module comment).
 *
 * ```ts
 * lifecycle.check('postgres', postgresCheck(pool));
 * ```
 */
export function postgresCheck(pool: Pool, options: PostgresCheckOptions = {}): (signal: AbortSignal) => Promise<void> {
  assertPool('postgresCheck(pool)', pool);
  const o = plainObject('postgresCheck options', options);
  knownKeys('postgresCheck', o, ['statementTimeoutMs', 'query']);
  const statementTimeoutMs = durationMs('postgresCheck.statementTimeoutMs', o.statementTimeoutMs, POSTGRES_DEFAULTS.statementTimeoutMs, { min: 1 });
  if (o.query !== undefined && (typeof o.query !== 'string' || o.query.trim() === '')) {
    throw new InvalidOptionError('postgresCheck.query', o.query, 'a non-empty SQL string');
  }
  const query = (o.query as string | undefined) ?? POSTGRES_DEFAULTS.query;
  // One simple-protocol message, one round trip: its statements share an implicit transaction,
  // so SET LOCAL applies to this query only and is gone when it ends.
  const sql = `SET LOCAL statement_timeout = ${statementTimeoutMs}; ${query}`;
  const borrow = createBorrower(pool);

  return async (signal) => {
    const client = await borrow(signal);
    await useClient(client, signal, () => client.query(sql));
  };
}

/**
 * A warmup: checks out `connections` clients at once (so the pool opens that many connections),
 * runs `SELECT 1` on each, and releases them, so the first requests do not pay for connection
 * set-up. Retried with backoff unless `retry: false`. Keep the connections open past the first
 * idle period with the pool's own `min` / `idleTimeoutMillis` options.
 *
 * ```ts
 * const pool = new Pool({ max: 10, min: 4 });
 * lifecycle.warmup('postgres-pool', postgresWarmup(pool, { connections: 4 }));
 * ```
 */
export function postgresWarmup(pool: Pool, options: PostgresWarmupOptions = {}): (signal: AbortSignal) => Promise<void> {
  assertPool('postgresWarmup(pool)', pool);
  const o = plainObject('postgresWarmup options', options);
  knownKeys('postgresWarmup', o, ['connections', 'retry']);
  const max = poolMax(pool);
  const connections = positiveInteger('postgresWarmup.connections', o.connections, POSTGRES_DEFAULTS.connections, max ?? 1_000_000);
  if (o.retry !== undefined && o.retry !== false && (typeof o.retry !== 'object' || o.retry === null)) {
    throw new InvalidOptionError('postgresWarmup.retry', o.retry, 'retry options ({ attempts, initialDelayMs, … }) or false');
  }

  const attempt = async (signal: AbortSignal): Promise<void> => {
    if (signal.aborted) throw signal.reason;
    const held: PoolClient[] = [];
    let done = false;
    const take = async (): Promise<PoolClient> => {
      const client = await pool.connect();
      if (done) {
        // This attempt already failed or was aborted: a client that arrives now goes straight back.
        client.release();
      } else {
        client.on('error', ignoreError);
        held.push(client);
      }
      return client;
    };
    let failure: unknown;
    try {
      // All at once: a client released before the next is taken would just be lent again, and the
      // pool would open one connection, not N. Promise.all fails fast and still observes the rest.
      await abortable(Promise.all(Array.from({ length: connections }, take)), signal);
      await abortable(Promise.all(held.map((client) => client.query('SELECT 1'))), signal);
    } catch (error) {
      failure = signal.aborted ? signal.reason : error;
    } finally {
      done = true;
    }
    for (const client of held.splice(0)) {
      client.off('error', ignoreError);
      // After a failure some clients may still be busy or broken: close them all rather than lend
      // a doubtful connection to the application.
      releaseClient(client, failure !== undefined);
    }
    // Connects still in flight settle later; take() releases their clients.
    if (failure !== undefined) throw failure;
  };
  const wrapped = (signal: AbortSignal) => attempt(signal);
  return o.retry === false ? wrapped : retry(wrapped, (o.retry as RetryOptions | undefined) ?? {});
}

// --- internals ------------------------------------------------------------------------------------

interface Waiter {
  give(client: PoolClient): void;
  fail(error: unknown): void;
}

/**
 * Borrows a pool client for a signal's lifetime, with at most one `pool.connect()` outstanding.
 * pg-pool cannot cancel a queued `connect()`; so instead of adding one per check run while the
 * pool is exhausted or the server is silent, every waiter shares the one in flight. A client that
 * arrives when no waiter is left is released at once: nothing leaks.
 */
function createBorrower(pool: Pool): (signal: AbortSignal) => Promise<PoolClient> {
  const waiters: Waiter[] = [];
  let connecting = false;

  const pump = () => {
    if (connecting || waiters.length === 0) return;
    connecting = true;
    pool.connect().then(
      (client) => {
        connecting = false;
        const waiter = waiters.shift();
        if (waiter) waiter.give(client);
        else client.release();
        pump();
      },
      (error: unknown) => {
        connecting = false;
        for (const waiter of waiters.splice(0)) waiter.fail(error);
      },
    );
  };

  return (signal) =>
    new Promise<PoolClient>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = () => {
        const index = waiters.indexOf(waiter);
        if (index !== -1) waiters.splice(index, 1);
        reject(signal.reason);
      };
      const waiter: Waiter = {
        give: (client) => (signal.removeEventListener('abort', onAbort), resolve(client)),
        fail: (error) => (signal.removeEventListener('abort', onAbort), reject(error)),
      };
      signal.addEventListener('abort', onAbort, { once: true });
      waiters.push(waiter);
      pump();
    });
}

/** Runs `fn` on a borrowed client, then gives the client back: to the pool if it is healthy, to be closed if not. */
async function useClient(client: PoolClient, signal: AbortSignal, fn: () => Promise<unknown>): Promise<void> {
  // While podkit holds the client nobody else listens to it, and an unheard 'error' would crash the process.
  client.on('error', ignoreError);
  let broken = false;
  try {
    await abortable(fn(), signal);
  } catch (error) {
    // An error the server sent (statement timeout, syntax, permission) leaves the connection
    // usable; a timeout mid-query or a dead socket does not: the client is busy or gone.
    broken = signal.aborted || !isServerError(error);
    throw signal.aborted ? signal.reason : error;
  } finally {
    client.off('error', ignoreError);
    releaseClient(client, broken);
  }
}

/** The client's own error is reported by the query or connect that failed; the event only needs a listener. */
function ignoreError(): void {}

/** Back to the pool; `destroy` makes the pool close the connection instead of lending it again. */
function releaseClient(client: PoolClient, destroy: boolean): void {
  client.release(destroy ? new Error('podkit: connection did not answer in time or failed; closing it') : undefined);
}

/** pg's DatabaseError: the server answered with an error, so the connection itself is fine. */
function isServerError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'severity' in error && typeof (error as { code?: unknown }).code === 'string';
}

function poolMax(pool: Pool): number | undefined {
  const max = (pool as { options?: { max?: unknown } }).options?.max;
  return typeof max === 'number' && Number.isInteger(max) && max > 0 ? max : undefined;
}

function assertPool(what: string, pool: unknown): void {
  const p = pool as { connect?: unknown; query?: unknown } | null;
  if (typeof p !== 'object' || p === null || typeof p.connect !== 'function' || typeof p.query !== 'function') {
    throw new InvalidOptionError(what, pool, 'a pg Pool');
  }
}
