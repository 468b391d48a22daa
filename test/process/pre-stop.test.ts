/**
 * Both preStop styles, with a real forked service and real signals:
 * - `preStop: sleep` (`preStopSleepSeconds`): after SIGTERM no second drain delay, only the
 *   keep-alive window, in which a kept-alive connection is told `Connection: close`;
 * - `preStop: httpGet` (`GET /prestopz` with the token): the call starts the drain (readiness 503,
 *   `Connection: close`) and is answered when the drain delay is over; the SIGTERM after it exits
 *   with no second delay; a call without the token starts nothing; a call no SIGTERM follows still
 *   ends in a clean exit. With the probe listener in its worker thread and on the main thread.
 */
import { Agent } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { get, waitFor } from '../support/http.js';
import { createTracker, indexOf, isState, ms, output } from './helpers.js';

const t = createTracker();
afterEach(() => t.cleanup());

const TOKEN = 'k8s-prestop-0123456789abcdef';
const bearer = { authorization: `Bearer ${TOKEN}` };

describe('a preStop sleep (preStopSleepSeconds)', () => {
  it('waits no second drain delay after SIGTERM: a keep-alive window of 1 s, in which a kept-alive connection gets Connection: close', async () => {
    const { f, mainPort } = await t.start({ DRAIN_DELAY_MS: '4000', PRESTOP_SLEEP_SECONDS: '4' });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const before = await get(mainPort, '/', { agent });
    expect(before.headers.connection).toBe('keep-alive');

    const killedAt = performance.now();
    f.kill('SIGTERM');
    await f.waitForLine((l) => l.event === 'drain' && l.keepAliveWindowMs !== undefined);
    // The same kept-alive connection, after SIGTERM: served, and told to go.
    const after = await get(mainPort, '/', { agent });
    expect(after.status).toBe(200);
    expect(after.headers.connection).toBe('close');
    const exit = await f.exited;
    agent.destroy();
    const took = exit.at - killedAt;
    console.log(`[measure] preStopSleepSeconds 4, drainDelayMs 4000: SIGTERM → exit ${ms(took)}`);
    expect(exit.code, output(f)).toBe(0);
    expect(f.lines.find((l) => l.event === 'drain')).toMatchObject({ drainDelayMs: 1000, keepAliveWindowMs: 1000, preStopSleepSeconds: 4 });
    // The keep-alive window, not the 4 s drain delay again.
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(3000);
  });
});

describe.each(['worker', 'main'] as const)('the preStop endpoint, probe listener in the %s thread', (thread) => {
  it('starts the drain at the call (readiness 503, Connection: close), answers when the drain delay is over, and the SIGTERM after it exits with no second delay', async () => {
    const { f, mainPort, probePort } = await t.start({ DRAIN_DELAY_MS: '1500', PRESTOP_TOKEN: TOKEN, PROBE_THREAD: thread });
    expect((await get(probePort, '/readyz')).status).toBe(200);

    const calledAt = performance.now();
    const call = get(probePort, '/prestopz', { headers: bearer }).then((res) => ({ ...res, at: performance.now() }));
    await f.waitForLine(isState('draining'));
    expect((await get(probePort, '/readyz')).status).toBe(503);
    const served = await get(mainPort, '/');
    expect(served.status).toBe(200);
    expect(served.headers.connection).toBe('close');

    const answered = await call;
    expect(answered.status).toBe(200);
    expect(answered.body).toBe('drain delay over\n');
    const delay = answered.at - calledAt;
    console.log(`[measure] preStop endpoint (${thread} thread), drainDelayMs 1500: call → answer ${ms(delay)}`);
    expect(delay).toBeGreaterThanOrEqual(1400);
    // Not stopping yet: the shutdown waits for SIGTERM.
    expect(indexOf(f.lines, isState('stopping'))).toBe(-1);

    const killedAt = performance.now();
    f.kill('SIGTERM');
    const exit = await f.exited;
    console.log(`[measure] preStop endpoint (${thread} thread): SIGTERM after the answer → exit ${ms(exit.at - killedAt)}`);
    expect(exit.code, output(f)).toBe(0);
    expect(exit.at - killedAt).toBeLessThan(1000);
    expect(f.lines.some((l) => l.event === 'signal' && l.signal === 'SIGTERM' && String(l.msg).includes('already under way'))).toBe(true);
  });

  it('starts nothing for a call without the token, with a wrong one, or by a method other than GET', async () => {
    const { f, probePort } = await t.start({ DRAIN_DELAY_MS: '1000', PRESTOP_TOKEN: TOKEN, PROBE_THREAD: thread });
    const none = await get(probePort, '/prestopz');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toContain('Bearer');
    expect((await get(probePort, '/prestopz', { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
    expect((await get(probePort, '/prestopz', { headers: { authorization: TOKEN } })).status).toBe(401);
    for (const method of ['POST', 'HEAD', 'PUT']) {
      const refused = await get(probePort, '/prestopz', { method, headers: bearer });
      expect(refused.status, method).toBe(405);
      expect(refused.headers.allow).toBe('GET');
    }
    expect((await get(probePort, '/readyz')).status).toBe(200);
    expect(f.lines.some((l) => l.event === 'state' && l.to === 'draining')).toBe(false);
    // Seen in the log (the first refusal; the rest within 10 s are counted into the next line), token not shown.
    const refusals = await waitFor(() => {
      const lines = f.lines.filter((l) => l.event === 'prestop');
      return lines.length > 0 ? lines : undefined;
    });
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({ level: 'warn', status: 401, method: 'GET' });
    expect(output(f)).not.toContain(TOKEN);
  });
});

describe('the preStop endpoint with a drain delay longer than probes.requestTimeoutMs (5 s)', () => {
  it('keeps the call open until the delay is over: the probe listener\'s timeouts are for receiving requests, not for this answer', async () => {
    const { f, probePort } = await t.start({ DRAIN_DELAY_MS: '6000', PRESTOP_TOKEN: TOKEN });
    const calledAt = performance.now();
    const answered = await get(probePort, '/prestopz', { headers: bearer, timeoutMs: 15_000 });
    expect(answered.status).toBe(200);
    expect(performance.now() - calledAt).toBeGreaterThanOrEqual(5900);
    f.kill('SIGTERM');
    expect((await f.exited).code, output(f)).toBe(0);
  });
});

describe('the preStop endpoint, when no SIGTERM follows the call', () => {
  it('shuts down by itself, exit 0, once it has waited 5 s for the signal', async () => {
    const { f, probePort } = await t.start({ DRAIN_DELAY_MS: '300', PRESTOP_TOKEN: TOKEN });
    const calledAt = performance.now();
    expect((await get(probePort, '/prestopz', { headers: bearer })).status).toBe(200);
    const exit = await f.exited;
    console.log(`[measure] preStop call with no SIGTERM after it → exit ${ms(exit.at - calledAt)}`);
    expect(exit.code, output(f)).toBe(0);
    expect(exit.at - calledAt).toBeGreaterThanOrEqual(5000);
    expect(exit.at - calledAt).toBeLessThan(9000);
    expect(f.lines.some((l) => l.event === 'drain' && String(l.msg).startsWith('no signal followed the preStop call'))).toBe(true);
  });

  it('answers 404 at /prestopz when no token is configured', async () => {
    const { probePort } = await t.start({});
    expect((await get(probePort, '/prestopz', { headers: bearer })).status).toBe(404);
    expect((await get(probePort, '/readyz')).status).toBe(200);
  });
});
