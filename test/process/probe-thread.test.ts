/**
 * Probes off the main thread, in real processes: the probe worker answers while the main loop is
 * wedged, `/livez` follows the main loop's heartbeat (a wedged loop fails it, a busy one does not),
 * SIGTERM still turns readiness at once, and the worker never holds the process or its port open.
 * Measurements are printed as `[measure]` lines; the assertions are generous bounds.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { delay, get } from '../support/http.js';
import { cleanup, spawnFixture, type Fixture } from '../support/process.js';
import { isFixture, ms, output } from './helpers.js';

const HEARTBEAT_SERVICE = new URL('../fixtures/heartbeat-service.ts', import.meta.url);
const fixtures: Fixture[] = [];
afterEach(() => cleanup(fixtures));

async function start(env: Record<string, string> = {}): Promise<{ f: Fixture; mainPort: number; probePort: number }> {
  const f = spawnFixture(HEARTBEAT_SERVICE, env);
  fixtures.push(f);
  const line = await f.waitForLine(isFixture('listening'));
  return { f, mainPort: line.mainPort as number, probePort: line.probePort as number };
}

interface Sample {
  path: string;
  /** When the probe was sent, in ms after the wedge began (as the test saw it). */
  at: number;
  status: number | string;
  /** How long its answer took. */
  ms: number;
}

async function probe(port: number, path: string, since: number, timeoutMs = 2000): Promise<Sample> {
  const sentAt = performance.now();
  const status = await get(port, path, { timeoutMs }).then(
    (res) => res.status,
    (error: NodeJS.ErrnoException) => error.code ?? 'error',
  );
  return { path, at: sentAt - since, status, ms: performance.now() - sentAt };
}

describe('liveness from the main loop heartbeat, probes in the worker thread', () => {
  it('keeps answering /readyz within 200 ms while the main loop is wedged for 3 s; /livez turns 503 after the 1 s window and 200 after the wedge', async () => {
    const { f, mainPort, probePort } = await start({ HEARTBEAT_TIMEOUT_MS: '1000' });
    expect((await get(probePort, '/livez')).status).toBe(200);

    await get(mainPort, '/block?ms=3000');
    await f.waitForLine(isFixture('blocking'));
    const since = performance.now();
    const samples: Sample[] = [];
    let stalledBody: string | undefined;
    let unblockedAt: number | undefined;
    void f.waitForLine(isFixture('unblocked'), 15_000).then(() => (unblockedAt = performance.now()));
    // Through the wedge and one second past it.
    while (unblockedAt === undefined || performance.now() - unblockedAt < 1000) {
      samples.push(await probe(probePort, '/readyz', since), await probe(probePort, '/livez', since));
      if (stalledBody === undefined && samples.at(-1)!.status === 503) stalledBody = (await get(probePort, '/readyz?verbose')).body;
      await delay(50);
    }
    const blockedFor = unblockedAt - since;
    const readyz = samples.filter((s) => s.path === '/readyz');
    const livez = samples.filter((s) => s.path === '/livez');
    const slowest = Math.max(...samples.map((s) => s.ms));
    console.log(`[measure] probes answered during a ${ms(blockedFor)} wedge of the main loop: ${samples.length}, slowest ${ms(slowest)}`);
    const trace = JSON.stringify(samples.map((s) => [s.path, Math.round(s.at), s.status, Math.round(s.ms)]));

    // Every probe answered, and quickly, though the main loop ran no callback at all.
    expect(samples.every((s) => typeof s.status === 'number'), trace).toBe(true);
    // Generous for a shared, loaded machine: the kubelet's own timeout (timeoutSeconds: 1) is what matters;
    // a main-thread listener would take the whole 3 s wedge.
    expect(slowest, trace).toBeLessThan(800);
    expect(readyz.filter((s) => s.at < blockedFor).length, trace).toBeGreaterThanOrEqual(5);
    // Liveness: 200 inside the window, 503 once the heartbeat is older than it, 200 after.
    expect(livez.filter((s) => s.at < 500).every((s) => s.status === 200), trace).toBe(true);
    const firstStale = livez.find((s) => s.status === 503);
    expect(firstStale, trace).toBeDefined();
    expect(firstStale!.at, trace).toBeGreaterThan(600);
    expect(firstStale!.at, trace).toBeLessThan(blockedFor);
    console.log(`[measure] /livez 503 first seen ${ms(firstStale!.at)} into the wedge (window 1000 ms)`);
    expect(livez.at(-1)!.status, trace).toBe(200);
    // Readiness fails with it (a wedged loop serves nobody), saying why, and recovers with it.
    expect(stalledBody).toMatch(/\[-\]event-loop stalled: no heartbeat for \d+ ms \(liveness\.heartbeatTimeoutMs 1000\)/);
    expect(readyz.some((s) => s.status === 503 && s.at < blockedFor), trace).toBe(true);
    expect(readyz.at(-1)!.status, trace).toBe(200);

    f.kill('SIGTERM');
    expect((await f.exited).code, output(f)).toBe(0);
  });

  it('keeps /livez and /readyz at 200 while the main loop is saturated but turning', async () => {
    const { f, mainPort, probePort } = await start({ HEARTBEAT_TIMEOUT_MS: '1000' });
    await get(mainPort, '/spin?ms=3000');
    await f.waitForLine(isFixture('spinning'));
    const since = performance.now();
    const samples: Sample[] = [];
    while (performance.now() - since < 2800) {
      samples.push(await probe(probePort, '/livez', since), await probe(probePort, '/readyz', since));
      await delay(100);
    }
    const trace = JSON.stringify(samples.map((s) => [s.path, Math.round(s.at), s.status, Math.round(s.ms)]));
    expect(samples.length).toBeGreaterThanOrEqual(10);
    expect(samples.every((s) => s.status === 200), trace).toBe(true);
    await f.waitForLine(isFixture('spun'));
    f.kill('SIGTERM');
    expect((await f.exited).code, output(f)).toBe(0);
  });

  it('answers /readyz 503 at once on SIGTERM while the main loop is saturated', async () => {
    const { f, mainPort, probePort } = await start({ DRAIN_DELAY_MS: '1500' });
    await get(mainPort, '/spin?ms=5000');
    await f.waitForLine(isFixture('spinning'));
    expect((await get(probePort, '/readyz')).status).toBe(200);
    const killedAt = performance.now();
    f.kill('SIGTERM');
    let first503At: number | undefined;
    while (first503At === undefined && performance.now() - killedAt < 3000) {
      if ((await get(probePort, '/readyz', { timeoutMs: 1000 })).status === 503) first503At = performance.now();
    }
    expect(first503At).toBeDefined();
    console.log(`[measure] SIGTERM → /readyz 503 with the main loop saturated, seen by a client of the probe worker: ${ms(first503At! - killedAt)}`);
    expect(first503At! - killedAt).toBeLessThan(500);
    // Draining is not dying: liveness stays 200 through the drain delay.
    expect((await get(probePort, '/livez')).status).toBe(200);
    expect((await f.exited).code, output(f)).toBe(0);
  });
});

