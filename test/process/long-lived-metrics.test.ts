/**
 * The long-lived connection metrics on /metrics, in a real forked service under SIGTERM, with real
 * clients: `ws` WebSocket clients, raw SSE readers and a `node:http2` client session. /metrics is
 * scraped before the shutdown, during its drain delay and after "stop accepting": the gauge
 * (`podkit_long_lived_open{kind}`) follows the connections, and the counters
 * (`podkit_long_lived_closed_total{kind,outcome}`) say how each was closed.
 */
import { request, type IncomingMessage } from 'node:http';
import { connect as connectHttp2 } from 'node:http2';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { delay, get } from '../support/http.js';
import { cleanup, spawnFixture, type Fixture } from '../support/process.js';
import { isFixture, isState, output } from './helpers.js';

const CONNECTIONS_SERVICE = new URL('../fixtures/connections-service.ts', import.meta.url);

const fixtures: Fixture[] = [];
const clients: Array<() => void> = [];
afterEach(async () => {
  for (const destroy of clients.splice(0)) destroy();
  await cleanup(fixtures);
});

/** `podkit_long_lived_*` samples of a /metrics scrape: `open websocket`, `closed websocket clean`… → value. */
async function scrape(probePort: number): Promise<Record<string, number>> {
  const res = await get(probePort, '/metrics');
  expect(res.status).toBe(200);
  const samples: Record<string, number> = {};
  for (const [, metric, labels, value] of res.body.matchAll(/^podkit_long_lived_(open|closed_total)\{([^}]*)\} (\d+)$/gm)) {
    const words = [...labels!.matchAll(/="([^"]*)"/g)].map((m) => m[1]);
    samples[[metric === 'open' ? 'open' : 'closed', ...words].join(' ')] = Number(value);
  }
  return samples;
}

async function openWebSocket(port: number, onGoodbye?: (ws: WebSocket) => void): Promise<{ closed: Promise<number> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  if (onGoodbye) ws.on('message', (data) => String(data) === 'goodbye' && onGoodbye(ws));
  clients.push(() => ws.terminate());
  ws.on('error', () => {});
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return { closed };
}

/**
 * A WebSocket client that never answers a close frame: a raw socket that completes the handshake,
 * reads and ignores every frame, and only closes its side when the server closes its own (or,
 * stubborn, not even then).
 */
