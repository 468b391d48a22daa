import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidOptionError, TimeoutError, type CheckEvent, type Lifecycle } from '@podkit/lifecycle';
import { postgresCheck, postgresWarmup } from '@podkit/lifecycle/postgres';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { delay, waitFor } from '../support/http.js';
import { DATABASE_URL, probe, target, testLifecycle, untilProbe, via } from './helpers.js';

const cleanups: Array<() => unknown> = [];
const proxies: FaultProxy[] = [];
afterEach(async () => {
  // Proxies first: ending a pool waits for its connections to close, which a hung proxy never lets happen.
  for (const proxy of proxies.splice(0)) await proxy.stop();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const noop = () => {};

function pool(options: pg.PoolConfig = {}): pg.Pool {
  const p = new pg.Pool({ connectionString: DATABASE_URL, ...options });
  // An idle connection that dies makes the pool emit 'error'; without a listener that is a crash.
  p.on('error', noop);
  // Bounded: a test that failed may have left a client checked out, and end() would wait for it.
  cleanups.push(() => Promise.race([p.end().catch(noop), delay(2000)]));
  return p;
}

async function proxyToPostgres(): Promise<FaultProxy> {
  const proxy = await startFaultProxy(target(DATABASE_URL, 5432));
  proxies.push(proxy);
  return proxy;
}

/** Aborts after `ms` with podkit's TimeoutError, as the check runner does. */
function timeoutSignal(ms: number): AbortSignal {
  const controller = new AbortController();
  setTimeout(() => controller.abort(new TimeoutError('check "postgres"', ms)), ms).unref();
  return controller.signal;
}

describe('postgresWarmup', () => {
  it('opens N pool connections before ready: the pool holds N idle connections, the server sees N sessions', async () => {
    const applicationName = `podkit-test-${randomUUID().slice(0, 8)}`;
    const p = pool({ max: 5, application_name: applicationName });
    expect(p.totalCount).toBe(0);
    await postgresWarmup(p, { connections: 3 })(timeoutSignal(5000));
    expect(p.totalCount).toBe(3);
    expect(p.idleCount).toBe(3);
    const observer = new pg.Client({ connectionString: DATABASE_URL });
    await observer.connect();
    cleanups.push(() => observer.end());
    const { rows } = await observer.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
    expect(Number(rows[0]!.n)).toBe(3);
  });

  it('refuses more connections than the pool may open, naming the option', () => {
    const p = pool({ max: 2 });
    const error = (() => {
      try {
        postgresWarmup(p, { connections: 3 });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe('postgresWarmup.connections');
    expect((error as InvalidOptionError).value).toBe(3);
  });

  it('gives back every client that arrives after the warmup was aborted', async () => {
    const p = pool({ max: 2 });
    const appClient = await p.connect(); // the app holds one: the warmup's second client must wait
    const controller = new AbortController();
    const warming = postgresWarmup(p, { connections: 2, retry: false })(controller.signal);
    await delay(100);
    controller.abort(new TimeoutError('warmup "postgres"', 100));
    await expect(warming).rejects.toBeInstanceOf(TimeoutError);
    appClient.release();
    await waitFor(() => p.waitingCount === 0 && p.idleCount === p.totalCount);
    expect(p.totalCount).toBeGreaterThan(0);
  });
});

describe('postgresCheck', () => {
  it('passes with SELECT 1, and its statement timeout does not leak into the pool connection', async () => {
    const p = pool({ max: 1 });
    const { rows: before } = await p.query<{ statement_timeout: string }>('SHOW statement_timeout');
    await expect(postgresCheck(p, { statementTimeoutMs: 250 })(timeoutSignal(2000))).resolves.toBeUndefined();
    const { rows: after } = await p.query<{ statement_timeout: string }>('SHOW statement_timeout');
    expect(after[0]!.statement_timeout).toBe(before[0]!.statement_timeout);
    expect(after[0]!.statement_timeout).not.toBe('250ms');
  });

  it('runs its query under the statement timeout: a slow query is cancelled by the server, and the healthy connection is kept', async () => {
    const p = pool({ max: 1 });
    const check = postgresCheck(p, { query: 'SELECT pg_sleep(3)', statementTimeoutMs: 100 });
    const begun = performance.now();
    const error = await check(timeoutSignal(5000)).catch((e: unknown) => e);
    expect(performance.now() - begun).toBeLessThan(2000);
    expect((error as { code?: string }).code).toBe('57014'); // query_canceled: statement timeout
    expect(p.totalCount).toBe(1); // a server-side error leaves the connection usable
    expect((await p.query('SELECT 1 AS one')).rows[0]).toEqual({ one: 1 });
  });

  it('answers within its timeout when the app has every pool client checked out, queues at most one request, and leaks nothing', async () => {
    const p = pool({ max: 2 });
    const held = [await p.connect(), await p.connect()];
    const check = postgresCheck(p);
    for (let run = 0; run < 4; run += 1) {
      const begun = performance.now();
      await expect(check(timeoutSignal(200))).rejects.toBeInstanceOf(TimeoutError);
      expect(performance.now() - begun).toBeLessThan(200 + 300);
      expect(p.waitingCount).toBeLessThanOrEqual(1);
    }
    for (const client of held) client.release();
    // The client the timed-out runs were waiting for arrives now and goes straight back.
    await waitFor(() => p.waitingCount === 0 && p.idleCount === 2);
    await expect(check(timeoutSignal(2000))).resolves.toBeUndefined();
    expect(p.idleCount).toBe(p.totalCount);
  });
});

describe('Postgres failing behind a fault proxy', () => {
  let lifecycle: Lifecycle | undefined;
  afterEach(async () => {
    await lifecycle?.stop('test over');
    lifecycle = undefined;
  });

  it('times the check out against a server that accepts but never answers, while every probe still answers within milliseconds', async () => {
    const proxy = await proxyToPostgres();
    const p = pool({ connectionString: via(DATABASE_URL, proxy), max: 4 });
    lifecycle = testLifecycle();
    const events: CheckEvent[] = [];
    lifecycle.on('check', (event) => events.push(event));
    lifecycle.check('postgres', postgresCheck(p), { intervalMs: 100, timeoutMs: 400, failureThreshold: 2 });
    lifecycle.warmup('postgres-pool', postgresWarmup(p, { connections: 2 }));
    await lifecycle.start();
    await untilProbe(lifecycle, '/readyz', 200, 5000);

    const acceptedBefore = proxy.accepted;
    proxy.hang();
    const timings: number[] = [];
    const begun = performance.now();
    let readyz = 200;
    while (performance.now() - begun < 6000) {
      const live = await probe(lifecycle, '/livez');
      const ready = await probe(lifecycle, '/readyz');
      timings.push(live.ms, ready.ms);
      expect(live.status).toBe(200);
      readyz = ready.status;
      if (readyz === 503 && events.filter((e) => !e.ok).length >= 5) break;
      await delay(20);
    }
    expect(readyz).toBe(503);
    // Probes read the cached verdict: they never wait for the check (400 ms), and typically take
    // about a millisecond. The ceiling is generous because the machine is shared and noisy.
    timings.sort((a, b) => a - b);
    expect(timings[Math.floor(timings.length / 2)]).toBeLessThan(20);
    expect(timings.at(-1)).toBeLessThan(200);
    const failures = events.filter((e) => !e.ok);
    expect(failures.length).toBeGreaterThanOrEqual(5);
    for (const failure of failures) {
      expect(failure.error).toBeInstanceOf(TimeoutError);
      expect(failure.durationMs).toBeLessThan(400 + 200);
    }
    // The silent connections were closed rather than lent to the app, and later runs share one
    // connection attempt instead of opening one each.
    expect(p.totalCount).toBeLessThanOrEqual(1);
    expect(p.waitingCount).toBe(0);
    expect(proxy.accepted - acceptedBefore).toBeLessThanOrEqual(1);

    proxy.pass();
    await untilProbe(lifecycle, '/readyz', 200, 10_000);
  });
});
