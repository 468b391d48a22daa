/**
 * Fastify with `http2: true` (h2c) under the podkit plugin, in-process: `lifecycle.start(app)`
 * accepts its HTTP/2 server, and at shutdown a stream in flight completes while its session gets
 * GOAWAY, then the session closes and the exit is clean.
 */
import { connect, type ClientHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import fastify5 from 'fastify5';
import { createLifecycle } from '@podkit/lifecycle';
import { podkitFastify } from '@podkit/fastify';
import { delay } from '../support/http.js';

function h2Get(session: ClientHttp2Session, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path });
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (body += chunk));
    stream.on('end', () => (stream.rstCode ? reject(new Error(`stream reset ${stream.rstCode}`)) : resolve(body)));
    stream.on('error', reject);
  });
}

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
});
