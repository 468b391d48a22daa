/**
 * What the probe port answers in each state of a real, forked service: warming, ready, draining,
 * and failed after a warmup error. Liveness never depends on readiness.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { get, waitFor } from '../support/http.js';
import { createTracker, fetchOnce, indexOf, isFixture, isState, output } from './helpers.js';

const t = createTracker();
afterEach(() => t.cleanup());

async function probeStatuses(probePort: number) {
  const [livez, readyz, startupz] = await Promise.all(['/livez', '/readyz', '/startupz'].map((p) => get(probePort, p)));
  return { livez: livez!.status, readyz: readyz!.status, startupz: startupz!.status };
}

describe('the probe port of a forked service', () => {
  it('while a slow warmup runs: /livez 200, /startupz 503, /readyz 503', async () => {
    const f = t.spawn({ WARMUP_MS: '2000' });
    const { probePort } = await f.waitForLine(isFixture('probes'));
    expect(await probeStatuses(probePort as number)).toEqual({ livez: 200, readyz: 503, startupz: 503 });
    const readyz = await get(probePort as number, '/readyz?verbose');
    expect(readyz.body).toContain('[-]state warming');
    // Still warming: the answers above were not taken after the warmup happened to finish.
    expect(indexOf(f.lines, isState('ready'))).toBe(-1);

    await f.waitForLine(isFixture('listening'));
    expect(await probeStatuses(probePort as number)).toEqual({ livez: 200, readyz: 200, startupz: 200 });
  });

  it('once ready: /livez, /readyz and /startupz all 200, HEAD too, and 404 for an unknown path', async () => {
    const { probePort } = await t.start();
    expect(await probeStatuses(probePort)).toEqual({ livez: 200, readyz: 200, startupz: 200 });
    expect((await get(probePort, '/readyz', { method: 'HEAD' })).status).toBe(200);
    expect((await get(probePort, '/readyz', { method: 'POST' })).status).toBe(405);
    expect((await get(probePort, '/nope')).status).toBe(404);
  });

  it('while draining: /readyz 503, but /livez and /startupz stay 200 (draining is not dying)', async () => {
    const { f, probePort } = await t.start({ DRAIN_DELAY_MS: '2000' });
    f.kill('SIGTERM');
    await f.waitForLine(isState('draining'));
    expect(await probeStatuses(probePort)).toEqual({ livez: 200, readyz: 503, startupz: 200 });
    expect((await get(probePort, '/readyz?verbose')).body).toContain('[-]state draining');
    // Answered inside the drain delay, not after it.
    expect(indexOf(f.lines, isState('stopping'))).toBe(-1);
    expect((await f.exited).code).toBe(0);
  });

  it('after a failed warmup: /livez, /readyz and /startupz all 503 while the fast drain runs, then exit 75', async () => {
    const f = t.spawn({ WARMUP: 'fail', WARMUP_MS: '400', CRASH_TIMEOUT_MS: '5000' });
    const { probePort } = await f.waitForLine(isFixture('probes'));
    const { mainPort } = await f.waitForLine(isFixture('main'));
    // A request in flight on the (already open) main port keeps the fast drain going long
    // enough to look at the probes in the failed state.
    const slow = fetchOnce(mainPort as number, '/slow?ms=1500');
    await f.waitForLine(isState('failed'));
    expect(await probeStatuses(probePort as number)).toEqual({ livez: 503, readyz: 503, startupz: 503 });
    expect((await get(probePort as number, '/livez?verbose')).body).toContain('[-]state failed');
    expect((await slow).status).toBe(200);
    const exit = await f.exited;
    expect(exit.code, output(f)).toBe(75);
  });

  it('polls /readyz from 200 to 503 without a single refused connection while the service drains', async () => {
    const { f, probePort } = await t.start({ DRAIN_DELAY_MS: '1500' });
    const seen: number[] = [];
    // Poll like a kubelet (a fresh connection each time) until 500 ms into the 1500 ms drain delay.
    const polling = (async () => {
      for (let i = 0; i < 2000; i += 1) {
        const draining = f.lines.find(isState('draining'));
        if (draining && performance.now() - draining.at > 500) return;
        seen.push((await get(probePort, '/readyz')).status);
      }
    })();
    await waitFor(() => seen.length >= 5);
    f.kill('SIGTERM');
    await polling;
    // 200s, then 503s and never back; a refused or reset connection would have thrown.
    const first503 = seen.indexOf(503);
    expect(first503).toBeGreaterThan(0);
    expect(seen.slice(0, first503).every((s) => s === 200)).toBe(true);
    expect(seen.slice(first503).every((s) => s === 503)).toBe(true);
    expect(seen.length - first503).toBeGreaterThan(3);
    expect((await f.exited).code).toBe(0);
  });
});