async function openDeafWebSocket(port: number, { stubborn = false } = {}): Promise<{ ended: Promise<boolean> }> {
  // Stubborn: half-open, it does not even close its side when the server closes its own.
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: stubborn });
  clients.push(() => socket.destroy());
  socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  await new Promise<void>((resolve) => socket.once('data', (chunk: Buffer) => chunk.toString().startsWith('HTTP/1.1 101') && resolve()));
  const ended = new Promise<boolean>((resolve) => {
    socket.once('end', () => {
      if (!stubborn) socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
  return { ended };
}

/** A raw SSE reader: resolves with 'end' when the stream ends cleanly, 'aborted' or 'error' on a reset. */
async function openEventStream(port: number): Promise<{ ended: Promise<string> }> {
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/events', headers: { accept: 'text/event-stream' } }, resolve);
    req.on('error', reject);
    req.end();
    clients.push(() => req.destroy());
  });
  expect(res.headers['content-type']).toBe('text/event-stream');
  res.resume();
  const ended = new Promise<string>((resolve) => {
    res.once('end', () => resolve('end'));
    res.once('aborted', () => resolve('aborted'));
    res.once('error', () => resolve('error'));
  });
  return { ended };
}

describe('long-lived connection metrics', () => {
  it('show WebSocket, SSE and HTTP/2 connections open, and how each was closed at shutdown', async () => {
    const f = spawnFixture(CONNECTIONS_SERVICE, {
      WEBSOCKET: '1',
      ALSO_HTTP2: '1',
      HOLD_MS: '2000',
      DRAIN_DELAY_MS: '1000',
      CLOSE_WINDOW_MS: '300',
      SHUTDOWN_TIMEOUT_MS: '10000',
    });
    fixtures.push(f);
    const listening = await f.waitForLine(isFixture('listening'));
    const { mainPort, probePort, http2Port } = listening as unknown as { mainPort: number; probePort: number; http2Port: number };

    const webSockets = await Promise.all([1, 2, 3].map(() => openWebSocket(mainPort)));
    const streams = await Promise.all([1, 2].map(() => openEventStream(mainPort)));
    const session = connectHttp2(`http://127.0.0.1:${http2Port}`);
    clients.push(() => session.destroy());
    const sessionErrors: string[] = [];
    session.on('error', (error: Error) => sessionErrors.push(error.message));
    await new Promise<void>((resolve) => session.once('connect', () => resolve()));
    const sessionClosed = new Promise<void>((resolve) => session.once('close', () => resolve()));

    // While ready the gauge is a sample, refreshed every second.
    await expect.poll(() => scrape(probePort), { timeout: 3000, interval: 200 }).toMatchObject({ 'open websocket': 3, 'open sse': 2, 'open http2': 1 });
    const before = await scrape(probePort);
    for (const [name, value] of Object.entries(before)) if (name.startsWith('closed')) expect(value, name).toBe(0);

    f.kill('SIGTERM');
    // The drain delay: everything is still open (the HTTP/2 session has its GOAWAY), nothing closed by podkit yet.
    await f.waitForLine(isState('draining'));
    await delay(300);
    const during = await scrape(probePort);
    expect(during, output(f)).toMatchObject({ 'open websocket': 3, 'open sse': 2, 'closed websocket clean': 0, 'closed sse clean': 0 });

    // "Stop accepting": close frames and ends of stream go out within the close window; the hold
    // keeps the service up (and /metrics answering) for 2 s after it.
    await f.waitForLine(isState('stopping'));
    expect(await Promise.all(webSockets.map((w) => w.closed))).toEqual([1001, 1001, 1001]);
    expect(await Promise.all(streams.map((s) => s.ended))).toEqual(['end', 'end']);
    await sessionClosed;
    await expect
      .poll(() => scrape(probePort), { timeout: 1500, interval: 100 })
      .toMatchObject({ 'open websocket': 0, 'open sse': 0, 'open http2': 0, 'closed websocket clean': 3, 'closed sse clean': 2, 'closed http2 clean': 1 });
    const after = await scrape(probePort);
    for (const outcome of ['app', 'client', 'ended', 'timeout']) {
      for (const kind of ['websocket', 'sse', 'http2']) expect(after[`closed ${kind} ${outcome}`], `${kind} ${outcome}`).toBe(0);
    }

    const exit = await f.exited;
    expect(exit.code, output(f)).toBe(0);
    expect(sessionErrors).toEqual([]);
  });

  it('count a client that does not answer the close frame as ended, and one that does not even close its side as timeout', async () => {
    const f = spawnFixture(CONNECTIONS_SERVICE, { WEBSOCKET: '1', HOLD_MS: '2500', CLOSE_WINDOW_MS: '200', CLOSE_TIMEOUT_MS: '300', SHUTDOWN_TIMEOUT_MS: '10000' });
    fixtures.push(f);
    const { mainPort, probePort } = (await f.waitForLine(isFixture('listening'))) as unknown as { mainPort: number; probePort: number };
    const answering = await openWebSocket(mainPort);
    const deaf = await openDeafWebSocket(mainPort);
    const stubborn = await openDeafWebSocket(mainPort, { stubborn: true });
    await expect.poll(() => scrape(probePort), { timeout: 3000, interval: 200 }).toMatchObject({ 'open websocket': 3 });
    f.kill('SIGTERM');
    expect(await answering.closed).toBe(1001);
    // The close frame reached it, it never answered; podkit's FIN after closeTimeoutMs did close it.
    expect(await deaf.ended).toBe(true);
    // The stubborn one got podkit's FIN too, and is destroyed a second later.
    expect(await stubborn.ended).toBe(true);
    await expect
      .poll(() => scrape(probePort), { timeout: 2000, interval: 100 })
      .toMatchObject({ 'open websocket': 0, 'closed websocket clean': 1, 'closed websocket ended': 1, 'closed websocket timeout': 1 });
    expect((await f.exited).code, output(f)).toBe(0);
  });

  it("count a WebSocket left to the app (webSocketGoodbye 'app') that the app's goodbye closes as app", async () => {
    const f = spawnFixture(CONNECTIONS_SERVICE, { WEBSOCKET: '1', WS_GOODBYE: 'app', HOLD_MS: '0', GOODBYE_HOOK_MS: '2000', SHUTDOWN_TIMEOUT_MS: '10000' });
    fixtures.push(f);
    const { mainPort, probePort } = (await f.waitForLine(isFixture('listening'))) as unknown as { mainPort: number; probePort: number };
    const polite = await openWebSocket(mainPort, (ws) => ws.close(1000));
    await expect.poll(() => scrape(probePort), { timeout: 3000, interval: 200 }).toMatchObject({ 'open websocket': 1 });
    f.kill('SIGTERM');
    expect(await polite.closed).toBe(1000);
    // Still inside the app's shutdown hook (it takes 2 s after its goodbye).
    await expect.poll(() => scrape(probePort), { timeout: 1500, interval: 100 }).toMatchObject({ 'open websocket': 0, 'closed websocket app': 1, 'closed websocket client': 0 });
    expect((await f.exited).code, output(f)).toBe(0);
  });
});
