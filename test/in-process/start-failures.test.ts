/**
 * start() at its edges, in-process with real sockets: a stop() that races it leaves nothing it was
 * given listening; a main server that never listens fails after `listenTimeoutMs`; every way the
 * main port can fail to open is ERR_PODKIT_LISTEN_FAILED with exit 75; each mistake has its own
 * error code; and `signals: false` installs no handler but says so. Exits are captured, never taken.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULTS, PodkitError } from '@podkit/lifecycle';
import { delay, get } from '../support/http.js';
import { helloServer, portOf, stopAll, testLifecycle } from './helpers.js';

const holders: Server[] = [];
afterEach(async () => {
  await stopAll();
  for (const holder of holders.splice(0)) holder.close();
});

/** A loopback port another server holds for the whole test. */
async function takenPort(): Promise<number> {
  const holder = createServer();
  holders.push(holder);
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  return (holder.address() as AddressInfo).port;
}

/** A free loopback port, found by listening on port 0 and closing again. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** What a client sees on the port: 'answered', or the error code (ECONNREFUSED once nothing listens). */
function knock(port: number, host = '127.0.0.1'): Promise<string> {
  return get(port, '/', { timeoutMs: 1000, host }).then(
    () => 'answered',
    (error: NodeJS.ErrnoException) => error.code ?? error.message,
  );
}

/** The promise's settlement, or 'pending' when it has not settled within `ms` (a start() that waits forever). */
function settledWithin<T>(promise: Promise<T>, ms: number): Promise<{ value?: T; error?: unknown } | 'pending'> {
  return Promise.race([
    promise.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    ),
    delay(ms).then(() => 'pending' as const),
  ]);
}

describe('stop() while start(server) is still opening the probe port', () => {
  it('closes a server that was already listening: after stop() resolves its port refuses connections', async () => {
    const server = helloServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = portOf(server);
    const t = testLifecycle();
    const started = t.lifecycle.start(server);
    const result = await t.lifecycle.stop('stopped while starting');
    expect(result.code).toBe(0);
    expect(await knock(port)).toBe('ECONNREFUSED');
    expect(server.listening).toBe(false);
    await started;
  });

  it('closes a server whose listen() is called right after start(server): it never serves after stop() resolved', async () => {
    const port = await freePort();
    const server = helloServer();
    const t = testLifecycle();
    const started = t.lifecycle.start(server);
    const stopping = t.lifecycle.stop('stopped while starting');
    server.listen(port, '127.0.0.1');
    await stopping;
    await started;
    await delay(20);
    expect(await knock(port)).toBe('ECONNREFUSED');
    expect(server.listening).toBe(false);
  });

  it('closes a server still looking up its host name when the shutdown runs, once it binds', async () => {
    const port = await freePort();
    const server = helloServer();
    server.listen(port, 'localhost');
    const t = testLifecycle();
    const started = t.lifecycle.start(server);
    await t.lifecycle.stop('stopped while starting');
    await started;
    await delay(200);
    expect(server.listening).toBe(false);
  });

  it('lets start(server) return at once, not after listenTimeoutMs, when the server never listens', async () => {
    const t = testLifecycle({ listenTimeoutMs: 30_000 });
    const server = helloServer();
    const started = t.lifecycle.start(server);
    await t.lifecycle.stop('stopped while starting');
    expect(await settledWithin(started, 2000)).not.toBe('pending');
  });
});

describe('listenTimeoutMs', () => {
  it('defaults to 10000 ms, in DEFAULTS', () => {
    expect(DEFAULTS.listenTimeoutMs).toBe(10_000);
  });

  it.each([
    ['start(server)', (server: Server) => server],
    ['start(fn) whose fn returns the server', (server: Server) => () => server],
  ])('fails %s with a server that never listens: ERR_PODKIT_LISTEN_TIMEOUT naming the option, exit 75', async (_what, target) => {
    const t = testLifecycle({ listenTimeoutMs: 300 });
    const began = performance.now();
    const outcome = await settledWithin(t.lifecycle.start(target(helloServer())), 5000);
    expect(outcome).not.toBe('pending');
    const error = (outcome as { error?: unknown }).error;
    expect(error).toBeInstanceOf(PodkitError);
    expect((error as PodkitError).code).toBe('ERR_PODKIT_LISTEN_TIMEOUT');
    expect((error as Error).message).toContain('within 300 ms (listenTimeoutMs)');
    expect(performance.now() - began).toBeGreaterThanOrEqual(250);
    expect(t.exits).toEqual([{ code: 75, reason: expect.stringContaining('listenTimeoutMs') }]);
    expect(t.lifecycle.state).toBe('failed');
  });

  it('waits for a server that starts listening within it', async () => {
    const t = testLifecycle({ listenTimeoutMs: 2000 });
    const server = helloServer();
    setTimeout(() => server.listen(0, '127.0.0.1'), 200);
    expect(await t.lifecycle.start(server)).toBe(server);
    expect(t.lifecycle.state).toBe('ready');
  });
});

