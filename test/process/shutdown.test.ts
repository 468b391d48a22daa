/**
 * The shutdown sequence of a real, forked service receiving real signals: readiness 503 at once,
 * the drain delay with `Connection: close`, idle keep-alive sockets closed, in-flight requests
 * finished, exit 0 right after the last response; and 124 when a request will not finish.
 * Measurements are printed (console.log) for the README; the assertions are generous bounds.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { get, waitFor } from '../support/http.js';
import {
  closed,
  createTracker,
  fetchOnce,
  indexOf,
  isExit,
  isFixture,
  isState,
  lastIndexOf,
  ms,
  output,
  states,
} from './helpers.js';

const t = createTracker();
afterEach(() => t.cleanup());

describe('a forked service receiving SIGTERM', () => {
  it('answers 503 on /readyz in the tick SIGTERM arrives', async () => {
    const { f, probePort } = await t.start({ DRAIN_DELAY_MS: '1000' });
    let stopPolling = false;
    let first503At: number | undefined;
    const polling = (async () => {
      while (!stopPolling) {
        const { status } = await get(probePort, '/readyz');
        if (status === 503) {
          first503At = performance.now();
          return;
        }
      }
    })();
    await get(probePort, '/readyz');
    const killedAt = performance.now();
    f.kill('SIGTERM');
    // The fixture reads the probe answer from a SIGTERM listener added after podkit's: same emit, same tick.
    const tick = await f.waitForLine(isFixture('signal-tick'));
    expect(tick).toMatchObject({ signal: 'SIGTERM', readyz: 503, state: 'draining' });
    await Promise.race([polling, waitFor(() => first503At, { timeoutMs: 5000 })]);
    stopPolling = true;
    expect(first503At).toBeDefined();
    const latency = first503At! - killedAt;
    console.log(`[measure] SIGTERM → /readyz 503, observed by polling the probe port: ${ms(latency)}`);
    expect(latency).toBeLessThan(1000);
    // …and the main port is still open: the 503 did not wait for the drain delay to end.
    expect(indexOf(f.lines, isState('stopping'))).toBe(-1);
    expect((await f.exited).code).toBe(0);
  });

  it('keeps serving on the main port during the drain delay, with Connection: close on every response', async () => {
    const { f, mainPort } = await t.start({ DRAIN_DELAY_MS: '1500' });
    const agent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
    try {
      const before = await fetchOnce(mainPort, '/', { agent });
      expect(before.headers.connection).toBe('keep-alive');

      f.kill('SIGTERM');
      const draining = await f.waitForLine(isState('draining'));
      // The same keep-alive socket, reused during the drain delay: still served, and told to go.
      const during = await fetchOnce(mainPort, '/', { agent });
      expect(during.socket).toBe(before.socket);
      expect(during.status).toBe(200);
      expect(during.body).toBe('hello');
      expect(during.headers.connection).toBe('close');
      const socketClosedAt = await closed(during.socket);
      // A new keep-alive connection during the drain delay is served too (endpoints have not
      // caught up yet), and told to close as well.
      const freshAgent = new HttpAgent({ keepAlive: true });
      const fresh = await fetchOnce(mainPort, '/', { agent: freshAgent }).finally(() => freshAgent.destroy());
      expect(fresh.socket).not.toBe(before.socket);
      expect(fresh.status).toBe(200);
      expect(fresh.headers.connection).toBe('close');

      // All of it happened inside the drain delay: before the listener closed.
      const stopping = await f.waitForLine(isState('stopping'));
      expect(during.at).toBeGreaterThan(draining.at);
      expect(socketClosedAt).toBeLessThan(stopping.at);
      expect(fresh.at).toBeLessThan(stopping.at);
      // The listener stayed open for the drain delay (service clock): 1500 ms.
      expect(Date.parse(stopping.time as string) - Date.parse(draining.time as string)).toBeGreaterThanOrEqual(1400);
      expect((await f.exited).code).toBe(0);
    } finally {
      agent.destroy();
    }
  });

  it('exits at once with 50 idle keep-alive sockets open (no keep-alive timeout to wait out)', async () => {
    const { f, mainPort } = await t.start({ DRAIN_DELAY_MS: '0' });
    const agent = new HttpAgent({ keepAlive: true, maxSockets: 50, timeout: 60_000 });
    try {
      const responses = await Promise.all(Array.from({ length: 50 }, () => fetchOnce(mainPort, '/', { agent })));
      expect(responses.every((r) => r.status === 200 && r.headers.connection === 'keep-alive')).toBe(true);
      const sockets = new Set(responses.map((r) => r.socket));
      expect(sockets.size).toBe(50);
      await waitFor(() => Object.values(agent.freeSockets).flat().length === 50);

      const killedAt = performance.now();
      f.kill('SIGTERM');
      const exit = await f.exited;
      const took = exit.at - killedAt;
      console.log(`[measure] SIGTERM → exit with 50 idle keep-alive sockets (drainDelayMs 0): ${ms(took)}`);
      expect(exit.code, output(f)).toBe(0);
      // Node's keepAliveTimeout is 5 s: exiting well before it means podkit closed them.
      expect(took).toBeLessThan(2000);
    } finally {
      agent.destroy();
    }
  });

  it('finishes 20 in-flight slow requests with 200 before it exits 0, and exits right after the last one', async () => {
    const { f, mainPort } = await t.start({ DRAIN_DELAY_MS: '0' });
    // Keep-alive clients, so that `Connection: close` on the answers is the server's doing.
    const agent = new HttpAgent({ keepAlive: true, maxSockets: 20 });
    const pending = Array.from({ length: 20 }, () => fetchOnce(mainPort, '/slow?ms=1000', { agent }));
    await waitFor(() => f.lines.filter((l) => l.fixture === 'request' && l.path === '/slow').length === 20);
    f.kill('SIGTERM');
    const responses = await Promise.all(pending).finally(() => agent.destroy());
    const exit = await f.exited;

    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(responses.every((r) => r.body === 'slow done')).toBe(true);
    // They were in flight when the drain began: each one is told the connection closes.
    expect(responses.every((r) => r.headers.connection === 'close')).toBe(true);
    expect(exit.code, output(f)).toBe(0);

    const lastResponseAt = Math.max(...responses.map((r) => r.at));
    const afterLast = exit.at - lastResponseAt;
    console.log(`[measure] last in-flight response → process exit: ${ms(afterLast)}`);
    expect(afterLast).toBeGreaterThanOrEqual(0);
    expect(afterLast).toBeLessThan(1000);

    // Order in the service's own log: stopping, the 20 responses, stopped, exit.
    const lines = f.lines;
    const lastResponse = lastIndexOf(lines, (l) => l.fixture === 'response' && l.path === '/slow');
    expect(indexOf(lines, isState('stopping'))).toBeLessThan(indexOf(lines, (l) => l.fixture === 'response' && l.path === '/slow'));
    expect(lastResponse).toBeLessThan(indexOf(lines, isState('stopped')));
    expect(indexOf(lines, isState('stopped'))).toBeLessThan(indexOf(lines, isExit));
    expect(lines.find(isExit)).toMatchObject({ code: 0, kind: 'clean' });
  });

  it('cuts a stuck request and exits 124 soon after shutdownTimeoutMs, saying why in the termination message', async () => {
    const dir = t.tempDir();
    const messagePath = join(dir, 'termination-log');
    const { f, mainPort } = await t.start({ SHUTDOWN_TIMEOUT_MS: '1000', TERMINATION_MESSAGE_PATH: messagePath });
    const stuck = fetchOnce(mainPort, '/slow?ms=60000').then(
      () => 'answered',
      (error: NodeJS.ErrnoException) => error.code ?? error.message,
    );
    await f.waitForLine((l) => l.fixture === 'request' && l.path === '/slow');
    const killedAt = performance.now();
    f.kill('SIGTERM');
    const exit = await f.exited;
    const took = exit.at - killedAt;
    console.log(`[measure] SIGTERM → exit 124 with shutdownTimeoutMs 1000: ${ms(took)}`);
    expect(exit.code, output(f)).toBe(124);
    expect(took).toBeGreaterThanOrEqual(950);
    expect(took).toBeLessThan(3000);
    expect(await stuck).toBe('ECONNRESET');
    expect(readFileSync(messagePath, 'utf8')).toMatch(/^shutdown exceeded 1000 ms; 1 connection\(s\) cut; held by: requests in flight \(1\): GET \/slow .* \(exit 124\)\n$/);
    expect(f.lines.find(isExit)).toMatchObject({ code: 124, kind: 'shutdownTimeout' });
  });

  it('drains an HTTPS main server like an HTTP one: the in-flight request completes and the exit is 0', async () => {
    const dir = t.tempDir();
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
      { stdio: 'ignore' },
    );
    const ca = readFileSync(cert);
    const { f, mainPort } = await t.start({ TLS_KEY_FILE: key, TLS_CERT_FILE: cert, DRAIN_DELAY_MS: '0' });
    const agent = new HttpsAgent({ keepAlive: true, maxSockets: 4, ca });
    try {
      // An idle keep-alive TLS socket, and a request in flight.
      const idle = await fetchOnce(mainPort, '/', { ca, agent });
      expect(idle.headers.connection).toBe('keep-alive');
      // Its own keep-alive agent, so it does not reuse the idle socket.
      const inFlightAgent = new HttpsAgent({ keepAlive: true, ca });
      const inFlight = fetchOnce(mainPort, '/slow?ms=800', { ca, agent: inFlightAgent }).finally(() => inFlightAgent.destroy());
      await f.waitForLine((l) => l.fixture === 'request' && l.path === '/slow');
      f.kill('SIGTERM');
      const idleClosedAt = await closed(idle.socket);
      const response = await inFlight;
      const exit = await f.exited;
      expect(response.socket).not.toBe(idle.socket);
      expect(response.status).toBe(200);
      expect(response.body).toBe('slow done');
      expect(response.headers.connection).toBe('close');
      expect(exit.code, output(f)).toBe(0);
      // The idle socket was closed at once, not after the in-flight request.
      expect(idleClosedAt).toBeLessThan(response.at);
      console.log(`[measure] HTTPS: last in-flight response → process exit: ${ms(exit.at - response.at)}`);
      expect(exit.at - response.at).toBeLessThan(1000);
    } finally {
      agent.destroy();
    }
  });

  it('writes no termination message on a clean exit', async () => {
    const dir = t.tempDir();
    const messagePath = join(dir, 'termination-log');
    const { f } = await t.start({ TERMINATION_MESSAGE_PATH: messagePath });
    f.kill('SIGTERM');
    expect((await f.exited).code).toBe(0);
    expect(existsSync(messagePath)).toBe(false);
  });
});

/** The same sequence, whatever starts it. */
describe.each([
  { trigger: 'SIGTERM' as const },
  { trigger: 'SIGINT' as const },
  { trigger: 'stop()' as const },
])('shutdown started by $trigger', ({ trigger }) => {
  it('runs the whole sequence: readiness 503 at once, drain delay, in-flight finished, hooks in reverse, exit 0', async () => {
    const { f, mainPort, probePort } = await t.start({ DRAIN_DELAY_MS: '500', HOOKS: 'first,second' });
    const agent = new HttpAgent({ keepAlive: true });
    const inFlight = fetchOnce(mainPort, '/slow?ms=1200', { agent }).finally(() => agent.destroy());
    await f.waitForLine((l) => l.fixture === 'request' && l.path === '/slow');

    if (trigger === 'stop()') {
      expect((await fetchOnce(mainPort, '/stop')).status).toBe(200);
      expect(await f.waitForLine(isFixture('stop-called'))).toMatchObject({ readyz: 503, state: 'draining' });
    } else {
      f.kill(trigger);
      expect(await f.waitForLine(isFixture('signal-tick'))).toMatchObject({ signal: trigger, readyz: 503, state: 'draining' });
    }
    expect((await get(probePort, '/readyz')).status).toBe(503);
    const response = await inFlight;
    const exit = await f.exited;

    expect(response.status).toBe(200);
    expect(response.headers.connection).toBe('close');
    expect(exit.code, output(f)).toBe(0);
    expect(states(f.lines)).toEqual(['warming', 'ready', 'draining', 'stopping', 'stopped']);
    const draining = f.lines.find(isState('draining'))!;
    expect(draining.reason).toBe(trigger === 'stop()' ? 'stop() called by the app' : `${trigger} received`);
    const order = ['draining', 'stopping', 'response', 'second', 'first', 'stopped', 'exit'].map((what) =>
      indexOf(f.lines, (l) =>
        what === 'response' ? l.fixture === 'response' && l.path === '/slow'
        : what === 'exit' ? isExit(l)
        : what === 'first' || what === 'second' ? l.fixture === 'hook' && l.name === what
        : isState(what)(l),
      ),
    );
    expect(order.every((i) => i >= 0), output(f)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(f.lines.find(isExit)).toMatchObject({ code: 0, kind: 'clean' });
  });
});
