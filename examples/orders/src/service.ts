/**
 * The orders service's lifecycle, the same on every framework:
 *   start:    probe port → main port → warmups (Postgres pool, Redis, schema, own routes) → ready
 *   SIGTERM:  /readyz 503 → drain delay (Connection: close) → stop accepting, finish in-flight
 *             requests → the framework adapter's hook, if any → close Redis, then Postgres → exit 0
 * What is left to each example: build the app, plug in podkit's adapter, and `lifecycle.start`.
 */
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { createJsonLogger, createLifecycle, type Lifecycle, type Logger } from '@podkit/lifecycle';
import { routeWarmup } from '@podkit/lifecycle/http';
import { postgresCheck, postgresWarmup } from '@podkit/lifecycle/postgres';
import { redisCheck, redisWarmup } from '@podkit/lifecycle/redis';
import { readConfig, type Config } from './config.js';
import { createOrdersStore, type OrdersStore } from './orders.js';

/** How long start-up waits for Redis before going on without the cache, in ms. */
const REDIS_WARMUP_MS = 3000;
/** While Redis is down every read would report it: at most one line per this many ms. */
const CACHE_ERROR_LOG_INTERVAL_MS = 10_000;

export interface OrdersServiceOptions {
  /** The example's own orders table, so several examples can share one database. */
  table: string;
  /**
   * Where podkit and the service log. Fastify passes its own pino logger, so that podkit's lines
   * and Fastify's share one JSON stream.
   * @default createJsonLogger() — JSON lines on stdout
   */
  logger?: Logger;
  /** @default readConfig(process.env) */
  config?: Config;
}

export interface OrdersService {
  config: Config;
  logger: Logger;
  /** Warmups, checks and shutdown hooks registered; not started. */
  lifecycle: Lifecycle;
  orders: OrdersStore;
}

/**
 * Creates the Postgres pool, the Redis client, the orders store and a lifecycle with their
 * warmups, checks and shutdown hooks. Nothing connects until `lifecycle.start`. Register the
 * framework's adapter after this call: shutdown hooks run in reverse order of registration, so
 * an adapter's hook (Fastify's `close()`) then runs before Redis and Postgres are closed.
 */
export function createOrdersService({ table, logger = createJsonLogger(), config = readConfig() }: OrdersServiceOptions): OrdersService {
  const pool = new Pool({ connectionString: config.databaseUrl, max: 10, connectionTimeoutMillis: 2000 });
  // An idle pooled connection that dies emits 'error' on the pool; unheard, it would crash the process.
  pool.on('error', (error) => logger.warn({ event: 'postgres', error: error.message }, 'an idle Postgres connection failed'));

  const redis = new Redis(config.redisUrl, {
    // Connected by the warmup below, so the first requests find a warm connection.
    lazyConnect: true,
    // A cache must fail fast: no queueing commands while disconnected, one retry, a short timeout.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 500,
  });
  let lastRedisError = '';
  redis.on('error', (error: Error) => {
    // ioredis reports every reconnect attempt; log each distinct failure once.
    if (error.message === lastRedisError) return;
    lastRedisError = error.message;
    logger.warn({ event: 'redis', error: error.message }, 'Redis error');
  });
  redis.on('ready', () => (lastRedisError = ''));

  // One line per interval while the cache is failing, with how many were skipped.
  let cacheErrorsSkipped = 0;
  let lastCacheErrorAt = 0;
  const orders = createOrdersStore({
    pool,
    redis,
    table,
    onCacheError: (error) => {
      if (Date.now() - lastCacheErrorAt < CACHE_ERROR_LOG_INTERVAL_MS) {
        cacheErrorsSkipped += 1;
        return;
      }
      logger.warn({ event: 'cache', error: String(error), skipped: cacheErrorsSkipped }, 'cache unavailable, reading from Postgres');
      lastCacheErrorAt = Date.now();
      cacheErrorsSkipped = 0;
    },
  });

  const lifecycle = createLifecycle({
    probes: { port: config.probePort, preStopToken: config.preStopToken },
    drainDelayMs: config.drainDelayMs,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    preStopSleepSeconds: config.preStopSleepSeconds,
    terminationGracePeriodSeconds: config.terminationGracePeriodSeconds,
    logger,
  });

  // Warmups run in order, after the main port opens and before /readyz says 200.
  lifecycle.warmup('postgres-pool', postgresWarmup(pool, { connections: 4 }));
  // Redis is only a cache: warm it when it is there, start without it when it is not (ioredis
  // keeps reconnecting in the background, and the check below reports the cache as degraded).
  const warmRedis = redisWarmup(redis, { retry: { attempts: 3 } });
  lifecycle.warmup('redis', async (signal) => {
    try {
      await warmRedis(AbortSignal.any([signal, AbortSignal.timeout(REDIS_WARMUP_MS)]));
    } catch (error) {
      if (signal.aborted) throw error; // shutdown began: stop warming
      logger.warn({ event: 'warmup', warmup: 'redis', error: String(error) }, 'Redis unavailable: starting without the cache');
    }
  });
  lifecycle.warmup('schema', () => orders.migrate());
  // Every example serves these routes; requesting them warms the whole stack of the framework.
  lifecycle.warmup('routes', routeWarmup(lifecycle, { paths: ['/orders?limit=1', '/work?ms=0'], times: 5 }));

  // Postgres holds the orders: without it the replica cannot serve, so it leaves rotation.
  lifecycle.check('postgres', postgresCheck(pool));
  // Redis is only a cache: reported as degraded, but a Redis outage must not empty every endpoint.
  lifecycle.check('redis', redisCheck(redis), { critical: false });

  // Run after the drain, in reverse order: Redis first, Postgres last.
  lifecycle.onShutdown('postgres', () => pool.end());
  lifecycle.onShutdown('redis', async () => {
    if (redis.status === 'ready') await redis.quit();
    else redis.disconnect();
  });

  return { config, logger, lifecycle, orders };
}