describe('a main port that cannot be opened is ERR_PODKIT_LISTEN_FAILED and exit 75, whatever start() was given', () => {
  const cases: Array<[string, (port: number) => Parameters<ReturnType<typeof testLifecycle>['lifecycle']['start']>[0]]> = [
    ['start(server) after server.listen()', (port) => helloServer().listen(port, '127.0.0.1')],
    [
      'start(server) before server.listen()',
      (port) => {
        const server = helloServer();
        setImmediate(() => server.listen(port, '127.0.0.1'));
        return server;
      },
    ],
    ['start(fn) whose fn returns the server', (port) => () => helloServer().listen(port, '127.0.0.1')],
    [
      'start(fn) whose async fn awaits the listen and throws its error',
      (port) => async () => {
        const server = helloServer();
        await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
        return server;
      },
    ],
  ];

  it.each(cases)('%s on a taken port', async (_what, target) => {
    const port = await takenPort();
    const t = testLifecycle();
    const error = await t.lifecycle.start(target(port)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PodkitError);
    expect((error as PodkitError).code).toBe('ERR_PODKIT_LISTEN_FAILED');
    expect((error as Error).message).toContain('EADDRINUSE');
    expect(((error as PodkitError).cause as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
    expect(t.exits).toEqual([{ code: 75, reason: expect.stringContaining('the main server could not listen') }]);
  });

  it('start(app) when the adapter\'s listen() rejects with the listen error', async () => {
    const port = await takenPort();
    const t = testLifecycle();
    const app = {};
    const server = helloServer();
    t.lifecycle.attach(app, {
      server,
      listen: () => new Promise((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve(undefined))),
    });
    const error = await t.lifecycle.start(app).catch((e: unknown) => e);
    expect((error as PodkitError).code).toBe('ERR_PODKIT_LISTEN_FAILED');
    expect((error as Error).message).toContain('EADDRINUSE');
    expect(t.exits).toEqual([{ code: 75, reason: expect.stringContaining('EADDRINUSE') }]);
  });
});

describe('one error code per mistake', () => {
  it('start(app) for an app that is not listening and that its adapter cannot start: ERR_PODKIT_NO_SERVER', async () => {
    const t = testLifecycle();
    const app = {};
    t.lifecycle.attach(app, { server: helloServer() });
    await expect(t.lifecycle.start(app)).rejects.toMatchObject({ code: 'ERR_PODKIT_NO_SERVER' });
  });

  it('lifecycle.signal is aborted with ERR_PODKIT_SHUTTING_DOWN', async () => {
    const t = testLifecycle();
    await t.lifecycle.start();
    await t.lifecycle.stop();
    expect(t.lifecycle.signal.reason).toMatchObject({ code: 'ERR_PODKIT_SHUTTING_DOWN' });
  });

  it('a warmup cut short by the shutdown sees ERR_PODKIT_SHUTTING_DOWN as its signal\'s reason', async () => {
    const t = testLifecycle();
    let reason: unknown;
    let begun!: () => void;
    const warming = new Promise<void>((resolve) => (begun = resolve));
    t.lifecycle.warmup('slow', (signal) => {
      begun();
      return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject((reason = signal.reason))));
    });
    const started = t.lifecycle.start();
    // The probe worker may take a while to listen: stop only once the warmup is really running.
    await warming;
    await t.lifecycle.stop();
    await started;
    expect(reason).toMatchObject({ code: 'ERR_PODKIT_SHUTTING_DOWN' });
  });
});

describe('signals: false', () => {
  it('installs no signal handler and warns at start(), saying the app must call stop()', async () => {
    const before = { SIGTERM: process.listenerCount('SIGTERM'), SIGINT: process.listenerCount('SIGINT') };
    const t = testLifecycle({ signals: false });
    await t.lifecycle.start();
    expect({ SIGTERM: process.listenerCount('SIGTERM'), SIGINT: process.listenerCount('SIGINT') }).toEqual(before);
    const warning = t.logs.find((l) => l.level === 'warn' && l.obj.event === 'config' && l.obj.signals === false);
    expect(warning?.msg).toContain('Call lifecycle.stop() when SIGTERM arrives');
    expect(warning?.msg).toContain('PID 1');
    expect(await t.lifecycle.stop()).toMatchObject({ code: 0, kind: 'clean' });
  });

  it('stays quiet with the default signals', async () => {
    const t = testLifecycle();
    await t.lifecycle.start();
    expect(t.logs.some((l) => l.obj.signals === false)).toBe(false);
  });
});
