/**
 * Connection accounting in a real, forked service under real signals: requests whose client left
 * before podkit counted them, pipelined requests left behind by a client, HTTPS connections still
 * in their TLS handshake when the listener closes, and upgraded (WebSocket) connections across the
 * shutdown sequence.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { delay, get, waitFor } from '../support/http.js';
import { cleanup, spawnFixture, type Fixture } from '../support/process.js';
import { createTracker, indexOf, isExit, isFixture, isState, ms, output } from './helpers.js';

const CONNECTIONS_SERVICE = new URL('../fixtures/connections-service.ts', import.meta.url);

const t = createTracker();
const fixtures: Fixture[] = [];
const sockets: Array<{ destroy(): void }> = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await cleanup(fixtures);
  await t.cleanup();
});

interface Service {
  f: Fixture;
  mainPort: number;
  probePort: number;
}

async function start(env: Record<string, string> = {}): Promise<Service> {
  const f = spawnFixture(CONNECTIONS_SERVICE, env);
  fixtures.push(f);
  const line = await f.waitForLine(isFixture('listening'));
  return { f, mainPort: line.mainPort as number, probePort: line.probePort as number };
}

async function openSocket(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

function socketClosed(socket: { once(event: 'close', fn: () => void): unknown }): Promise<number> {
  return new Promise((resolve) => socket.once('close', () => resolve(performance.now())));
}

/** The in-flight gauge on the probe port's /metrics. */
async function inFlightGauge(probePort: number): Promise<number> {
  const { body } = await get(probePort, '/metrics');
  const match = /^podkit_inflight_requests (\d+)$/m.exec(body);
  if (!match) throw new Error(`no podkit_inflight_requests in:\n${body}`);
  return Number(match[1]);
}

/** A self-signed certificate for 127.0.0.1, made for this test. */
function makeCertificate(): { key: string; cert: string; ca: Buffer } {
  const dir = t.tempDir();
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    { stdio: 'ignore' },
  );
  return { key, cert, ca: readFileSync(cert) };
}

describe.each([{ framework: 'node' }, { framework: 'express' }])('a request whose client left before podkit counted it ($framework)', ({ framework }) => {
  it('is never counted: inFlight stays 0 and SIGTERM exits 0 at once, not 124 after shutdownTimeoutMs', async () => {
    const { f, mainPort } = await start({ FRAMEWORK: framework, TRACK: 'late', AUTH_MS: '400', SHUTDOWN_TIMEOUT_MS: '5000' });
    const client = await openSocket(mainPort);
    client.write('GET /gone HTTP/1.1\r\nHost: podkit.test\r\n\r\n');
    await f.waitForLine((l) => l.fixture === 'request' && l.path === '/gone');
    // The client leaves while the app is still awaiting, before podkit has seen the request.
    client.destroy();
    expect(await f.waitForLine((l) => l.fixture === 'tracked' && l.path === '/gone'), output(f)).toMatchObject({ inFlight: 0 });

    // A request whose client stays is still counted, on the same late path.
    const { body } = await get(mainPort, '/inflight');
    expect(JSON.parse(body)).toEqual({ inFlight: 1 });

    const killedAt = performance.now();
    f.kill('SIGTERM');
    const exit = await f.exited;
    console.log(`[measure] ${framework}: SIGTERM → exit after a request abandoned before it was counted: ${ms(exit.at - killedAt)}`);
    expect(exit.code, output(f)).toBe(0);
    expect(exit.at - killedAt).toBeLessThan(2500);
  });
});

describe('pipelined requests left behind by their clients', () => {
  it('releases every response queued on a socket that died: inFlight and the /metrics gauge return to 0, and SIGTERM exits 0 promptly', async () => {
    const { f, mainPort, probePort } = await start({ SHUTDOWN_TIMEOUT_MS: '5000' });
    const clients = 4;
    const perClient = 500;
    // Slow enough that no response is out before the clients leave.
    const slowMs = 4000;
    const request = `GET /slow?ms=${slowMs} HTTP/1.1\r\nHost: podkit.test\r\n\r\n`;
    const conns = await Promise.all(Array.from({ length: clients }, () => openSocket(mainPort)));
    for (const conn of conns) conn.write(request.repeat(perClient));
    // Every request has reached the app: one on the wire per socket, the rest queued behind it.
    await waitFor(() => f.lines.filter((l) => l.fixture === 'request').length === clients * perClient, { timeoutMs: 15_000 });
    const lastRequestAt = performance.now();
    // While ready the gauge is the connections with a response on the wire, sampled every second:
    // one per client, however many requests are queued behind it.
    await waitFor(async () => (await inFlightGauge(probePort)) === clients, { timeoutMs: 3000 }).catch(async (error: unknown) => {
      throw new Error(`${String(error)}; the gauge says ${await inFlightGauge(probePort)}`);
    });
    for (const conn of conns) conn.destroy();

    const releasedAt = performance.now();
    await waitFor(async () => (await inFlightGauge(probePort)) === 0, { timeoutMs: 8000 }).catch(async (error: unknown) => {
      throw new Error(`${String(error)}; the gauge still says ${await inFlightGauge(probePort)}`);
    });
    console.log(`[measure] ${clients} × ${perClient} pipelined requests abandoned → in-flight gauge 0: ${ms(performance.now() - releasedAt)}`);
    // The slow handlers end their orphaned responses: nothing is counted again.
    await delay(Math.max(0, lastRequestAt + slowMs + 500 - performance.now()));
    expect(await inFlightGauge(probePort)).toBe(0);
    expect(JSON.parse((await get(mainPort, '/inflight')).body)).toEqual({ inFlight: 1 });

    const killedAt = performance.now();
    f.kill('SIGTERM');
    const exit = await f.exited;
    expect(exit.code, output(f)).toBe(0);
    expect(exit.at - killedAt).toBeLessThan(2500);
  });
});