describe('the probe worker thread and the process', () => {
  it('exits 0 right after the shutdown, and the probe port is closed then', async () => {
    const { f, probePort } = await start();
    const killedAt = performance.now();
    f.kill('SIGTERM');
    const exit = await f.exited;
    expect(exit.code, output(f)).toBe(0);
    console.log(`[measure] SIGTERM → exit with the probe worker running, drainDelayMs 0: ${ms(exit.at - killedAt)}`);
    expect(exit.at - killedAt).toBeLessThan(2000);
    await expect(get(probePort, '/livez', { timeoutMs: 1000 })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('with exit: false, ends by itself once stop() resolves: the worker holds nothing open', async () => {
    const { f, mainPort, probePort } = await start({ EXIT: 'false' });
    await get(mainPort, '/stop');
    const stopped = await f.waitForLine(isFixture('stopped'));
    expect(stopped.code).toBe(0);
    const exit = await Promise.race([f.exited, delay(3000).then(() => undefined)]);
    expect(exit, `still running 3 s after stop() resolved:\n${output(f)}`).toBeDefined();
    expect(exit!.code).toBe(0);
    expect(exit!.at - stopped.at).toBeLessThan(3000);
    await expect(get(probePort, '/livez', { timeoutMs: 1000 })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('never keeps the process alive: with nothing else to do, a service with only probes ends', async () => {
    // With the preStop endpoint too: the worker's link to the main thread for it holds nothing open.
    for (const env of [{ MAIN: 'none' }, { MAIN: 'none', PRESTOP_TOKEN: 'prestop-token-0123456789' }] as Array<Record<string, string>>) {
      const { f } = await start(env);
      const exit = await Promise.race([f.exited, delay(3000).then(() => undefined)]);
      expect(exit, `${JSON.stringify(env)}: still running 3 s after start():\n${output(f)}`).toBeDefined();
      expect(exit!.code).toBe(0);
    }
  });

  it('(control) a main-thread listener does hold that process open, and does not answer while the loop is wedged', async () => {
    const { f, mainPort, probePort } = await start({ MAIN: 'none', PROBE_THREAD: 'main' });
    await delay(1500);
    expect(f.child.exitCode).toBeNull();
    expect((await get(probePort, '/livez')).status).toBe(200);
    f.kill('SIGTERM');
    expect((await f.exited).code).toBe(0);
    expect(mainPort).toBeUndefined();

    const wedged = await start({ PROBE_THREAD: 'main' });
    await get(wedged.mainPort, '/block?ms=2000');
    await wedged.f.waitForLine(isFixture('blocking'));
    const during = await probe(wedged.probePort, '/readyz', performance.now(), 1000);
    expect(during.status === 'ETIMEDOUT' || during.ms > 900, JSON.stringify(during)).toBe(true);
    wedged.f.kill('SIGTERM');
    expect((await wedged.f.exited).code).toBe(0);
  });
});
