/**
 * Fastify with `http2: true` (h2c) under the podkit plugin, in-process: `lifecycle.start(app)`
 * accepts its HTTP/2 server, and at shutdown a stream in flight completes while its session gets
 * GOAWAY, then the session closes and the exit is clean; a Server-Sent Events stream is ended (after
 * its `retry:` field) with END_STREAM at "stop accepting", not held until the shutdown's deadline.
 */
import { connect } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import fastify5 from 'fastify5';
import { createLifecycle } from '@podkit/lifecycle';
import { podkitFastify } from '@podkit/fastify';
import { delay } from '../support/http.js';
import { h2Get } from '../support/http2.js';


describe('fastify5 with http2: true', () => {
  it('is started by lifecycle.start(app); at stop() the stream in flight completes, its session gets GOAWAY, the exit is clean', async () => {
    const exits: number[] = [];
    const lifecycle = createLifecycle({ probes: false, logger: false, signals: false, handleCrashes: false, drainDelayMs: 200, shutdownTimeoutMs: 5000, exit: (code) => exits.push(code) });
    const app = fastify5({ http2: true });
    await app.register(podkitFastify, { lifecycle, listen: { port: 0, host: '127.0.0.1' } });
    app.get('/slow', async () => {
      await delay(800);
      return 'slow done';
    });
    await lifecycle.start(app);
    const session = connect(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`);
    session.on('error', () => {});
    const goaway = new Promise<number>((resolve) => session.once('goaway', resolve));
    const closed = new Promise<void>((resolve) => session.once('close', resolve));
    try {
      const slow = h2Get(session, '/slow');
      await delay(100);
      const stopped = lifecycle.stop('test');
      expect(await goaway).toBe(0);
      expect(await slow).toBe('slow done');
      await closed;
      expect(await stopped).toMatchObject({ code: 0, kind: 'clean' });
      expect(exits).toEqual([0]);
    } finally {
      session.destroy();
    }
  });

  it('ends a Server-Sent Events stream with END_STREAM after its retry field at stop(), well before shutdownTimeoutMs', async () => {
    const exits: number[] = [];
    const lifecycle = createLifecycle({
      probes: false,
      logger: false,
      signals: false,
      handleCrashes: false,
      drainDelayMs: 100,
      shutdownTimeoutMs: 8000,
      longLived: { closeWindowMs: 300, sseRetryMs: 500 },
      exit: (code) => exits.push(code),
    });
    const app = fastify5({ http2: true });
    await app.register(podkitFastify, { lifecycle, listen: { port: 0, host: '127.0.0.1' } });
    app.get('/events', (_request, reply) => {
      // The app never ends the stream itself: an SSE stream lives until the server ends it.
      reply.hijack();
      reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      let n = 0;
      const timer = setInterval(() => reply.raw.write(`data: ${n++}\n\n`), 50);
      reply.raw.on('close', () => clearInterval(timer));
    });
    await lifecycle.start(app);
    const session = connect(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`);
    session.on('error', () => {});
    try {
      const stream = session.request({ ':path': '/events' });
      let body = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (body += chunk));
      const ended = new Promise<string>((resolve) => {
        stream.once('end', () => resolve(`end ${stream.rstCode ?? 0}`));
        stream.once('aborted', () => resolve('aborted'));
        stream.once('error', (error: Error) => resolve(`error ${error.message}`));
      });
      await delay(200);
      const stoppedAt = performance.now();
      const stopped = lifecycle.stop('test');
      expect(await ended).toBe('end 0');
      expect(body).toMatch(/^data: 0\n\n/);
      expect(body).toMatch(/retry: 500\n\n$/);
      expect(await stopped).toMatchObject({ code: 0, kind: 'clean' });
      expect(performance.now() - stoppedAt).toBeLessThan(3000);
      expect(exits).toEqual([0]);
    } finally {
      session.destroy();
    }
  });
});
