/**
 * The harness itself: the load generator counts each kind of failure as a client sees it, HAProxy's
 * drain state behaves like conntrack, and a rolling restart of a service without podkit does drop
 * requests — so a rolling-restart test that reports zero failures has proved something.
 */
import { createServer, Agent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { get } from '../support/http.js';
import { formatReport, freePort, runRollingRestart, startHaproxy, startLoad, startReplica, tsReplica, type Haproxy, type Replica } from './harness/index.js';

const servers: Server[] = [];
const haproxies: Haproxy[] = [];
const replicas: Replica[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => (s.closeAllConnections(), s.close(r)))));
  await Promise.all(haproxies.splice(0).map((h) => h.stop()));
  await Promise.all(replicas.splice(0).map((r) => r.kill()));
});

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

const fixture = (name: string) => new URL(`./fixtures/${name}.ts`, import.meta.url);

describe('the load generator', () => {
  it('counts each failure by what the client saw: status, reset, hang-up, truncated body, timeout', async () => {
    const port = await listen(
      createServer((req, res) => {
        switch (req.url) {
          case '/503':
            res.statusCode = 503;
            res.end('busy');
            return;
          case '/reset':
            req.socket.resetAndDestroy();
            return;
          case '/hangup':
            req.socket.destroy();
            return;
          case '/cut':
            res.writeHead(200, { 'content-length': '100' });
            res.write('only part of it');
            setTimeout(() => req.socket.destroy(), 10);
            return;
          case '/hang':
            return;
          default:
            res.end('ok');
        }
      }),
    );
    const summary = await startLoad({
      port,
      requests: ['ok', '503', 'reset', 'hangup', 'cut', 'hang'].map((name) => ({ name, path: `/${name}` })),
      // A slot for every request (so none is skipped however slowly a busy machine answers), and a
      // timeout no healthy answer comes near: only /hang may time out.
      concurrency: 90,
      ratePerSecond: 300,
      freshConnectionShare: 0.3,
      requestTimeoutMs: 2000,
      maxRequests: 90,
    }).done;

    const sent = (name: string) => summary.byRequest[name]!.sent;
    expect(summary.sent).toBe(90);
    expect(summary.skipped, 'every scheduled request was sent').toBe(0);
    expect(summary.byRequest.ok).toEqual({ sent: sent('ok'), ok: sent('ok'), failed: 0 });
    expect(summary.failures, JSON.stringify(summary.samples)).toEqual({
      status: sent('503'),
      reset: sent('reset'),
      refused: 0,
      hangup: sent('hangup'),
      truncated: sent('cut'),
      timeout: sent('hang'),
      other: 0,
    });
    expect(summary.statuses).toEqual({ 503: sent('503') });
    expect(summary.failed).toBe(summary.sent - sent('ok'));
    expect(summary.freshConnections.sent).toBeGreaterThan(0);
    expect(summary.keepAlive.reusedSocket).toBeGreaterThan(0);
  });

  it('counts a refused connection as refused', async () => {
    const summary = await startLoad({ port: await freePort(), requests: [{ name: 'any', path: '/' }], maxRequests: 10, ratePerSecond: 200 }).done;
    expect(summary.failures.refused).toBe(10);
    expect(summary.ok).toBe(0);
  });

  it('stops by itself at its time bound and keeps to the rate asked even when responses are slow', async () => {
    const port = await listen(createServer((_req, res) => setTimeout(() => res.end('ok'), 100)));
    const summary = await startLoad({ port, requests: [{ name: 'slow', path: '/' }], ratePerSecond: 100, concurrency: 32, maxDurationMs: 1000 }).done;
    // 100 req/s for 1 s, give or take a noisy machine.
    expect(summary.sent).toBeGreaterThan(60);
    expect(summary.sent).toBeLessThanOrEqual(101);
    expect(summary.failed).toBe(0);
  });
});

describe('HAProxy as a kube-proxy-like balancer (TCP)', () => {
  it('keeps an established connection flowing to a drained server while new connections go elsewhere', async () => {
    const haproxy = await startHaproxy({ mode: 'tcp' });
    haproxies.push(haproxy);
    const backend = (name: string) => listen(createServer((_req, res) => res.end(name)));
    await haproxy.addServer('a', { port: await backend('a') });
    await haproxy.addServer('b', { port: await backend('b') });

    // One keep-alive connection, pinned to whichever server it reached.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const pinned = (await get(haproxy.port, '/', { agent })).body;
    const other = pinned === 'a' ? 'b' : 'a';
    await haproxy.setState(pinned, 'drain');
    expect((await haproxy.servers()).find((s) => s.name === pinned)?.status).toBe('DRAIN');

    for (let i = 0; i < 5; i += 1) {
      expect((await get(haproxy.port, '/', { agent })).body).toBe(pinned);
      expect((await get(haproxy.port, '/')).body).toBe(other);
    }
    agent.destroy();
    expect(await haproxy.removeServer(pinned)).toBe(true);
    expect((await haproxy.servers()).map((s) => s.name)).toEqual([other]);
  });
});

describe('HAProxy as a health-checked balancer (HTTP)', () => {
  it('takes a replica out once its readiness URL answers 503 and puts it back when it passes', async () => {
    const haproxy = await startHaproxy({ mode: 'http', healthCheck: { path: '/readyz', intervalMs: 100, fall: 2, rise: 2 } });
    haproxies.push(haproxy);
    let ready = true;
    const port = await listen(createServer((req, res) => {
      res.statusCode = req.url === '/readyz' && !ready ? 503 : 200;
      res.end();
    }));
    await haproxy.addServer('a', { port });
    await haproxy.waitForServer('a', (s) => s.status === 'UP');
    ready = false;
    await haproxy.waitForServer('a', (s) => s.status.startsWith('DOWN'), 5000);
    expect((await get(haproxy.port, '/')).status).toBe(503);
    ready = true;
    await haproxy.waitForServer('a', (s) => s.status === 'UP', 5000);
    expect((await get(haproxy.port, '/')).status).toBe(200);
  });
});

