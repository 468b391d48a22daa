/**
 * The example services on their own, against the real local Postgres and Redis: what a user who
 * runs one sees (their routes, their probes, their exit codes), for Express and Fastify alike.
 */
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { get } from '../support/http.js';
import { freePort, nodeReplica, startReplica, type Replica } from './harness/index.js';

const replicas: Replica[] = [];
afterEach(() => Promise.all(replicas.splice(0).map((r) => r.kill())));

function send(port: number, method: string, path: string, body?: unknown): Promise<{ status: number; headers: Record<string, unknown>; json: unknown }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request({ host: '127.0.0.1', port, path, method, agent: false, headers: payload ? { 'content-type': 'application/json' } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(Buffer.concat(chunks).toString() || 'null') }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** A podkit log line, whichever logger wrote it (podkit's own: level names; pino: numbers). */
function logLines(output: string[]): Array<Record<string, unknown>> {
  return output.flatMap((line) => {
    try {
      const parsed = JSON.parse(line) as unknown;
      return typeof parsed === 'object' && parsed !== null ? [parsed as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}
const isError = (l: Record<string, unknown>) => l.level === 'error' || l.level === 'fatal' || (typeof l.level === 'number' && l.level >= 50);

for (const framework of ['express', 'fastify'] as const) {
  const entry = fileURLToPath(new URL(`../../examples/${framework}/dist/main.js`, import.meta.url));
  const start = (env: Record<string, string> = {}) =>
    startReplica(nodeReplica(framework, entry, { env: { DRAIN_DELAY_MS: '300', ...env }, readiness: { port: 'probe', path: '/readyz' } })).then((r) => {
      replicas.push(r);
      return r;
    });

  describe(`the ${framework} example`, () => {
    it('becomes ready after its warmups, serves orders with reads cached in Redis, and exits 0 on SIGTERM', async () => {
      const service = await start();
      const verbose = await get(service.probePort, '/readyz?verbose');
      expect(verbose.status).toBe(200);
      expect(verbose.body).toContain('[+]postgres ok');
      expect(verbose.body).toMatch(/redis/);
      expect((await get(service.probePort, '/startupz')).status).toBe(200);
      expect((await get(service.probePort, '/livez')).status).toBe(200);

      const created = await send(service.port, 'POST', '/orders', { item: 'book', quantity: 2 });
      expect(created.status).toBe(201);
      const order = created.json as { id: number; item: string; quantity: number };
      expect(order).toMatchObject({ item: 'book', quantity: 2 });
      const first = await send(service.port, 'GET', `/orders/${order.id}`);
      const second = await send(service.port, 'GET', `/orders/${order.id}`);
      expect([first.status, first.headers['x-cache']]).toEqual([200, 'miss']);
      expect([second.status, second.headers['x-cache']]).toEqual([200, 'hit']);
      expect(second.json).toEqual(first.json);
      expect((await send(service.port, 'GET', '/orders/999999999')).status).toBe(404);
      // Newest first (other suites may be writing to the same table meanwhile).
      const list = (await send(service.port, 'GET', '/orders?limit=1')).json as Array<{ id: number }>;
      expect(list).toHaveLength(1);
      expect(list[0]!.id).toBeGreaterThanOrEqual(order.id);
      expect((await send(service.port, 'GET', '/work?ms=20')).json).toEqual({ workedMs: 20 });
      expect((await send(service.port, 'POST', '/orders', { quantity: 1 })).status).toBe(400);
      expect((await send(service.port, 'GET', '/work?ms=nope')).status).toBe(400);

      const termination = await service.terminate({ graceMs: 10_000 });
      expect(termination).toMatchObject({ code: 0, killed: false });
      // Every shutdown hook (Fastify's close, Redis, Postgres) ran without an error line.
      expect(logLines(service.output).filter(isError)).toEqual([]);
    });

    it('starts without Redis, stays ready, and reads from Postgres', async () => {
      const service = await start({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
      const verbose = await get(service.probePort, '/readyz?verbose');
      expect(verbose.status).toBe(200);
      expect(verbose.body).toMatch(/\[-\]redis failed \(non-critical\)/);
      const created = await send(service.port, 'POST', '/orders', { item: 'no-cache', quantity: 1 });
      const read = await send(service.port, 'GET', `/orders/${(created.json as { id: number }).id}`);
      expect([read.status, read.headers['x-cache']]).toEqual([200, 'miss']);
      expect((await service.terminate({ graceMs: 10_000 })).code).toBe(0);
    });

    it('exits 75 (warmup failed) when Postgres cannot be reached at start-up, and says why', async () => {
      const child = spawn(process.execPath, [entry], {
        env: { ...process.env, PORT: String(await freePort()), PROBE_PORT: String(await freePort()), DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/test` },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const output: string[] = [];
      child.stdout.on('data', (c: Buffer) => output.push(...c.toString().split('\n')));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(75);
      const exit = logLines(output).find((l) => l.event === 'exit');
      expect(exit).toMatchObject({ code: 75, kind: 'warmupFailed' });
      expect(String(exit?.reason)).toMatch(/postgres-pool.*ECONNREFUSED/);
    });
  });
}
