/**
 * grpc.health.v1.Health from the lifecycle, in-process: real grpc-js servers on port 0 and real
 * grpc-js clients. Check and Watch in every state (warming, ready, a check failing, draining),
 * per-check service names, unknown services, and Watch told in the tick readiness changes.
 */
import { Server, ServerInterceptingCall, type ServerInterceptor } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { serveGrpc, type GrpcServing } from '@podkit/grpc';
import { nextEvent, stopAll, testLifecycle } from '../in-process/helpers.js';
import { check, codeName, healthClient, watch, type HealthClientInstance } from './helpers.js';

const clients: HealthClientInstance[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await stopAll();
});

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

async function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A lifecycle with a gRPC server on 127.0.0.1:0, bound by its warmup (registered first, so it binds before the others run). */
function grpcLifecycle(options: Parameters<typeof testLifecycle>[0] = {}, server = new Server()) {
  const t = testLifecycle(options);
  const serving = serveGrpc(t.lifecycle, server, { address: '127.0.0.1:0' });
  const client = () => {
    const c = healthClient(`127.0.0.1:${serving.port!}`);
    clients.push(c);
    return c;
  };
  return { ...t, serving, server, client };
}

describe('Check', () => {
  it('answers NOT_SERVING for "" while warming and SERVING once ready', async () => {
    const t = grpcLifecycle();
    const warm = gate();
    t.lifecycle.warmup('cache', () => warm.promise);
    const started = t.lifecycle.start();
    await until(() => t.serving.port !== undefined);
    const client = t.client();
    await until(() => t.lifecycle.state === 'warming');
    expect(await check(client, '')).toEqual({ status: 'NOT_SERVING' });
    warm.open();
    await started;
    expect(t.lifecycle.state).toBe('ready');
    expect(await check(client, '')).toEqual({ status: 'SERVING' });
  });

  it('answers for each check by its name, SERVING only while it passes; "" follows the critical ones only', async () => {
    let dbUp = true;
    let cacheUp = true;
    const t = grpcLifecycle({ checks: { intervalMs: 20, failureThreshold: 1 } });
    t.lifecycle.check('db', () => dbUp);
    t.lifecycle.check('cache', () => cacheUp, { critical: false });
    await t.lifecycle.start();
    const client = t.client();
    expect(await check(client, 'db')).toEqual({ status: 'SERVING' });
    expect(await check(client, 'cache')).toEqual({ status: 'SERVING' });

    cacheUp = false;
    await nextEvent(t.lifecycle, 'check', (e) => e.name === 'cache' && e.status === 'failing');
    expect(await check(client, 'cache')).toEqual({ status: 'NOT_SERVING' });
    // A non-critical check failing degrades; it does not take the server out.
    expect(await check(client, '')).toEqual({ status: 'SERVING' });

    dbUp = false;
    await nextEvent(t.lifecycle, 'check', (e) => e.name === 'db' && e.status === 'failing');
    expect(await check(client, 'db')).toEqual({ status: 'NOT_SERVING' });
    expect(await check(client, '')).toEqual({ status: 'NOT_SERVING' });

    dbUp = true;
    await nextEvent(t.lifecycle, 'check', (e) => e.name === 'db' && e.status === 'ok');
    expect(await check(client, '')).toEqual({ status: 'SERVING' });
  });

  it('answers a check that is registered but has not reported yet with NOT_SERVING, not NOT_FOUND', async () => {
    const t = grpcLifecycle();
    const never = gate();
    await t.lifecycle.start();
    // Added after start(): it runs at once, and its first run never settles within this test.
    t.lifecycle.check('slow', () => never.promise, { timeoutMs: 60_000 });
    expect(await check(t.client(), 'slow')).toEqual({ status: 'NOT_SERVING' });
    never.open();
  });

  it('answers an unknown service with the status NOT_FOUND', async () => {
    const t = grpcLifecycle();
    t.lifecycle.check('db', () => true);
    await t.lifecycle.start();
    const result = await check(t.client(), 'orders.v1.Orders');
    expect(result).toMatchObject({ codeName: 'NOT_FOUND' });
    expect((result as { details: string }).details).toContain('"orders.v1.Orders"');
  });

  it('leaves List unimplemented (UNIMPLEMENTED), as the README says', async () => {
    const t = grpcLifecycle();
    await t.lifecycle.start();
    const client = t.client();
    const list = client.List as (req: unknown, cb: (e: { code: number } | null) => void) => void;
    const code = await new Promise<number>((resolve) => list.call(client, {}, (error) => resolve(error?.code ?? 0)));
    expect(codeName(code)).toBe('UNIMPLEMENTED');
  });

  it('answers the names given in health.services with the overall readiness', async () => {
    const t = testLifecycle();
    const serving: GrpcServing = serveGrpc(t.lifecycle, new Server(), { address: '127.0.0.1:0', health: { services: ['orders.v1.Orders'] } });
    const warm = gate();
    t.lifecycle.warmup('slow', () => warm.promise);
    const started = t.lifecycle.start();
    await until(() => serving.port !== undefined && t.lifecycle.state === 'warming');
    const client = healthClient(`127.0.0.1:${serving.port!}`);
    clients.push(client);
    expect(await check(client, 'orders.v1.Orders')).toEqual({ status: 'NOT_SERVING' });
    warm.open();
    await started;
    expect(await check(client, 'orders.v1.Orders')).toEqual({ status: 'SERVING' });
    expect(serving.healthStatus('orders.v1.Orders')).toBe('SERVING');
  });

  it('answers NOT_SERVING for "" from the tick the shutdown begins, through the drain delay', async () => {
    const t = grpcLifecycle({ drainDelayMs: 1500 });
    await t.lifecycle.start();
    const client = t.client();
    expect(await check(client, '')).toEqual({ status: 'SERVING' });
    void t.lifecycle.stop('test');
    expect(t.lifecycle.state).toBe('draining');
    expect(t.serving.healthStatus('')).toBe('NOT_SERVING');
    // Still served (the drain delay), and truthful.
    expect(await check(client, '')).toEqual({ status: 'NOT_SERVING' });
    expect(t.lifecycle.state).toBe('draining');
  });
});

