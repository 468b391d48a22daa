/**
 * An SSE stream over HTTP/2 that podkit ends at shutdown, whose app keeps writing until it sees the
 * response close (a timer cleared on 'close', as SSE handlers are written): 'close' comes only once
 * END_STREAM is out, and a write of the app's in between would make Node destroy the stream with an
 * error — a RST_STREAM (INTERNAL_ERROR) undoing the clean end. The app here writes every
 * millisecond, so such a write is all but certain. (Over HTTP/1 there is no such window: the
 * response finishes and closes within the tick of its end.)
 */
import { connect, createServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { stopAll, testLifecycle } from './helpers.js';

/** An SSE handler that writes every millisecond until the response closes. */
function chatty(_req: Http2ServerRequest, res: Http2ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  let n = 0;
  const timer = setInterval(() => res.write(`data: ${n++}\n\n`), 1);
  res.on('close', () => clearInterval(timer));
}

afterEach(stopAll);

describe('an SSE stream over HTTP/2 whose app writes right up to its close', () => {
  it('ends with END_STREAM after its retry field, never RST_STREAM', async () => {
    const { lifecycle, exits } = testLifecycle({ probes: false, signals: false, drainDelayMs: 0, shutdownTimeoutMs: 5000, longLived: { closeWindowMs: 200, sseRetryMs: 300 } });
    const server = createServer(chatty);
    await lifecycle.start(() => server.listen(0, '127.0.0.1'));
    const session = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    session.on('error', () => {});
    try {
      const ends = Array.from({ length: 8 }, () => {
        const stream = session.request({ ':path': '/' });
        let body = '';
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => (body += chunk));
        stream.on('error', () => {});
        return new Promise<string>((resolve) => stream.on('close', () => resolve(stream.rstCode ? `reset ${stream.rstCode}` : body.endsWith('retry: 300\n\n') ? 'clean' : 'cut')));
      });
      await new Promise((r) => setTimeout(r, 50));
      expect(await lifecycle.stop('test')).toMatchObject({ code: 0, kind: 'clean' });
      expect(await Promise.all(ends)).toEqual(ends.map(() => 'clean'));
      expect(exits.map((e) => e.code)).toEqual([0]);
    } finally {
      session.destroy();
    }
  });
});
