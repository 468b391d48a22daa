/**
 * The orders service on Express 5, run by podkit:
 *   start:    probe port → main port → warmups (Postgres pool, Redis, schema, own routes) → ready
 *   SIGTERM:  /readyz 503 → drain delay (Connection: close) → stop accepting, finish in-flight
 *             requests → close Redis, then Postgres → exit 0
 * `node dist/main.js` is PID 1 in the container: podkit's handlers are what make SIGTERM work.
 */
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { createJsonLogger, createLifecycle } from '@podkit/lifecycle';
import { routeWarmup } from '@podkit/lifecycle/http';
import { postgresCheck, postgresWarmup } from '@podkit/lifecycle/postgres';
import { redisCheck, redisWarmup } from '@podkit/lifecycle/redis';
import { createApp } from './app.js';
import { readConfig } from './config.js';
import { createOrdersStore } from './orders.js';

const config = readConfig();
/** How long start-up waits for Redis before going on without the cache, in ms. */
const REDIS_WARMUP_MS = 3000;
const logger = createJsonLogger();

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

// While Redis is down every read would report it: one line per 10 s, with how many were skipped.
let cacheErrorsSkipped = 0;
let lastCacheErrorAt = 0;
const orders = createOrdersStore(pool, redis, (error) => {
  if (Date.now() - lastCacheErrorAt < 10_000) {
    cacheErrorsSkipped += 1;
    return;
  }
  logger.warn({ event: 'cache', error: String(error), skipped: cacheErrorsSkipped }, 'cache unavailable, reading from Postgres');
  lastCacheErrorAt = Date.now();
  cacheErrorsSkipped = 0;
});

const lifecycle = createLifecycle({
  probes: { port: config.probePort },
  drainDelayMs: config.drainDelayMs,
  shutdownTimeoutMs: config.shutdownTimeoutMs,
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

const app = createApp(lifecycle, orders, logger);
await lifecycle.start(() => app.listen(config.port));
