/**
 * HTTP/2 sessions during the drain delay, in-process with a real node:http2 client: a client that
 * connects while the balancer still sends it here (the drain delay) gets its first request
 * answered, then a GOAWAY that moves its next ones elsewhere — not a GOAWAY with last stream id 0
 * that refuses the request it sent with its connection preface.
 */
import { connect, createServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { h2Get } from '../support/http2.js';
import { stopAll, testLifecycle } from './helpers.js';


afterEach(stopAll);

describe('HTTP/2 at the drain', () => {
  it('a session opened during the drain delay has its first request answered, then gets a GOAWAY naming that stream', async () => {
    const { lifecycle, exits } = testLifecycle({ probes: false, signals: false, drainDelayMs: 400, shutdownTimeoutMs: 5000 });
    const server = createServer((req, res) => res.end('ok'));
    await lifecycle.start(() => server.listen(0, '127.0.0.1'));
    const stopped = lifecycle.stop('test');
    const session = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    session.on('error', () => {});
    const goaway = new Promise<{ code: number; lastStreamId: number }>((resolve) => session.once('goaway', (code: number, lastStreamId: number) => resolve({ code, lastStreamId })));
    try {
      expect(await h2Get(session, '/')).toBe('ok');
      expect(await goaway).toEqual({ code: 0, lastStreamId: 1 });
      expect(await stopped).toMatchObject({ code: 0, kind: 'clean' });
      expect(exits.map((e) => e.code)).toEqual([0]);
    } finally {
      session.destroy();
    }
  });

  it('an SSE stream that cannot be ended (its client stopped reading, the flow-control window is full) is cancelled at longLived.budgetMs, not held to shutdownTimeoutMs', async () => {
    const { lifecycle, exits } = testLifecycle({ probes: false, signals: false, drainDelayMs: 0, shutdownTimeoutMs: 8000, longLived: { closeWindowMs: 100, budgetMs: 700 } });
    const server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const event = `data: ${'x'.repeat(16 * 1024)}\n\n`;
      const timer = setInterval(() => res.write(event), 5);
      res.on('close', () => clearInterval(timer));
    });
    await lifecycle.start(() => server.listen(0, '127.0.0.1'));
    const session = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    session.on('error', () => {});
    try {
      const stream = session.request({ ':path': '/' });
      stream.on('error', () => {});
      stream.pause();
      const closed = new Promise<number | undefined>((resolve) => stream.on('close', () => resolve(stream.rstCode)));
      await new Promise((r) => setTimeout(r, 300));
      const stoppedAt = performance.now();
      expect(await lifecycle.stop('test')).toMatchObject({ code: 0 });
      const elapsed = performance.now() - stoppedAt;
      expect(elapsed).toBeGreaterThanOrEqual(650);
      expect(elapsed).toBeLessThan(3000);
      // NGHTTP2_CANCEL: the one stream podkit could not end cleanly, cut at its budget.
      expect(await closed).toBe(8);
      expect(exits.map((e) => e.code)).toEqual([0]);
    } finally {
      session.destroy();
    }
  });
});