describe('the replica manager', () => {
  it('starts a command on free ports, waits for its readiness URL, and reports its exit after SIGTERM', async () => {
    const replica = await startReplica(tsReplica('plain', fixture('podkit-service'), { env: { DRAIN_DELAY_MS: '300' }, readiness: { port: 'probe', path: '/readyz' } }));
    replicas.push(replica);
    expect((await get(replica.port, '/')).body).toBe('ok');
    const termination = await replica.terminate({ graceMs: 5000 });
    expect(termination).toMatchObject({ code: 0, signal: null, killed: false });
    expect(termination.elapsedMs).toBeGreaterThanOrEqual(300);
  });

  it('SIGKILLs a replica that outlives its grace period, and says so', async () => {
    const replica = await startReplica(tsReplica('stubborn', fixture('podkit-service'), { env: { DRAIN_DELAY_MS: '3000' } }));
    replicas.push(replica);
    const termination = await replica.terminate({ graceMs: 500 });
    expect(termination).toMatchObject({ code: null, signal: 'SIGKILL', killed: true });
  });
});

describe('a rolling restart of a service without podkit (negative control)', () => {
  it('counts the requests it drops behind a kube-proxy-like balancer', async () => {
    const report = await runRollingRestart({
      label: 'bare node:http',
      model: 'kube-proxy',
      replica: tsReplica('bare', fixture('bare-service')),
      rounds: 1,
      endpointLagMs: 1000,
      terminationGraceMs: 3000,
      steadyLoadMs: 500,
      load: {
        requests: [{ name: 'fast', path: '/', weight: 4 }, { name: 'slow', path: '/work?ms=200', weight: 1 }],
        ratePerSecond: 150,
        freshConnectionShare: 0.2,
        maxDurationMs: 30_000,
      },
    });
    console.log(formatReport(report));
    // New connections that reach it in the endpoint lag are refused, and idle keep-alive sockets
    // are closed under clients about to use them. (It may also never exit: `server.close()` waits
    // for keep-alive connections that conntrack keeps busy, until the grace period's SIGKILL.)
    expect(report.load.failed).toBeGreaterThan(0);
  });
});

describe('a rolling restart of podkit without a drain delay (negative control)', () => {
  it('counts the requests a health-checked balancer still sends before its checks notice', async () => {
    const report = await runRollingRestart({
      label: 'node:http + podkit, DRAIN_DELAY_MS=0',
      model: 'health-checked',
      replica: tsReplica('no-delay', fixture('podkit-service'), {
        // The listener closes at SIGTERM; a 1.5 s shutdown hook (a pool closing) keeps the process,
        // and so the server in HAProxy, around while its readiness checks catch up.
        env: { DRAIN_DELAY_MS: '0', HOOK_MS: '1500', SHUTDOWN_TIMEOUT_MS: '8000' },
        readiness: { port: 'probe', path: '/readyz' },
      }),
      rounds: 1,
      healthCheck: { intervalMs: 250, fall: 2, rise: 2 },
      terminationGraceMs: 10_000,
      steadyLoadMs: 500,
      load: { requests: [{ name: 'fast', path: '/', weight: 4 }, { name: 'slow', path: '/work?ms=200', weight: 1 }], ratePerSecond: 150, maxDurationMs: 30_000 },
    });
    console.log(formatReport(report));
    // Readiness said 503 at once, but the listener closed at once too: until HAProxy's `fall`
    // checks have failed, its requests to the replica are refused (503 from HAProxy, no retry).
    expect(report.load.failures.status).toBeGreaterThan(0);
    expect(report.load.statuses).toHaveProperty('503');
    expect(report.terminations.every((t) => t.code === 0)).toBe(true);
  });
});

describe('a rolling restart of a plain node:http service under podkit', () => {
  for (const model of ['kube-proxy', 'health-checked'] as const) {
    it(`drops no request behind a ${model} balancer, and every old replica exits 0 on its own`, async () => {
      const report = await runRollingRestart({
        label: 'node:http + podkit',
        model,
        replica: tsReplica('plain', fixture('podkit-service'), {
          env: { DRAIN_DELAY_MS: '1500', SHUTDOWN_TIMEOUT_MS: '8000' },
          readiness: { port: 'probe', path: '/readyz' },
        }),
        rounds: 1,
        endpointLagMs: 500,
        healthCheck: { intervalMs: 200, fall: 2, rise: 2 },
        terminationGraceMs: 10_000,
        steadyLoadMs: 500,
        load: {
          requests: [{ name: 'fast', path: '/', weight: 4 }, { name: 'slow', path: '/work?ms=200', weight: 1 }],
          ratePerSecond: 150,
          concurrency: 8,
          freshConnectionShare: 0.2,
          maxDurationMs: 30_000,
        },
      });
      console.log(formatReport(report));
      expect(report.load.samples).toEqual([]);
      expect(report.load.failed).toBe(0);
      for (const t of [...report.terminations, ...report.finalTerminations]) {
        expect(t).toMatchObject({ code: 0, killed: false });
        expect(t.elapsedMs).toBeGreaterThanOrEqual(1500);
      }
    });
  }
});
