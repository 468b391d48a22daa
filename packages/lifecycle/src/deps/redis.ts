/**
 * `@podkit/lifecycle/redis`: a readiness check and a warmup for the user's own ioredis client
 * (`Redis` or `Cluster`). podkit opens no connection of its own: the warmup connects the client
 * it is given (a `lazyConnect` one included), the check only talks to it once it is connected.
 *
 * ioredis is an optional peer dependency: this module only imports its types, so loading it
 * never loads ioredis, and the core (`@podkit/lifecycle`) never loads this module.
 *
 * The offline queue: ioredis keeps commands sent while it is disconnected and replays them after
 * a reconnect (https://github.com/redis/ioredis#offline-queue). A PING sent to a disconnected
 * client would therefore wait for the reconnect instead of failing, and every check run would add
 * one more. So the check sends nothing unless the client is `ready` with a writable socket (a
 * disconnected client fails at once), and it never has more than one round of commands
 * outstanding: while the last round is still unanswered (a server that accepts but never replies)
 * later runs wait on that round instead of queueing new commands behind it.
 */
import type { Cluster, Redis } from 'ioredis';
import { InvalidOptionError, PodkitError } from '../errors.js';
import { durationMs, knownKeys, plainObject } from '../validate.js';
import { abortable } from '../timeout.js';
import { retry, type RetryOptions } from '../retry.js';

/** An ioredis client: a standalone `Redis` (sentinel-managed ones included) or a `Cluster`. */
export type RedisClient = Redis | Cluster;

export interface RedisCheckOptions {
  /**
   * Also write this key on every run (`SET key <epoch ms> PX writeTtlMs`), so a server that still
   * answers PING but refuses writes (a replica after a failover, `READONLY`; out of memory, `OOM`)
   * fails the check. With a Cluster the key's slot picks the node that is written.
   * @default undefined (PING only)
   */
  writeKey?: string;
  /** Time to live of the written key, so the check leaves nothing behind, in ms. @default 60000 */
  writeTtlMs?: number;
}

export interface RedisWarmupOptions {
  /**
   * Retry a failed attempt with exponential backoff (see `retry()` in `@podkit/lifecycle`), or
   * `false` to fail the warmup at the first failure. The warmup's own timeout bounds it either way.
   * @default { attempts: 5, initialDelayMs: 200, maxDelayMs: 5000, factor: 2 }
   */
  retry?: RetryOptions | false;
}

/** Every default of this module, in one place. */
export const REDIS_DEFAULTS = { writeTtlMs: 60_000 } as const;

/** A failure the check or warmup detected itself (`ERR_PODKIT_REDIS_NOT_READY`); `kind` (`REDIS_NOT_READY`) is what probes show as the error's kind. */
export class RedisNotReadyError extends PodkitError {
  readonly kind = 'REDIS_NOT_READY';
  /** The client's (or cluster node's) ioredis status when the check ran. */
  readonly status: string;

  constructor(message: string, status: string) {
    super('ERR_PODKIT_REDIS_NOT_READY', message);
    this.name = 'RedisNotReadyError';
    this.status = status;
  }
}

/**
 * A readiness check: PING (and, with `writeKey`, a write) on the user's client. Fails at once when
 * the client is not connected, instead of queueing commands that would wait for a reconnect.
 * With a `Cluster`, the cluster must be `ready`, every master known to the client must answer PING
 * and report `cluster_state:ok` (CLUSTER INFO), so a master that is down fails the check as soon as
 * the cluster itself notices (cluster-node-timeout).
 *
 * ```ts
 * lifecycle.check('redis', redisCheck(redis, { writeKey: 'podkit:health' }));
 * ```
 */
export function redisCheck(client: RedisClient, options: RedisCheckOptions = {}): (signal: AbortSignal) => Promise<void> {
  assertClient('redisCheck(client)', client);
  const o = plainObject('redisCheck options', options);
  knownKeys('redisCheck', o, ['writeKey', 'writeTtlMs']);
  if (o.writeKey !== undefined && (typeof o.writeKey !== 'string' || o.writeKey === '')) {
    throw new InvalidOptionError('redisCheck.writeKey', o.writeKey, 'a non-empty key name');
  }
  const write = o.writeKey === undefined ? undefined : { key: o.writeKey as string, ttlMs: durationMs('redisCheck.writeTtlMs', o.writeTtlMs, REDIS_DEFAULTS.writeTtlMs, { min: 1 }) };
  if (o.writeKey === undefined && o.writeTtlMs !== undefined) {
    throw new InvalidOptionError('redisCheck.writeTtlMs', o.writeTtlMs, 'to be set only together with writeKey');
  }

  let outstanding: Promise<void> | undefined;
  return (signal) => {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (!outstanding) {
      const round = runRound(client, write);
      outstanding = round;
      const settle = () => {
        if (outstanding === round) outstanding = undefined;
      };
      round.then(settle, settle);
    }
    return abortable(outstanding, signal);
  };
}

/**
 * A warmup: connects the user's client if it is not connected yet (`lazyConnect`, or after
 * `disconnect()`), waits for it to be `ready` if it is connecting on its own, then PINGs it
 * (with a Cluster: every master). Retried with backoff unless `retry: false`.
 *
 * ```ts
 * const redis = new Redis(url, { lazyConnect: true });
 * lifecycle.warmup('redis', redisWarmup(redis));
 * ```
 */
