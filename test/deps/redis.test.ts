import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { TimeoutError, type Lifecycle } from '@podkit/lifecycle';
import { redisCheck, redisWarmup, RedisNotReadyError } from '@podkit/lifecycle/redis';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { delay, waitFor } from '../support/http.js';
import { probe, REDIS_URL, startPrivateCluster, target, testLifecycle, untilProbe, via } from './helpers.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const noop = () => {};

function client(url = REDIS_URL, options: RedisOptions = {}): Redis {
  const redis = new Redis(url, { lazyConnect: true, ...options });
  redis.on('error', noop); // connection errors are expected in these tests; ioredis would log them
  cleanups.push(() => redis.disconnect());
  return redis;
}

async function proxyToRedis(): Promise<FaultProxy> {
  const proxy = await startFaultProxy(target(REDIS_URL, 6379));
  cleanups.push(() => proxy.stop());
  return proxy;
}

/** ioredis' own queues: commands waiting for a connection, and commands sent and not yet answered. */
function queues(redis: Redis): { offline: number; sent: number } {
  const internals = redis as unknown as { offlineQueue: { length: number }; commandQueue: { length: number } };
  return { offline: internals.offlineQueue.length, sent: internals.commandQueue.length };
}

const signal = (ms = 5000) => AbortSignal.timeout(ms);

describe('redisWarmup and redisCheck on a real Redis', () => {
  it('connects a lazyConnect client and PINGs it, after which the check passes', async () => {
    const redis = client();
    expect(redis.status).toBe('wait');
    await redisWarmup(redis)(signal());
    expect(redis.status).toBe('ready');
    await expect(redisCheck(redis)(signal())).resolves.toBeUndefined();
  });

  it('fails at once on a client that was never connected, without connecting it or queueing a command', async () => {
    const redis = client();
    const begun = performance.now();
    const error = await redisCheck(redis)(signal()).catch((e: unknown) => e);
    expect(performance.now() - begun).toBeLessThan(100);
    expect(error).toBeInstanceOf(RedisNotReadyError);
    expect((error as RedisNotReadyError).code).toBe('ERR_PODKIT_REDIS_NOT_READY');
    expect((error as RedisNotReadyError).kind).toBe('REDIS_NOT_READY');
    expect((error as Error).message).toMatch(/status "wait"/);
    await delay(50);
    expect(redis.status).toBe('wait'); // podkit opened no connection on its own
    expect(queues(redis).offline).toBe(0);
  });

  it('writes writeKey on every run, with a TTL so it expires', async () => {
    const redis = client();
    await redisWarmup(redis)(signal());
    const key = `podkit:test:${randomUUID()}`;
    cleanups.push(() => new Redis(REDIS_URL).del(key).then(noop));
    const before = Date.now();
    await redisCheck(redis, { writeKey: key, writeTtlMs: 30_000 })(signal());
    const verifier = new Redis(REDIS_URL);
    cleanups.push(() => verifier.disconnect());
    expect(Number(await verifier.get(key))).toBeGreaterThanOrEqual(before);
    const ttl = await verifier.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30_000);
  });

  it('waits for a client that reconnects on its own, failing and retrying each attempt until Redis is there', async () => {
    const proxy = await proxyToRedis();
    proxy.down();
    const redis = client(via(REDIS_URL, proxy), { lazyConnect: false });
    const retries: unknown[] = [];
    const warming = redisWarmup(redis, { retry: { attempts: 50, initialDelayMs: 50, maxDelayMs: 100, onRetry: (error) => retries.push(error) } })(signal(15_000));
    await waitFor(() => retries.length >= 3 && proxy.accepted >= 3);
    expect(redis.status).not.toBe('ready');
    proxy.pass();
    await warming;
    expect(redis.status).toBe('ready');
    await expect(redisCheck(redis)(signal())).resolves.toBeUndefined();
  });
});