describe('an HTTPS connection still in its TLS handshake when the listener closes', () => {
  it('gets the same grace as a plain one: the request it sends right after the handshake is served, with Connection: close, and the exit is 0', async () => {
    const { key, cert, ca } = makeCertificate();
    const { f, mainPort } = await start({ TLS_KEY_FILE: key, TLS_CERT_FILE: cert, SHUTDOWN_TIMEOUT_MS: '5000' });
    // Accepted, but no ClientHello sent yet.
    const raw = await openSocket(mainPort);
    await delay(30);
    f.kill('SIGTERM');
    await f.waitForLine(isState('stopping'));
    // The listener is closed: a new connection is refused.
    await waitFor(() => openSocket(mainPort).then(() => false, (error: NodeJS.ErrnoException) => error.code === 'ECONNREFUSED'), { timeoutMs: 2000, intervalMs: 10 });

    const secure = tlsConnect({ socket: raw, ca, servername: 'localhost' });
    sockets.push(secure);
    let received = '';
    secure.setEncoding('latin1');
    secure.on('data', (chunk: string) => {
      received += chunk;
    });
    const closedAt = new Promise<number>((resolve, reject) => {
      secure.once('close', () => resolve(performance.now()));
      secure.once('error', reject);
    });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    secure.write('GET / HTTP/1.1\r\nHost: podkit.test\r\n\r\n');
    await closedAt;
    const exit = await f.exited;

    expect(received, output(f)).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(received.toLowerCase()).toContain('\r\nconnection: close\r\n');
    expect(received.endsWith('hello')).toBe(true);
    expect(exit.code, output(f)).toBe(0);
    expect(f.lines.find(isExit)).toMatchObject({ code: 0, kind: 'clean' });
  });

  it('is closed after its grace when the handshake never comes, and the exit is 0 well before shutdownTimeoutMs', async () => {
    const { key, cert } = makeCertificate();
    const { f, mainPort } = await start({ TLS_KEY_FILE: key, TLS_CERT_FILE: cert, SHUTDOWN_TIMEOUT_MS: '8000' });
    const raw = await openSocket(mainPort);
    const closedAt = socketClosed(raw);
    await delay(30);
    const killedAt = performance.now();
    f.kill('SIGTERM');
    const exit = await f.exited;
    const took = exit.at - killedAt;
    console.log(`[measure] HTTPS: SIGTERM → exit with one connection that never sends its ClientHello: ${ms(took)}`);
    expect(exit.code, output(f)).toBe(0);
    // Kept for its grace (500 ms from being accepted), then closed: not cut at once, not held to the timeout.
    expect(took).toBeGreaterThanOrEqual(300);
    expect(took).toBeLessThan(3000);
    expect(await closedAt).toBeLessThanOrEqual(exit.at + 50);
  });
});

describe("an upgraded connection (WebSocket) during shutdown, webSocketGoodbye: 'app'", () => {
  it('stays open while holds are waited for, gets the goodbye a shutdown hook sends, then is closed, and the exit is 0', async () => {
    const { f, mainPort } = await start({ WEBSOCKET: '1', WS_GOODBYE: 'app', HOLD_MS: '400', SHUTDOWN_TIMEOUT_MS: '5000' });
    const ws = new WebSocket(`ws://127.0.0.1:${mainPort}/`);
    sockets.push({ destroy: () => ws.terminate() });
    const messages: Array<{ text: string; at: number }> = [];
    ws.on('message', (data) => messages.push({ text: String(data), at: performance.now() }));
    ws.on('error', () => {});
    const wsClosed = new Promise<number>((resolve) => ws.once('close', () => resolve(performance.now())));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    await f.waitForLine(isFixture('ws-open'));
    // Older than the fresh-connection grace: today's stop-accepting step must not mistake it for an idle socket.
    await delay(700);

    const killedAt = performance.now();
    f.kill('SIGTERM');
    await f.waitForLine(isState('stopping'));
    // The listener is closed and the hold is still open: the connection still works.
    ws.send('still here');
    await waitFor(() => messages.some((m) => m.text === 'echo still here'), { timeoutMs: 3000 }).catch(() => {
      throw new Error(`no echo after "stopping"; messages: ${JSON.stringify(messages)}; output:\n${output(f)}`);
    });
    const closedAt = await wsClosed;
    const exit = await f.exited;

    const goodbye = messages.find((m) => m.text === 'goodbye');
    expect(goodbye, output(f)).toBeDefined();
    expect(closedAt).toBeGreaterThanOrEqual(goodbye!.at);
    expect(exit.code, output(f)).toBe(0);
    console.log(`[measure] WebSocket: SIGTERM → exit (hold 400 ms, goodbye hook): ${ms(exit.at - killedAt)}`);
    expect(exit.at - killedAt).toBeLessThan(4000);
    // In the service's own order: listener closed, hold released, goodbye sent, socket closed, exit.
    const order = [isState('stopping'), isFixture('hold-released'), isFixture('goodbye-sent'), isFixture('ws-closed'), isExit].map((match) => indexOf(f.lines, match));
    expect(order.every((i) => i >= 0), output(f)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(f.lines.find(isFixture('goodbye-sent'))).toMatchObject({ clients: 1 });
  });
});
