/**
 * A main port that is already taken, on every framework and every way of starting: the start fails
 * with ERR_PODKIT_LISTEN_FAILED (the code the README documents for it, not a warmup failure), the
 * listen error as its cause, and the start-failure exit (75). In-process, exit injected.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import express4 from 'express4';
import express5 from 'express5';
import fastify4 from 'fastify4';
import fastify5 from 'fastify5';
import { createLifecycle, PodkitError, type LifecycleOptions, type StartTarget } from '@podkit/lifecycle';
import { podkitFastify } from '@podkit/fastify';

const holders: Server[] = [];
const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const holder of holders.splice(0)) holder.close();
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** A loopback port another server holds for the whole test. */
async function takenPort(): Promise<number> {
  const holder = createServer();
  holders.push(holder);
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  return (holder.address() as AddressInfo).port;
}

/** A lifecycle that never touches the process: no signal handlers, exit recorded; no probes unless asked. */
function quietLifecycle(options: LifecycleOptions = {}) {
  const exits: number[] = [];
  const lifecycle = createLifecycle({ probes: false, logger: false, signals: false, handleCrashes: false, exit: (code) => exits.push(code), ...options });
  return { lifecycle, exits };
}

async function expectListenFailed(start: Promise<unknown>, exits: number[]): Promise<void> {
  const error = await start.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PodkitError);
  expect((error as PodkitError).code).toBe('ERR_PODKIT_LISTEN_FAILED');
  expect((error as Error).message).toContain('EADDRINUSE');
  expect(((error as PodkitError).cause as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
  expect(exits).toEqual([75]);
}

describe.each([
  { name: 'fastify4', create: fastify4 as unknown as typeof fastify5 },
  { name: 'fastify5', create: fastify5 },
])('$name on a taken main port', ({ create }) => {
  it('start(app) fails with ERR_PODKIT_LISTEN_FAILED and exit 75', async () => {
    const port = await takenPort();
    const { lifecycle, exits } = quietLifecycle();
    const app = create();
    closers.push(() => app.close());
    await app.register(podkitFastify, { lifecycle, listen: { port, host: '127.0.0.1' } });
    await expectListenFailed(lifecycle.start(app), exits);
  });

  it('start(() => app.listen()) fails with ERR_PODKIT_LISTEN_FAILED and exit 75', async () => {
    const port = await takenPort();
    const { lifecycle, exits } = quietLifecycle();
    const app = create();
    closers.push(() => app.close());
    await app.register(podkitFastify, { lifecycle });
    await expectListenFailed(lifecycle.start(() => app.listen({ port, host: '127.0.0.1' })), exits);
  });
});

describe.each([
  { name: 'express4', express: express4 },
  { name: 'express5', express: express5 },
])('$name on a taken main port', ({ express }) => {
  it('start(() => app.listen(port)) fails with ERR_PODKIT_LISTEN_FAILED and exit 75', async () => {
    const port = await takenPort();
    const { lifecycle, exits } = quietLifecycle();
    const app = express();
    const target: StartTarget = () => app.listen(port, '127.0.0.1');
    await expectListenFailed(lifecycle.start(target), exits);
  });
});

describe('a plain node:http server on a taken main port', () => {
  it('start(server) with server.listen() called just before fails with ERR_PODKIT_LISTEN_FAILED and exit 75, not a crash', async () => {
    const port = await takenPort();
    // With a probe port to open first, start() comes to wait for the main server only after the
    // listen error was emitted (next tick): that error must still fail the start, not crash.
    const { lifecycle, exits } = quietLifecycle({ probes: { port: 0, host: '127.0.0.1' } });
    const server = createServer().listen(port, '127.0.0.1');
    await expectListenFailed(lifecycle.start(server), exits);
  });
});
