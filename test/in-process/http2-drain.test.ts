/**
 * HTTP/2 sessions during the drain delay, in-process with a real node:http2 client: a client that
 * connects while the balancer still sends it here (the drain delay) gets its first request
 * answered, then a GOAWAY that moves its next ones elsewhere — not a GOAWAY with last stream id 0
 * that refuses the request it sent with its connection preface.
 */
import { connect, createServer, type ClientHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createLifecycle } from '@podkit/lifecycle';

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

describe('an HTTP/2 session opened during the drain delay', () => {
  it('has its first request answered, then gets a GOAWAY naming that stream', async () => {
    const exits: number[] = [];
    const lifecycle = createLifecycle({ probes: false, logger: false, signals: false, handleCrashes: false, drainDelayMs: 400, shutdownTimeoutMs: 5000, exit: (code) => exits.push(code) });
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
      expect(exits).toEqual([0]);
    } finally {
      session.destroy();
    }
  });
});
