/**
 * The adapter suite: one set of behaviours, run against every framework podkit adapts (like
 * http-terminator's createTests). Each test forks a fixture service (fixtures/*-service.ts) with
 * real signals and real sockets; `AdapterUnderTest` says which fixture and which major version.
 */
import { Agent } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { delay, get, waitFor } from '../support/http.js';
import { cleanup, spawnFixture, type Fixture, type LogLine } from '../support/process.js';
import { keepAliveGet, openRaw, type Outcome } from './clients.js';

export interface AdapterUnderTest {
  /** express4, express5, fastify4, fastify5. */
  name: string;
  fixture: URL;
  /** Env that selects the framework's major version in the fixture. */
  env: Record<string, string>;
}

export const ADAPTERS = {
  express4: { name: 'express4', fixture: new URL('./fixtures/express-service.ts', import.meta.url), env: { EXPRESS_MAJOR: '4' } },
  express5: { name: 'express5', fixture: new URL('./fixtures/express-service.ts', import.meta.url), env: { EXPRESS_MAJOR: '5' } },
  fastify4: { name: 'fastify4', fixture: new URL('./fixtures/fastify-service.ts', import.meta.url), env: { FASTIFY_MAJOR: '4' } },
  fastify5: { name: 'fastify5', fixture: new URL('./fixtures/fastify-service.ts', import.meta.url), env: { FASTIFY_MAJOR: '5' } },
} satisfies Record<string, AdapterUnderTest>;

export interface Service {
  f: Fixture;
  mainPort: number;
  probePort: number;
}

export const isState = (to: string) => (l: LogLine) => l.event === 'state' && l.to === to;
export const isNote = (name: string) => (l: LogLine) => l.fixture === name;
export const isExit = (l: LogLine) => l.event === 'exit';

/** Position of the first line matching, for asserting the order things happened in. */
export function position(f: Fixture, match: (l: LogLine) => boolean): number {
  const index = f.lines.findIndex(match);
  if (index === -1) throw new Error(`no such line; output:\n${[...f.lines.map((l) => JSON.stringify(l)), ...f.text].join('\n')}`);
  return index;
}

/** Forks the adapter's fixture with `env` and waits until it is ready; `onFinished` is given the function that kills it. */
export async function startService(
  adapter: AdapterUnderTest,
  env: Record<string, string>,
  onFinished: (fn: () => Promise<void>) => void,
): Promise<Service> {
  const f = spawnFixture(adapter.fixture, { ...adapter.env, ...env });
  onFinished(() => cleanup([f]));
  const line = await f.waitForLine(isNote('listening'));
  if (line.framework !== adapter.name) throw new Error(`expected ${adapter.name}, the fixture runs ${String(line.framework)}`);
  // Ready means warm and every critical check passed once.
  await waitFor(async () => (await get(line.probePort as number, '/readyz')).status === 200);
  return { f, mainPort: line.mainPort as number, probePort: line.probePort as number };
}

/** For sequential tests: `start(env)` forks the adapter's fixture; whatever is left is killed after each test. */
export function useServices(adapter: AdapterUnderTest) {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((fn) => fn()));
  });
  return (env: Record<string, string> = {}): Promise<Service> => startService(adapter, env, (fn) => cleanups.push(fn));
}

/** The listener is closed once a new connection is refused. */
async function waitUntilRefused(port: number): Promise<void> {
  await waitFor(
    () =>
      get(port, '/', { timeoutMs: 1000 }).then(
        () => false,
        (error: NodeJS.ErrnoException) => error.code === 'ECONNREFUSED',
      ),
    { timeoutMs: 5000, intervalMs: 10 },
  );
}

