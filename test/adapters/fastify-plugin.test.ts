/**
 * The Fastify plugin in-process (real servers on port 0, no fork), on Fastify 4 and 5: options,
 * probe routes through inject, and the close() tie with an injected exit so nothing ends the runner.
 */
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import fastify4 from 'fastify4';
import fastify5 from 'fastify5';
import { createLifecycle, type LifecycleOptions } from '@podkit/lifecycle';
import { podkitFastify, type PodkitFastifyOptions } from '@podkit/fastify';
import { delay, get, waitFor } from '../support/http.js';

/** A lifecycle that never touches the process: no signal handlers, no exit, no logs. */
function createTestLifecycle(options: LifecycleOptions = {}) {
  const events: string[] = [];
  const lifecycle = createLifecycle({ probes: false, logger: false, signals: false, handleCrashes: false, exit: (code) => events.push(`exit ${code}`), ...options });
  lifecycle.on('state', ({ to }) => events.push(to));
  return { lifecycle, events };
}

/** A promise and the function that resolves it (Promise.withResolvers needs Node 22). */
function signalled(): [Promise<void>, () => void] {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return [promise, resolve];
}

describe.each([
  { name: 'fastify4', create: fastify4 as unknown as typeof fastify5 },
  { name: 'fastify5', create: fastify5 },
])('$name: the plugin in-process', ({ create }) => {
  it('decorates fastify.lifecycle and starts the app through lifecycle.start(app)', async () => {
    const { lifecycle } = createTestLifecycle();
    const app = create();
    await app.register(podkitFastify, { lifecycle, listen: { port: 0, host: '127.0.0.1' } });
    app.get('/', async () => 'hello');
    expect(app.lifecycle).toBe(lifecycle);
    const server = await lifecycle.start(app);
    expect(server).toBe(app.server);
    expect(lifecycle.state).toBe('ready');
    expect((await get((app.server.address() as AddressInfo).port, '/')).body).toBe('hello');
    await lifecycle.stop();
  });

  it("adds no 'request' listener to the app's server while ready: as many as Fastify's own", async () => {
    const bare = create();
    await bare.ready();
    const { lifecycle } = createTestLifecycle();
    const app = create();
    await app.register(podkitFastify, { lifecycle, listen: { port: 0, host: '127.0.0.1' } });
    app.get('/', async () => 'hello');
    await lifecycle.start(app);
    expect((await get((app.server.address() as AddressInfo).port, '/')).body).toBe('hello');
    expect(app.server.listenerCount('request')).toBe(bare.server.listenerCount('request'));
    await bare.close();
    await lifecycle.stop();
  });

  it('answers the probe routes under a prefix through inject, and leaves other paths to the app', async () => {
    const { lifecycle } = createTestLifecycle();
    const app = create();
    await app.register(podkitFastify, { lifecycle, probeRoutes: { prefix: '/health' } });
    app.get('/livez', async () => 'mine');
    const livez = await app.inject({ method: 'GET', url: '/health/livez' });
    expect([livez.statusCode, livez.body, livez.headers['cache-control']]).toEqual([200, 'ok\n', 'no-store']);
    // Not started: not warm, not ready.
    expect((await app.inject({ method: 'GET', url: '/health/readyz' })).statusCode).toBe(503);
    expect((await app.inject({ method: 'GET', url: '/health/startupz' })).statusCode).toBe(503);
    expect((await app.inject({ method: 'HEAD', url: '/health/livez' })).body).toBe('');
    expect((await app.inject({ method: 'DELETE', url: '/health/livez' })).statusCode).toBe(405);
    // Metrics are off on this lifecycle: the path is Fastify's 404.
    expect((await app.inject({ method: 'GET', url: '/health/metrics' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/livez' })).body).toBe('mine');
    await app.close();
  });

  it('rejects a missing lifecycle and wrong options, naming the option and the value', async () => {
    await expect(create().register(podkitFastify, {} as PodkitFastifyOptions)).rejects.toMatchObject({
      code: 'ERR_PODKIT_INVALID_OPTION',
      option: 'lifecycle',
    });
    const { lifecycle } = createTestLifecycle();
    await expect(create().register(podkitFastify, { lifecycle, probeRoutes: 'yes' as unknown as boolean })).rejects.toMatchObject({
      option: 'probeRoutes',
      value: 'yes',
    });
    await expect(create().register(podkitFastify, { lifecycle, probeRoutes: { prefix: 'health' } })).rejects.toMatchObject({
      option: 'probeRoutes.prefix',
    });
    await expect(create().register(podkitFastify, { lifecycle, listen: { port: 70_000 } })).rejects.toMatchObject({
      option: 'listen.port',
      value: 70_000,
    });
  });

  it('fastify.close() before lifecycle.start() closes Fastify only: the lifecycle neither stops nor exits', async () => {
    const { lifecycle, events } = createTestLifecycle();
    const app = create();
    let closed = false;
    await app.register(podkitFastify, { lifecycle });
    app.addHook('onClose', async () => {
      closed = true;
    });
    await app.inject({ method: 'GET', url: '/' });
    await app.close();
    expect(closed).toBe(true);
    expect(lifecycle.state).toBe('starting');
    expect(events).toEqual([]);
  });

  it('lifecycle.stop() drains first and runs the onClose hooks at the shutdown-hook stage, before the exit', async () => {
    const { lifecycle, events } = createTestLifecycle();
    const app = create();
    await app.register(podkitFastify, { lifecycle, listen: { port: 0, host: '127.0.0.1' } });
    app.addHook('onClose', async () => {
      events.push(`onClose (in flight: ${lifecycle.inFlight}, listening: ${app.server.listening})`);
    });
    const [slowStarted, onSlowStarted] = signalled();
    app.get('/slow', async () => {
      onSlowStarted();
      await delay(300);
      events.push('slow answered');
      return 'slow done';
    });
    await lifecycle.start(app);
    const slow = get((app.server.address() as AddressInfo).port, '/slow');
    await slowStarted;
    const result = await lifecycle.stop();
    expect((await slow).body).toBe('slow done');
    expect(result).toMatchObject({ code: 0, kind: 'clean' });
    expect(events).toEqual(['warming', 'ready', 'draining', 'stopping', 'slow answered', 'onClose (in flight: 0, listening: false)', 'stopped', 'exit 0']);
  });

  it('fastify.close() after start() runs the lifecycle shutdown and resolves after the onClose hooks, with the exit after both', async () => {
    const { lifecycle, events } = createTestLifecycle();
    const app = create({ forceCloseConnections: true });
    await app.register(podkitFastify, { lifecycle, listen: { port: 0, host: '127.0.0.1' } });
    app.addHook('onClose', async () => {
      await delay(50);
      events.push('onClose');
    });
    const [slowStarted, onSlowStarted] = signalled();
    app.get('/slow', async () => {
      onSlowStarted();
      await delay(300);
      return 'slow done';
    });
    await lifecycle.start(app);
    const slow = get((app.server.address() as AddressInfo).port, '/slow');
    await slowStarted;
    const closing = app.close().then(() => events.push('close() resolved'));
    // Fastify runs preClose hooks a few ticks later; readiness follows at once.
    await waitFor(() => !lifecycle.isReady());
    // forceCloseConnections: true, yet the request in flight is answered.
    expect((await slow).body).toBe('slow done');
    await closing;
    await waitFor(() => events.includes('exit 0'));
    expect(events).toEqual(['warming', 'ready', 'draining', 'stopping', 'onClose', 'close() resolved', 'stopped', 'exit 0']);
  });

  it('gives a second app on the same lifecycle its own shutdown hook', async () => {
    const { lifecycle } = createTestLifecycle();
    const hooks: string[] = [];
    lifecycle.on('hook', ({ name }) => hooks.push(name));
    const first = create();
    const second = create();
    await first.register(podkitFastify, { lifecycle });
    await second.register(podkitFastify, { lifecycle });
    await first.ready();
    await second.ready();
    await lifecycle.stop();
    expect(hooks).toEqual(['fastify-2', 'fastify']);
  });
});
