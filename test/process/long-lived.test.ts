/**
 * Long-lived connections at shutdown, in a real forked service under SIGTERM, with real clients:
 * WebSocket clients (`ws`) get a close frame 1001 Going Away, spread over the close window, and
 * Server-Sent Events streams (a raw reader) end cleanly; neither holds the exit to
 * shutdownTimeoutMs, and none is reset.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { connect as connectHttp2, type ClientHttp2Session } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { delay } from '../support/http.js';
import { h2Get } from '../support/http2.js';
import { cleanup, spawnFixture, type Fixture } from '../support/process.js';
import { indexOf, isExit, isFixture, isState, ms, output } from './helpers.js';

const CONNECTIONS_SERVICE = new URL('../fixtures/connections-service.ts', import.meta.url);

const fixtures: Fixture[] = [];
const clients: Array<{ destroy(): void }> = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await cleanup(fixtures);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function start(env: Record<string, string>): Promise<{ f: Fixture; mainPort: number }> {
  const f = spawnFixture(CONNECTIONS_SERVICE, env);
  fixtures.push(f);
  const line = await f.waitForLine(isFixture('listening'));
  return { f, mainPort: line.mainPort as number };
}

interface WsClient {
  closed: Promise<{ code: number; at: number }>;
}

async function openWebSocket(port: number): Promise<WsClient> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  clients.push({ destroy: () => ws.terminate() });
  ws.on('error', () => {});
  const closed = new Promise<{ code: number; at: number }>((resolve) => ws.once('close', (code) => resolve({ code, at: performance.now() })));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return { closed };
}

interface SseReader {
  /** Resolves when the stream ends: with how it ended and everything that was read. */
  ended: Promise<{ how: 'end' | 'aborted' | 'error'; body: string; at: number }>;
}

/** Reads an SSE stream until it ends, telling a clean end from a reset. */
async function openEventStream(port: number): Promise<SseReader> {
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/events', headers: { accept: 'text/event-stream' } }, resolve);
    req.on('error', reject);
    req.end();
    clients.push({ destroy: () => req.destroy() });
  });
  expect(res.headers['content-type']).toBe('text/event-stream');
  let body = '';
  res.setEncoding('utf8');
  const ended = new Promise<{ how: 'end' | 'aborted' | 'error'; body: string; at: number }>((resolve) => {
    res.on('data', (chunk: string) => (body += chunk));
    res.once('end', () => resolve({ how: 'end', body, at: performance.now() }));
    res.once('aborted', () => resolve({ how: 'aborted', body, at: performance.now() }));
    res.once('error', () => resolve({ how: 'error', body, at: performance.now() }));
  });
  return { ended };
}

describe('WebSocket connections at shutdown', () => {
  it('each gets a close frame 1001 (never 1006), spread over the close window, and the exit is 0 well before shutdownTimeoutMs', async () => {
    const { f, mainPort } = await start({ WEBSOCKET: '1', HOLD_MS: '0', CLOSE_WINDOW_MS: '1000', DRAIN_DELAY_MS: '300', SHUTDOWN_TIMEOUT_MS: '10000' });
    const sockets = await Promise.all(Array.from({ length: 8 }, () => openWebSocket(mainPort)));
    await delay(600);

    const killedAt = performance.now();
    f.kill('SIGTERM');
    const closes = await Promise.all(sockets.map((s) => s.closed));
    const exit = await f.exited;

    expect(closes.map((c) => c.code), output(f)).toEqual(closes.map(() => 1001));
    expect(exit.code, output(f)).toBe(0);
    // Not before the drain delay: until "stop accepting" they are served as usual.
    for (const close of closes) expect(close.at - killedAt).toBeGreaterThanOrEqual(250);
    const times = closes.map((c) => c.at);
    const spread = Math.max(...times) - Math.min(...times);
    console.log(`[measure] 8 WebSocket clients: closes spread over ${ms(spread)}; SIGTERM → exit ${ms(exit.at - killedAt)}`);
    // Eight random moments of a 1000 ms window all within 200 ms of each other: p ≈ 1e-4.
    expect(spread).toBeGreaterThan(200);
    expect(exit.at - killedAt).toBeLessThan(5000);
    // The app's own `ws` objects saw the same clean close.
    const serverCodes = f.lines.filter(isFixture('ws-closed')).map((line) => line.code);
    expect(serverCodes, output(f)).toEqual(closes.map(() => 1001));
  });

  it('with webSocketGoodbye "app", podkit sends no frame: the hooks see the connections still open', async () => {
    const { f, mainPort } = await start({ WEBSOCKET: '1', WS_GOODBYE: 'app', HOLD_MS: '0', CLOSE_WINDOW_MS: '200', SHUTDOWN_TIMEOUT_MS: '10000' });
    const socket = await openWebSocket(mainPort);
    await delay(600);
    f.kill('SIGTERM');
    await socket.closed;
    const exit = await f.exited;
    expect(exit.code, output(f)).toBe(0);
    expect(f.lines.find(isFixture('goodbye-sent')), output(f)).toMatchObject({ clients: 1 });
    expect(indexOf(f.lines, isFixture('goodbye-sent'))).toBeLessThan(indexOf(f.lines, isFixture('ws-closed')));
  });
});