export function describeAdapter(adapter: AdapterUnderTest): void {
  describe(`${adapter.name}: probes`, () => {
    const start = useServices(adapter);

    it('answers /livez, /readyz and /startupz on the probe port and leaves those paths to the app on its own port', async () => {
      const { mainPort, probePort } = await start();
      for (const path of ['/livez', '/readyz', '/startupz', '/readyz/always']) {
        expect((await get(probePort, path)).status, path).toBe(200);
      }
      expect((await get(mainPort, '/livez')).body).toBe("the app's own /livez");
      expect((await get(mainPort, '/readyz')).status).toBe(404);
    });

    it('answers the probe routes on the app port under the prefix, as the probe port does, and passes every other path to the app', async () => {
      const { mainPort, probePort } = await start({ PROBE_ROUTES: '/health' });
      const app = (path: string, options?: Parameters<typeof get>[2]) => get(mainPort, path, options);

      const livez = await app('/health/livez');
      expect(livez.status).toBe(200);
      expect(livez.body).toBe('ok\n');
      expect(livez.headers['cache-control']).toBe('no-store');
      const verbose = await app('/health/readyz?verbose');
      expect(verbose.status).toBe(200);
      expect(verbose.body).toBe((await get(probePort, '/readyz?verbose')).body);
      expect(verbose.body).toContain('[+]always ok');
      expect((await app('/health/readyz/always')).status).toBe(200);
      expect((await app('/health/readyz/nonexistent')).status).toBe(404);
      expect((await app('/health/startupz')).status).toBe(200);
      const json = await app('/health/readyz', { headers: { accept: 'application/json' } });
      expect(JSON.parse(json.body)).toMatchObject({ status: 'pass', state: 'ready' });
      const head = await app('/health/startupz', { method: 'HEAD' });
      expect([head.status, head.body]).toEqual([200, '']);
      const post = await app('/health/livez', { method: 'POST' });
      expect([post.status, post.headers.allow]).toEqual([405, 'GET, HEAD']);
      expect((await app('/health/metrics')).body).toContain('podkit_ready 1');
      // Outside the prefix the paths are the app's.
      expect((await app('/livez')).body).toBe("the app's own /livez");
      expect((await app('/')).body).toBe('hello');
    });

    it('answers OPTIONS and every other method on a probe route with 405 and Allow: GET, HEAD, as the probe port does', async () => {
      const { mainPort, probePort } = await start({ PROBE_ROUTES: '/health' });
      for (const method of ['OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE', 'TRACE']) {
        for (const path of ['/livez', '/readyz', '/readyz/always', '/startupz', '/metrics']) {
          const onProbePort = await get(probePort, path, { method });
          const onAppPort = await get(mainPort, `/health${path}`, { method });
          expect([onProbePort.status, onProbePort.headers.allow], `${method} ${path} on the probe port`).toEqual([405, 'GET, HEAD']);
          expect([onAppPort.status, onAppPort.headers.allow, onAppPort.body], `${method} /health${path} on the app port`).toEqual([405, 'GET, HEAD', onProbePort.body]);
        }
      }
    });
  });

  describe(`${adapter.name}: SIGTERM`, () => {
    const start = useServices(adapter);

    it('lets a request in flight finish with 200, then exits 0', async () => {
      const { f, mainPort } = await start();
      const slow = get(mainPort, '/slow?ms=600');
      await f.waitForLine(isNote('slow-started'));
      f.kill('SIGTERM');
      const response = await slow;
      const answeredAt = performance.now();
      expect([response.status, response.body]).toEqual([200, 'slow done']);
      const exit = await f.exited;
      expect(exit.code).toBe(0);
      expect(exit.at).toBeGreaterThan(answeredAt);
      expect(position(f, isNote('slow-finished'))).toBeLessThan(position(f, isExit));
    });

    it('answers with Connection: close on a kept-alive connection during the drain delay, while readiness says 503', async () => {
      const { f, mainPort, probePort } = await start({ DRAIN_DELAY_MS: '1000', PROBE_ROUTES: '/' });
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const before = await keepAliveGet(mainPort, agent, '/', 'before');
        expect(before).toMatchObject({ kind: 'ok', status: 200, connection: 'keep-alive' });

        f.kill('SIGTERM');
        await f.waitForLine(isState('draining'));
        expect((await get(probePort, '/readyz')).status).toBe(503);
        const during = await keepAliveGet(mainPort, agent, '/', 'during');
        // The same connection, still served, now told to close.
        expect(during).toMatchObject({ kind: 'ok', status: 200, connection: 'close', reused: true });
        // The app port's own readiness route agrees with the probe port.
        expect((await get(mainPort, '/readyz')).status).toBe(503);

        expect((await f.exited).code).toBe(0);
        // Served during the delay, not after it.
        expect(position(f, (l) => l.fixture === 'received' && l.id === 'during')).toBeLessThan(position(f, isState('stopping')));
      } finally {
        agent.destroy();
      }
    });

    it('drops no request of a keep-alive client sending back to back through SIGTERM: 2xx, then a clean refusal', async () => {
      const { f, mainPort } = await start({ DRAIN_DELAY_MS: '300' });
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const outcomes: Outcome[] = [];
      try {
        const deadline = performance.now() + 8000;
        for (let i = 0; performance.now() < deadline; i += 1) {
          if (i === 20) f.kill('SIGTERM');
          const outcome = await keepAliveGet(mainPort, agent, '/', String(i));
          outcomes.push(outcome);
          if (outcome.kind === 'error' && outcome.code === 'ECONNREFUSED') break;
        }
      } finally {
        agent.destroy();
      }
      expect((await f.exited).code).toBe(0);

      const received = new Set(f.lines.filter(isNote('received')).map((l) => l.id as string));
      const summary = () => JSON.stringify(outcomes.filter((o) => o.kind !== 'ok' || o.connection === 'close'));
      // Every request that reached the app was answered in full with a 2xx.
      for (const id of received) {
        expect(outcomes.find((o) => o.id === id), `request ${id}: ${summary()}`).toMatchObject({ kind: 'ok', status: 200 });
      }
      // Every answer was a 2xx; keep-alive clients were told to close during the drain.
      expect(outcomes.filter((o) => o.kind === 'ok' && o.status !== 200)).toEqual([]);
      expect(outcomes.some((o) => o.kind === 'ok' && o.connection === 'close'), summary()).toBe(true);
      // The only failures: a new connection refused once the listener closed, or (kernel backlog
      // race) a connection dropped before the app ever saw its request.
      const failures = outcomes.filter((o) => o.kind === 'error');
      for (const failure of failures) expect(received.has(failure.id), summary()).toBe(false);
      expect(outcomes.at(-1), summary()).toMatchObject({ kind: 'error', code: 'ECONNREFUSED' });
      expect(outcomes.length).toBeGreaterThan(21);
    });

    it('finishes a request that arrives on a kept-alive connection after the listener closed, answering it with Connection: close', async () => {
      const { f, mainPort } = await start({ DRAIN_DELAY_MS: '100' });
      const connection = await openRaw(mainPort);
      // A response whose headers left before SIGTERM (so without Connection: close) keeps the
      // connection open past the listener's close.
      connection.send('/stream?ms=1000');
      await waitFor(() => connection.received().includes('start'));
      f.kill('SIGTERM');
      await f.waitForLine(isState('stopping'));
      await waitUntilRefused(mainPort);
      connection.send('/', { 'x-request-id': 'late' });

      const [stream, late] = await connection.responses(2);
      expect([stream?.status, stream?.body]).toEqual([200, 'start\nend\n']);
      expect(late?.status).toBe(200);
      expect(late?.body).toBe('hello');
      expect(late?.headers.connection).toBe('close');
      expect(await connection.closed).toMatchObject({ clean: true });
      expect((await f.exited).code).toBe(0);
    });

    it('finishes a request whose first bytes arrived on a kept-alive connection before the listener closed', async () => {
      const { f, mainPort } = await start();
      const connection = await openRaw(mainPort);
      connection.send('/');
      await connection.responses(1);
      // Half a request: the client is mid-request when SIGTERM closes the listener.
      connection.write('GET / HTTP/1.1\r\nHost: podkit.test\r\nx-request-id: straddling\r\n');
      // Give the service time to read those bytes before the signal.
      await delay(200);
      f.kill('SIGTERM');
      // The 'stopping' line is written in the tick the listener closes.
      await f.waitForLine(isState('stopping'));
      connection.write('\r\n');

      const [, straddling] = await connection.responses(2);
      expect([straddling?.status, straddling?.body]).toEqual([200, 'hello']);
      expect(straddling?.headers.connection).toBe('close');
      expect(await connection.closed).toMatchObject({ clean: true });
      expect((await f.exited).code).toBe(0);
    });
  });
}
