/**
 * The gRPC drain, in-process: RPCs are served through the drain delay; at "stop accepting" the
 * listener closes and connections get GOAWAY while in-flight unary calls and streams finish; the
 * shutdown hooks run after the last of them; the lifecycle's deadline cuts what is left. HTTP and
 * gRPC under one lifecycle drain together. A TLS connection that finishes its handshake after the
 * listener closed gets GOAWAY too.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { connect as http2Connect } from 'node:http2';
import { connect as netConnect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { credentials, Server, ServerCredentials } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { serveGrpc } from '@podkit/grpc';
import { stopAll, testLifecycle } from '../in-process/helpers.js';
import { check, count, healthClient, work, WORK_SERVICE, WorkClient, workImplementation, type WorkClientInstance } from './helpers.js';

const closers: Array<() => void> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) close();
  await stopAll();
});

function workServer(): Server {
  const server = new Server();
  server.addService(WORK_SERVICE, workImplementation);
  return server;
}

function workClient(port: number): WorkClientInstance {
  const client = new WorkClient(`127.0.0.1:${port}`, credentials.createInsecure());
  closers.push(() => client.close());
  return client;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('gRPC drain', () => {
  it('serves through the drain delay, then lets in-flight unary calls and streams finish before the hooks run; exit 0', async () => {
    const t = testLifecycle({ drainDelayMs: 600 });
    const serving = serveGrpc(t.lifecycle, workServer(), { address: '127.0.0.1:0' });
    let hookAt = 0;
    t.lifecycle.onShutdown('pool', () => {
      hookAt = performance.now();
    });
    await t.lifecycle.start();
    const client = workClient(serving.port!);
    expect(await work(client, 0)).toMatchObject({ ok: true });

    // In flight when SIGTERM comes, and still in flight when the drain delay ends.
    const slowUnary = work(client, 1200);
    const stream = count(client, 15, 80);
    await sleep(50);
    const stopped = t.lifecycle.stop('test');
    // A call that arrives during the drain delay is served normally.
    await sleep(300);
    const duringDelay = await work(client, 10);
    expect(duringDelay).toMatchObject({ ok: true });

    // After "stop accepting": a new connection is refused (the listener is closed).
    await sleep(500);
    expect(t.lifecycle.state).toBe('stopping');
    const late = healthClient(`127.0.0.1:${serving.port!}`);
    closers.push(() => late.close());
    expect(await check(late, '', 1000)).toMatchObject({ codeName: 'UNAVAILABLE' });

    const [unary, streamed, result] = await Promise.all([slowUnary, stream, stopped]);
    expect(unary).toMatchObject({ ok: true });
    expect(streamed).toMatchObject({ items: 15, code: 'OK' });
    expect(result.code).toBe(0);
    // The hook ran only once the last RPC was done.
    expect(hookAt).toBeGreaterThanOrEqual(Math.max((unary as { at: number }).at, streamed.at) - 5);
  });

  it('cuts what is still running at the lifecycle deadline (forceShutdown): exit 124, the stream ends CANCELLED', async () => {
    const t = testLifecycle({ drainDelayMs: 0, shutdownTimeoutMs: 800 });
    const serving = serveGrpc(t.lifecycle, workServer(), { address: '127.0.0.1:0' });
    await t.lifecycle.start();
    const client = workClient(serving.port!);
    // Far longer than the shutdown budget.
    const endless = count(client, 1000, 50);
    await sleep(100);
    const began = performance.now();
    const result = await t.lifecycle.stop('test');
    expect(result.code).toBe(124);
    const streamed = await endless;
    expect(streamed.code).toMatch(/CANCELLED|UNAVAILABLE|INTERNAL/);
    expect(streamed.items).toBeLessThan(1000);
    // Cut at the deadline, not when the process would have ended.
    expect(streamed.at - began).toBeLessThan(800 + 500);
  });

  it('drains an HTTP server and a gRPC server under one lifecycle: both finish their in-flight work, exit 0', async () => {
    const t = testLifecycle({ drainDelayMs: 300 });
    const serving = serveGrpc(t.lifecycle, workServer(), { address: '127.0.0.1:0' });
    const http = createServer((_req, res) => {
      setTimeout(() => res.end('done'), 700);
    });
    await t.lifecycle.start(() => http.listen(0, '127.0.0.1'));
    const httpPort = (http.address() as AddressInfo).port;
    const client = workClient(serving.port!);

    const httpBody = new Promise<string>((resolve, reject) => {
      request({ host: '127.0.0.1', port: httpPort, path: '/' }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(body));
      })
        .on('error', reject)
        .end();
    });
    const grpcCall = work(client, 700);
    await sleep(50);
    const result = await t.lifecycle.stop('test');
    expect(result.code).toBe(0);
    expect(await httpBody).toBe('done');
    expect(await grpcCall).toMatchObject({ ok: true });
    expect(http.listening).toBe(false);
  });

  it('keeps the shutdown waiting on a hold named after the server until the server has shut down', async () => {
    const t = testLifecycle({ drainDelayMs: 0 });
    const serving = serveGrpc(t.lifecycle, workServer(), { address: '127.0.0.1:0', name: 'grpc-public' });
    await t.lifecycle.start();
    const call = work(workClient(serving.port!), 400);
    await sleep(50);
    const result = await t.lifecycle.stop('test');
    expect(result.code).toBe(0);
    expect(await call).toMatchObject({ ok: true });
    const holds = t.logs.find((l) => l.obj.event === 'holds');
    expect(holds?.obj.holds).toEqual(['grpc-public']);
  });

  it('says goodbye to a TLS connection whose handshake finishes after the listener closed, instead of waiting for it until the deadline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'podkit-grpc-tls-'));
    closers.push(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=greeter.test', '-addext', 'subjectAltName=DNS:greeter.test'],
      { stdio: 'ignore' },
    );
    const cert = readFileSync(join(dir, 'cert.pem'));
    const t = testLifecycle({ drainDelayMs: 0, shutdownTimeoutMs: 4000 });
    const serving = serveGrpc(t.lifecycle, workServer(), {
      address: '127.0.0.1:0',
      credentials: ServerCredentials.createSsl(null, [{ private_key: readFileSync(join(dir, 'key.pem')), cert_chain: cert }]),
      selfCheck: { rootCerts: cert, servername: 'greeter.test' },
    });
    await t.lifecycle.start();

    // A connection the server has accepted, its TLS handshake not begun yet.
    const socket = netConnect(serving.port!, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    await sleep(50);
    const began = performance.now();
    const stopped = t.lifecycle.stop('test');
    await sleep(100); // the listener is closed by now
    // The handshake completes, and an HTTP/2 session opens over it: an idle client connection.
    const tls = tlsConnect({ socket, ca: cert, servername: 'greeter.test', ALPNProtocols: ['h2'] });
    const session = http2Connect('https://greeter.test', { createConnection: () => tls });
    session.on('error', () => {});
    const goaway = new Promise<boolean>((resolve) => {
      session.once('goaway', () => resolve(true));
      session.once('close', () => resolve(false));
    });
    closers.push(() => session.destroy());
    const result = await stopped;
    expect(result.code).toBe(0);
    expect(await goaway).toBe(true);
    expect(performance.now() - began).toBeLessThan(3000);
  });
});
