/**
 * The long-lived section's peer services (bench/services/long-lived/*.mjs) must keep starting,
 * serving what the section's clients use, and leaving, or `pnpm bench --only=longlived` breaks long
 * after the change that broke it. One short run per peer: readiness, `GET /`, an SSE stream's
 * headers, a WebSocket's first message, an h2c request, then SIGTERM with no client left.
 */
import { request } from 'node:http';
import { connect } from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { get } from '../support/http.js';
import { cleanup, spawnFixture, type Fixture } from '../support/process.js';

const PEERS: Array<{ name: string; ready: ['probe' | 'main', string] }> = [
  { name: 'podkit', ready: ['probe', '/readyz'] },
  { name: 'terminus', ready: ['main', '/readyz'] },
  { name: 'lightship', ready: ['probe', '/ready'] },
  { name: 'close-with-grace', ready: ['main', '/readyz'] },
  { name: 'fastify-close', ready: ['main', '/readyz'] },
];

const fixtures: Fixture[] = [];
afterEach(() => cleanup(fixtures));

describe('bench long-lived peer services', () => {
  for (const peer of PEERS) {
    it(`${peer.name} answers requests, SSE, WebSocket and h2c, and leaves on SIGTERM`, async () => {
      const f = spawnFixture(new URL(`../../bench/services/long-lived/${peer.name}.mjs`, import.meta.url), {
        PORT: '0',
        PROBE_PORT: '0',
        DRAIN_DELAY_MS: '0',
        GRACE_MS: '5000',
        KUBERNETES_SERVICE_HOST: '',
        HOST: '127.0.0.1',
      });
      fixtures.push(f);
      const ready = await f.waitForLine((l) => l.bench === 'ready');
      const mainPort = ready.mainPort as number;
      expect((await get(peer.ready[0] === 'probe' ? (ready.probePort as number) : mainPort, peer.ready[1])).status).toBe(200);
      expect((await get(mainPort, '/')).body).toBe('hello');

      const sse = await new Promise<{ type: string | undefined; replica: string | undefined }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: mainPort, path: '/events', agent: false }, (res) => {
          resolve({ type: res.headers['content-type'], replica: res.headers['x-replica'] as string | undefined });
          req.destroy();
        });
        req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
        req.end();
      });
      expect(sse.type).toMatch(/^text\/event-stream/);
      expect(sse.replica).toMatch(/^127\.0\.0\.1:/);

      const ws = new WebSocket(`ws://127.0.0.1:${mainPort}/`);
      const hello = await new Promise<string>((resolve, reject) => {
        ws.once('message', (data) => resolve(String(data)));
        ws.once('error', reject);
      });
      expect(hello).toMatch(/^replica 127\.0\.0\.1:/);
      ws.close(1000);
      await new Promise((resolve) => ws.once('close', resolve));

      const session = connect(`http://127.0.0.1:${ready.h2cPort as number}`);
      const h2 = await new Promise<{ status: number; replica: unknown }>((resolve, reject) => {
        const stream = session.request({ ':path': '/' });
        stream.on('response', (headers) => resolve({ status: Number(headers[':status']), replica: headers['x-replica'] }));
        stream.on('error', reject);
        stream.resume();
      });
      session.close();
      expect(h2.status).toBe(200);
      expect(h2.replica).toMatch(/^127\.0\.0\.1:/);

      f.kill('SIGTERM');
      const exit = await f.exited;
      expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    });
  }
});