describe('Redis failing behind a fault proxy', () => {
  let lifecycle: Lifecycle | undefined;
  afterEach(async () => {
    await lifecycle?.stop('test over');
    lifecycle = undefined;
  });

  it('turns readiness 503 within failureThreshold runs while /livez stays 200 throughout, and 200 again once Redis is back', async () => {
    const proxy = await proxyToRedis();
    const redis = client(via(REDIS_URL, proxy));
    const check = { intervalMs: 100, timeoutMs: 250, failureThreshold: 3 };
    lifecycle = testLifecycle();
    lifecycle.check('redis', redisCheck(redis), check);
    lifecycle.warmup('redis', redisWarmup(redis));
    await lifecycle.start();
    await untilProbe(lifecycle, '/readyz', 200, 5000);

    // Liveness is polled the whole time: a Redis outage must never restart the pod.
    const live: number[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        live.push((await probe(lifecycle!, '/livez')).status);
        await delay(25);
      }
    })();

    proxy.down();
    proxy.cut();
    const failedAfterMs = await untilProbe(lifecycle, '/readyz', 503, 10_000);
    // Each failing run ends at once (the client is not ready) or at its timeout; generous slack on top.
    expect(failedAfterMs).toBeLessThan(check.failureThreshold * (check.intervalMs + check.timeoutMs) + 2000);
    expect((await probe(lifecycle, '/readyz?verbose')).body).toMatch(/\[-\]redis/);
    await delay(300);
    // Runs against the disconnected client sent nothing: no command waits for the reconnect.
    expect(queues(redis).offline).toBe(0);

    proxy.pass();
    await untilProbe(lifecycle, '/readyz', 200, 15_000);
    polling = false;
    await poller;
    expect(live.length).toBeGreaterThan(10);
    expect(live.every((status) => status === 200)).toBe(true);
  });

  it('fails the check at its timeout against a Redis that accepts but never answers, with one PING outstanding however many runs time out', async () => {
    const proxy = await proxyToRedis();
    const redis = client(via(REDIS_URL, proxy));
    await redisWarmup(redis)(signal());
    const check = redisCheck(redis);
    proxy.hang();
    for (let run = 0; run < 4; run += 1) {
      const begun = performance.now();
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(new TimeoutError('check "redis"', 150)), 150);
      await expect(check(timeout.signal)).rejects.toBeInstanceOf(TimeoutError);
      clearTimeout(timer);
      expect(performance.now() - begun).toBeLessThan(150 + 250);
    }
    expect(queues(redis).sent).toBe(1);
    expect(queues(redis).offline).toBe(0);
    proxy.pass();
    await expect(check(signal())).resolves.toBeUndefined();
    expect(queues(redis).sent).toBe(0);
  });
});

describe('a Redis Cluster (three private redis-server masters)', () => {
  it('warms a lazyConnect Cluster, PINGs every master, writes through the cluster, and fails once a master dies', async () => {
    const cluster = await startPrivateCluster();
    cleanups.push(() => cluster.stop());
    const pings = () =>
      cluster.nodes.map((n) => {
        const stats = spawnSync('redis-cli', ['-p', String(n.port), 'info', 'commandstats'], { encoding: 'utf8' }).stdout;
        return Number(/cmdstat_ping:calls=(\d+)/.exec(stats)?.[1] ?? 0);
      });
    const client = new Cluster([{ host: '127.0.0.1', port: cluster.nodes[0]!.port }], { lazyConnect: true });
    client.on('error', noop);
    client.on('node error', noop);
    cleanups.push(() => client.disconnect());

    expect(client.status).toBe('wait');
    await redisWarmup(client)(signal(15_000));
    expect(client.status).toBe('ready');

    const key = `podkit:test:${randomUUID()}`;
    const check = redisCheck(client, { writeKey: key, writeTtlMs: 20_000 });
    const before = pings();
    await check(signal());
    const after = pings();
    after.forEach((calls, i) => expect(calls).toBeGreaterThan(before[i]!));
    expect(Number(await client.get(key))).toBeGreaterThan(0);
    expect(await client.pttl(key)).toBeGreaterThan(0);

    // A master without a replica dies: its slots are gone, and the check must say so. The cluster
    // notices within cluster-node-timeout (1 s here); the check then fails on every run.
    await cluster.nodes[2]!.stop();
    const pingOnly = redisCheck(client);
    const failure = () => pingOnly(signal(1000)).then(() => '', (e: unknown) => String(e));
    await waitFor(async () => /cluster_state:fail/.test(await failure()), { timeoutMs: 15_000, intervalMs: 200 });
    for (let run = 0; run < 3; run += 1) expect(await failure()).toMatch(/cluster_state:fail/);
  });
});