describe('Server-Sent Events streams at shutdown', () => {
  it('end cleanly (no reset), after a retry field, and never hold the exit to shutdownTimeoutMs', async () => {
    const { f, mainPort } = await start({ CLOSE_WINDOW_MS: '500', SSE_RETRY_MS: '700', DRAIN_DELAY_MS: '300', SHUTDOWN_TIMEOUT_MS: '10000' });
    const streams = await Promise.all(Array.from({ length: 3 }, () => openEventStream(mainPort)));
    await delay(600);

    const killedAt = performance.now();
    f.kill('SIGTERM');
    const ends = await Promise.all(streams.map((s) => s.ended));
    const exit = await f.exited;

    expect(ends.map((e) => e.how), output(f)).toEqual(['end', 'end', 'end']);
    for (const end of ends) {
      expect(end.body).toMatch(/^data: 0\n\n/);
      expect(end.body).toMatch(/retry: 700\n\n$/);
      expect(end.at - killedAt).toBeGreaterThanOrEqual(250);
    }
    expect(exit.code, output(f)).toBe(0);
    console.log(`[measure] 3 SSE streams: SIGTERM → exit ${ms(exit.at - killedAt)}`);
    expect(exit.at - killedAt).toBeLessThan(5000);
    expect(indexOf(f.lines, isState('stopping'))).toBeLessThan(indexOf(f.lines, isFixture('sse-closed')));
    expect(indexOf(f.lines, isFixture('sse-closed'))).toBeLessThan(indexOf(f.lines, isExit));
  });
});

describe.each([{ tls: false }, { tls: true }])('an HTTP/2 main server at shutdown (TLS: $tls)', ({ tls }) => {
  it('is accepted by start(); its session gets GOAWAY during the drain delay, the stream in flight completes, and the exit is 0', async () => {
    const certificate = tls ? makeCertificate() : undefined;
    const { f, mainPort } = await start({
      HTTP2: '1',
      DRAIN_DELAY_MS: '500',
      SHUTDOWN_TIMEOUT_MS: '10000',
      ...(certificate ? { TLS_KEY_FILE: certificate.key, TLS_CERT_FILE: certificate.cert } : {}),
    });
    const session = certificate
      ? connectHttp2(`https://localhost:${mainPort}`, { ca: certificate.ca })
      : connectHttp2(`http://127.0.0.1:${mainPort}`);
    clients.push({ destroy: () => session.destroy() });
    const events: Array<{ what: string; at: number; code?: number }> = [];
    session.on('goaway', (code: number) => events.push({ what: 'goaway', code, at: performance.now() }));
    session.on('error', (error: Error) => events.push({ what: `session error ${error.message}`, at: performance.now() }));
    const sessionClosed = new Promise<number>((resolve) => session.once('close', () => resolve(performance.now())));

    // Streams are requests in the in-flight gauge: this one counts itself.
    expect(JSON.parse(await h2Get(session, '/inflight'))).toEqual({ inFlight: 1 });
    const slow = h2Get(session, '/slow?ms=1500');
    await delay(300);
    const killedAt = performance.now();
    f.kill('SIGTERM');

    expect(await slow).toBe('slow done');
    await sessionClosed;
    const exit = await f.exited;
    expect(exit.code, output(f)).toBe(0);
    const goaway = events.find((e) => e.what === 'goaway');
    expect(goaway, JSON.stringify(events)).toMatchObject({ code: 0 });
    // During the drain delay, not at its end.
    expect(goaway!.at - killedAt).toBeLessThan(450);
    expect(events.filter((e) => e.what !== 'goaway'), output(f)).toEqual([]);
    console.log(`[measure] HTTP/2: SIGTERM → GOAWAY ${ms(goaway!.at - killedAt)}, → exit ${ms(exit.at - killedAt)}`);
    expect(exit.at - killedAt).toBeLessThan(5000);
  });
});