describe('Watch', () => {
  it('sends the current status, then each change once: warming → ready → check failing → passing again → draining; then ends', async () => {
    let up = true;
    const t = grpcLifecycle({ checks: { intervalMs: 15, failureThreshold: 1 }, drainDelayMs: 300 });
    t.lifecycle.check('db', () => up);
    const warm = gate();
    t.lifecycle.warmup('cache', () => warm.promise);
    const started = t.lifecycle.start();
    await until(() => t.serving.port !== undefined && t.lifecycle.state === 'warming');
    const client = t.client();
    const overall = watch(client, '');
    const db = watch(client, 'db');
    expect(await overall.next()).toBe('NOT_SERVING');

    warm.open();
    await started;
    expect(await overall.next()).toBe('SERVING');

    up = false;
    expect(await overall.next()).toBe('NOT_SERVING');
    up = true;
    expect(await overall.next()).toBe('SERVING');

    // Dozens of check runs with an unchanged verdict go by: none of them is sent.
    const runs = t.lifecycle.on('check', () => {});
    await new Promise((r) => setTimeout(r, 300));
    runs();
    const stopped = t.lifecycle.stop('test');
    expect(await overall.next()).toBe('NOT_SERVING');

    // The stream ends (OK) at "stop accepting", so it does not hold the drain.
    const end = await overall.ended;
    expect(end.codeName).toBe('OK');
    expect(overall.received.map((r) => r.status)).toEqual(['NOT_SERVING', 'SERVING', 'NOT_SERVING', 'SERVING', 'NOT_SERVING']);
    // The check's own stream: it passed from its first run on, failed once, recovered; draining does not change a check.
    expect(db.received.map((r) => r.status)).toEqual(['SERVING', 'NOT_SERVING', 'SERVING']);
    expect((await db.ended).codeName).toBe('OK');
    expect((await stopped).code).toBe(0);
  });

  it('tells a watcher of an unknown service SERVICE_UNKNOWN, keeps the stream open, and sends the status once a check by that name reports', async () => {
    const t = grpcLifecycle();
    await t.lifecycle.start();
    const stream = watch(t.client(), 'late');
    expect(await stream.next()).toBe('SERVICE_UNKNOWN');
    t.lifecycle.check('late', () => true);
    expect(await stream.next()).toBe('SERVING');
    expect(stream.received.map((r) => r.status)).toEqual(['SERVICE_UNKNOWN', 'SERVING']);
  });

  it('writes NOT_SERVING to every Watch stream in the tick the shutdown begins', async () => {
    // Records each message the server sends, in the tick the handler writes it.
    const sent: string[] = [];
    const recorder: ServerInterceptor = (_method, call) =>
      new ServerInterceptingCall(call, {
        sendMessage(message: unknown, next: (m: unknown) => void) {
          sent.push((message as { status?: string }).status ?? '?');
          next(message);
        },
      });
    const t = grpcLifecycle({ drainDelayMs: 2000 }, new Server({ interceptors: [recorder] }));
    await t.lifecycle.start();
    sent.length = 0; // the self-check's answer
    const client = t.client();
    const streams = [watch(client, ''), watch(client, ''), watch(client, '')];
    for (const stream of streams) expect(await stream.next()).toBe('SERVING');
    expect(sent).toEqual(['SERVING', 'SERVING', 'SERVING']);

    const stopping = performance.now();
    void t.lifecycle.stop('test');
    // Synchronously after stop(): the handler has already written to every stream.
    expect(sent).toEqual(['SERVING', 'SERVING', 'SERVING', 'NOT_SERVING', 'NOT_SERVING', 'NOT_SERVING']);
    for (const stream of streams) expect(await stream.next()).toBe('NOT_SERVING');
    // And the clients have it long before the 2 s drain delay is over.
    for (const stream of streams) expect(stream.received[1]!.at - stopping).toBeLessThan(500);
    expect(t.lifecycle.state).toBe('draining');
  });
});