export function redisWarmup(client: RedisClient, options: RedisWarmupOptions = {}): (signal: AbortSignal) => Promise<void> {
  assertClient('redisWarmup(client)', client);
  const o = plainObject('redisWarmup options', options);
  knownKeys('redisWarmup', o, ['retry']);
  if (o.retry !== undefined && o.retry !== false && (typeof o.retry !== 'object' || o.retry === null)) {
    throw new InvalidOptionError('redisWarmup.retry', o.retry, 'retry options ({ attempts, initialDelayMs, … }) or false');
  }
  const attempt = async (signal: AbortSignal): Promise<void> => {
    await connected(client, signal);
    await abortable(runRound(client, undefined), signal);
  };
  return o.retry === false ? attempt : retry(attempt, (o.retry as RetryOptions | undefined) ?? {});
}

// --- internals ------------------------------------------------------------------------------------

type Node = Redis;

/** One round of commands. Throws at once (without sending anything) when a client is not connected. */
async function runRound(client: RedisClient, write: { key: string; ttlMs: number } | undefined): Promise<void> {
  if (client.isCluster) {
    const cluster = client as Cluster;
    if (cluster.status !== 'ready') throw notReady('the Redis cluster client', cluster.status);
    const masters = cluster.nodes('master');
    if (masters.length === 0) throw new RedisNotReadyError('the Redis cluster client knows no master node', cluster.status);
    // Nodes the cluster client has not used yet are still 'wait' (it connects them lazily, with its
    // own offline queue and no reconnection): a command connects them, and fails if they are down.
    for (const node of masters) {
      if (node.status !== 'ready' && node.status !== 'wait') throw notReady(`Redis cluster node ${nodeName(node)}`, node.status);
    }
    const commands: Promise<unknown>[] = [];
    for (const node of masters) {
      commands.push(node.ping());
      commands.push(
        node.cluster('INFO').then((info) => {
          const state = /cluster_state:(\w+)/.exec(String(info))?.[1];
          if (state !== 'ok') throw new RedisNotReadyError(`Redis cluster node ${nodeName(node)} reports cluster_state:${state ?? 'unknown'}`, node.status);
        }),
      );
    }
    if (write) commands.push(cluster.set(write.key, String(Date.now()), 'PX', write.ttlMs));
    await settleAll(commands);
    return;
  }
  const redis = client as Redis;
  // Status 'ready' alone is not enough: between a socket's end and ioredis noticing it, commands
  // still go to the offline queue; a writable socket means they go on the wire.
  if (redis.status !== 'ready' || !redis.stream?.writable) throw notReady('the Redis client', redis.status);
  // Both commands are sent in this tick, while the socket is known to be writable.
  const commands: Promise<unknown>[] = [redis.ping()];
  if (write) commands.push(redis.set(write.key, String(Date.now()), 'PX', write.ttlMs));
  await settleAll(commands);
}

/** Like Promise.all, but waits for every command so none rejects later unobserved. */
async function settleAll(commands: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(commands);
  for (const result of results) if (result.status === 'rejected') throw result.reason;
}

/** Resolves once the client is `ready`: connects it if nobody else will, otherwise waits for ioredis' own (re)connection. */
async function connected(client: RedisClient, signal: AbortSignal): Promise<void> {
  if (client.status === 'ready') return;
  let lastError: unknown;
  const onError = (error: unknown) => {
    lastError = error;
  };
  // Remembered so that a failed attempt reports ECONNREFUSED (or whatever it was), not ioredis'
  // generic "Connection is closed.".
  client.on('error', onError);
  client.on('node error', onError);
  try {
    if (client.status === 'wait' || client.status === 'end') {
      // Nobody is connecting this client (lazyConnect, a disconnect(), or a cluster that gave up):
      // connecting it is what this warmup is for.
      try {
        await abortable(client.connect(), signal);
      } catch (error) {
        throw signal.aborted ? signal.reason : (lastError ?? error);
      }
      return;
    }
    // connecting, connect, reconnecting, close, disconnecting: ioredis is on it; one attempt is one
    // connection attempt of ioredis, so a failed one fails this attempt and retry() paces the next.
    await new Promise<void>((resolve, reject) => {
      const events = ['ready', 'close', 'end'] as const;
      const cleanup = () => {
        for (const event of events) client.off(event, handlers[event]);
        signal.removeEventListener('abort', onAbort);
      };
      const handlers = {
        ready: () => (cleanup(), resolve()),
        close: () => (cleanup(), reject(lastError ?? new RedisNotReadyError('the Redis connection closed before it was ready', client.status))),
        end: () => (cleanup(), reject(lastError ?? new RedisNotReadyError('the Redis client stopped reconnecting', client.status))),
      };
      const onAbort = () => (cleanup(), reject(signal.reason));
      for (const event of events) client.once(event, handlers[event]);
      signal.addEventListener('abort', onAbort, { once: true });
      if (client.status === 'ready') handlers.ready();
    });
  } finally {
    client.off('error', onError);
    client.off('node error', onError);
  }
}

function notReady(what: string, status: string): RedisNotReadyError {
  const hint = status === 'wait' ? ' (lazyConnect: connect it first, e.g. with redisWarmup)' : '';
  return new RedisNotReadyError(`${what} is not connected (status "${status}")${hint}; not sending commands that would wait in the offline queue`, status);
}

function nodeName(node: Node): string {
  const { host, port } = node.options;
  return `${host ?? 'localhost'}:${port ?? 6379}`;
}

function assertClient(what: string, client: unknown): void {
  const c = client as { status?: unknown; ping?: unknown; connect?: unknown } | null;
  if (typeof c !== 'object' || c === null || typeof c.status !== 'string' || typeof c.ping !== 'function' || typeof c.connect !== 'function') {
    throw new InvalidOptionError(what, client, 'an ioredis Redis or Cluster client');
  }
}