describe.each([{ tls: false }, { tls: true }])('Server-Sent Events streams over HTTP/2 at shutdown (TLS: $tls)', ({ tls }) => {
  it('end with END_STREAM (no RST_STREAM), after a retry field, spread over the close window, and never hold the exit to shutdownTimeoutMs', async () => {
    const certificate = tls ? makeCertificate() : undefined;
    const { f, mainPort } = await start({
      HTTP2: '1',
      CLOSE_WINDOW_MS: '800',
      SSE_RETRY_MS: '700',
      DRAIN_DELAY_MS: '300',
      SHUTDOWN_TIMEOUT_MS: '10000',
      ...(certificate ? { TLS_KEY_FILE: certificate.key, TLS_CERT_FILE: certificate.cert } : {}),
    });
    const session = certificate ? connectHttp2(`https://localhost:${mainPort}`, { ca: certificate.ca }) : connectHttp2(`http://127.0.0.1:${mainPort}`);
    clients.push({ destroy: () => session.destroy() });
    const sessionErrors: string[] = [];
    session.on('error', (error: Error) => sessionErrors.push(error.message));
    const streams = Array.from({ length: 4 }, () => h2EventStream(session));
    await Promise.all(streams.map((s) => s.opened));
    await delay(600);

    const killedAt = performance.now();
    f.kill('SIGTERM');
    const ends = await Promise.all(streams.map((s) => s.ended));
    const exit = await f.exited;

    expect(ends.map((e) => e.how), JSON.stringify(ends) + output(f)).toEqual(ends.map(() => 'end'));
    for (const end of ends) {
      expect(end.rstCode ?? 0).toBe(0);
      expect(end.body).toMatch(/^data: 0\n\n/);
      expect(end.body).toMatch(/retry: 700\n\n$/);
      // Served as usual through the drain delay; ended at "stop accepting" or later.
      expect(end.at - killedAt).toBeGreaterThanOrEqual(250);
    }
    expect(sessionErrors).toEqual([]);
    expect(exit.code, output(f)).toBe(0);
    const times = ends.map((e) => e.at);
    console.log(`[measure] 4 HTTP/2 SSE streams: ends spread over ${ms(Math.max(...times) - Math.min(...times))}; SIGTERM → exit ${ms(exit.at - killedAt)}`);
    expect(exit.at - killedAt).toBeLessThan(5000);
  });
});

interface H2EventStream {
  /** Resolves once the response headers are in (and says they are an event stream). */
  opened: Promise<void>;
  /** How the stream ended: 'end' (END_STREAM), 'aborted' or 'error' (a reset), with its RST_STREAM code if any. */
  ended: Promise<{ how: 'end' | 'aborted' | 'error'; body: string; at: number; rstCode: number | undefined }>;
}

/** An SSE stream read over an HTTP/2 session, telling END_STREAM from a reset. */
function h2EventStream(session: ClientHttp2Session): H2EventStream {
  const stream = session.request({ ':path': '/events', accept: 'text/event-stream' });
  let body = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => (body += chunk));
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('response', (headers) => {
      expect(headers['content-type']).toBe('text/event-stream');
      resolve();
    });
    stream.once('error', reject);
  });
  const ended = new Promise<{ how: 'end' | 'aborted' | 'error'; body: string; at: number; rstCode: number | undefined }>((resolve) => {
    const settle = (how: 'end' | 'aborted' | 'error') => resolve({ how, body, at: performance.now(), rstCode: stream.rstCode });
    stream.once('end', () => settle('end'));
    stream.once('aborted', () => settle('aborted'));
    stream.once('error', () => settle('error'));
  });
  return { opened, ended };
}

/** A self-signed certificate for localhost, made for this test. */
function makeCertificate(): { key: string; cert: string; ca: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'podkit-h2-'));
  dirs.push(dir);
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    { stdio: 'ignore' },
  );
  return { key, cert, ca: readFileSync(cert) };
}

