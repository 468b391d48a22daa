import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PodkitError, TimeoutError, type Lifecycle } from '@podkit/lifecycle';
import { httpCheck, HttpRequestError, routeWarmup, UnexpectedStatusError } from '@podkit/lifecycle/http';
import { freePort, testLifecycle } from './helpers.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** The lifecycle's state when the request arrived (routeWarmup tests). */
  state?: string;
}

/** A dependency (or the app itself) with routes for every outcome, recording what it receives. */
async function startServer(lifecycle?: () => Lifecycle | undefined): Promise<{ server: Server; port: number; seen: Seen[]; closedHangs: () => number; listen: () => Server }> {
  const seen: Seen[] = [];
  let closedHangs = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString(), state: lifecycle?.()?.state });
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/hang') {
        res.on('close', () => (closedHangs += 1));
        return;
      }
      const status = { '/redirect': 302, '/fail': 503, '/missing': 404 }[path ?? ''] ?? 200;
      res.writeHead(status, status === 302 ? { location: '/ok' } : {});
      res.end('x'.repeat(64 * 1024)); // a body bigger than one chunk: it must be read and discarded
    });
  });
  const listen = () => server.listen(0, '127.0.0.1');
  cleanups.push(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  if (!lifecycle) {
    listen();
    await new Promise<void>((resolve) => server.once('listening', resolve));
  }
  return {
    server,
    get port() {
      return (server.address() as AddressInfo).port;
    },
    seen,
    closedHangs: () => closedHangs,
    listen,
  };
}

const signal = (ms = 5000) => AbortSignal.timeout(ms);

describe('httpCheck', () => {
  it('passes on 2xx and 3xx by default (redirects judged, not followed) and fails on 5xx with the status as its kind', async () => {
    const dep = await startServer();
    const url = (path: string) => `http://127.0.0.1:${dep.port}${path}`;
    await expect(httpCheck(url('/ok'))(signal())).resolves.toBeUndefined();
    await expect(httpCheck(url('/redirect'))(signal())).resolves.toBeUndefined();
    expect(dep.seen.map((s) => s.url)).toEqual(['/ok', '/redirect']);
    const error = await httpCheck(url('/fail?token=secret'))(signal()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnexpectedStatusError);
    expect((error as UnexpectedStatusError).code).toBe('ERR_PODKIT_UNEXPECTED_STATUS');
    expect((error as UnexpectedStatusError).kind).toBe('HTTP_503');
    expect((error as Error).message).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/fail answered 503; expected 200–399/);
    expect((error as Error).message).not.toMatch(/secret/);
  });

  it('honours expectStatus as one code or an inclusive range', async () => {
    const dep = await startServer();
    const url = (path: string) => `http://127.0.0.1:${dep.port}${path}`;
    await expect(httpCheck(url('/missing'), { expectStatus: 404 })(signal())).resolves.toBeUndefined();
    await expect(httpCheck(url('/ok'), { expectStatus: 404 })(signal())).rejects.toThrow(/answered 200; expected 404/);
    await expect(httpCheck(url('/fail'), { expectStatus: [500, 599] })(signal())).resolves.toBeUndefined();
    await expect(httpCheck(url('/redirect'), { expectStatus: [200, 299] })(signal())).rejects.toBeInstanceOf(UnexpectedStatusError);
  });

  it('sends the configured method and headers', async () => {
    const dep = await startServer();
    await httpCheck(`http://127.0.0.1:${dep.port}/ok`, { method: 'HEAD', headers: { authorization: 'Bearer t' } })(signal());
    expect(dep.seen[0]).toMatchObject({ method: 'HEAD', headers: { authorization: 'Bearer t' } });
  });

  it('gives up at its timeout on a dependency that never answers, and closes the request', async () => {
    const dep = await startServer();
    const controller = new AbortController();
    setTimeout(() => controller.abort(new TimeoutError('check "dep"', 200)), 200);
    const begun = performance.now();
    const error = await httpCheck(`http://127.0.0.1:${dep.port}/hang`)(controller.signal).catch((e: unknown) => e);
    expect(performance.now() - begun).toBeLessThan(200 + 300);
    expect(error).toBeInstanceOf(TimeoutError);
    await expect.poll(() => dep.closedHangs()).toBe(1);
  });

  it('fails with an HttpRequestError whose kind is the connection error code when nothing listens', async () => {
    const port = await freePort();
    const error = await httpCheck(`http://127.0.0.1:${port}/`)(signal()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpRequestError);
    expect(error).toBeInstanceOf(PodkitError);
    expect((error as HttpRequestError).code).toBe('ERR_PODKIT_HTTP_REQUEST_FAILED');
    expect((error as HttpRequestError).kind).toBe('ECONNREFUSED');
    expect(((error as Error).cause as { code?: string }).code).toBe('ECONNREFUSED');
    expect((error as Error).message).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/ failed/);
  });
});

describe('routeWarmup', () => {
  let lifecycle: Lifecycle | undefined;
  afterEach(async () => {
    await lifecycle?.stop('test over');
    lifecycle = undefined;
  });

  it('requests the app’s own routes on its main port, times over, while the service is still warming', async () => {
    const app = await startServer(() => lifecycle);
    lifecycle = testLifecycle();
    lifecycle.warmup(
      'routes',
      routeWarmup(lifecycle, {
        paths: ['/ok?limit=1', { path: '/echo', method: 'POST', body: '{"warm":true}', headers: { 'content-type': 'application/json' } }],
        times: 3,
      }),
    );
    await lifecycle.start(app.listen);
    expect(lifecycle.state).toBe('ready');
    expect(app.seen.map((s) => `${s.method} ${s.url}`)).toEqual(Array(3).fill(['GET /ok?limit=1', 'POST /echo']).flat());
    expect(app.seen.every((s) => s.state === 'warming')).toBe(true);
    expect(app.seen.every((s) => s.headers['user-agent'] === 'podkit-warmup')).toBe(true);
    expect(app.seen[1]).toMatchObject({ body: '{"warm":true}', headers: { 'content-type': 'application/json' } });
  });

  it('fails the warmup, naming the request, when a route answers outside expectStatus', async () => {
    const app = await startServer(() => lifecycle);
    lifecycle = testLifecycle();
    lifecycle.warmup('routes', routeWarmup(lifecycle, { paths: ['/ok', '/missing'] }));
    const error = await lifecycle.start(app.listen).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PodkitError);
    expect((error as PodkitError).code).toBe('ERR_PODKIT_WARMUP_FAILED');
    expect((error as Error).message).toMatch(/warmup request GET \/missing answered 404/);
    expect(lifecycle.state).toBe('failed');
  });

  it('fails with a clear error when the main port only opens after warmup', async () => {
    const app = await startServer(() => lifecycle);
    lifecycle = testLifecycle({ openMainPort: 'after-warmup' });
    lifecycle.warmup('routes', routeWarmup(lifecycle, { paths: ['/ok'] }));
    const error = await lifecycle.start(app.listen).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/main server is not listening during warmup.*openMainPort "before-warmup"/);
    expect(((error as PodkitError).cause as PodkitError).code).toBe('ERR_PODKIT_MAIN_PORT_CLOSED');
    expect(app.seen).toHaveLength(0);
  });
});
