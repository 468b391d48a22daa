/**
 * Warmups with real RPCs, in-process: the server binds and makes a Health/Check RPC to itself
 * (plaintext and TLS) before ready; a bind failure fails the start (75); a client warmup makes a
 * Health/Check RPC on the dependency's channel and fails the start with the reason when it cannot.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectivityState, credentials, Server, ServerCredentials, ServerInterceptingCall, type ServerInterceptor } from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionError, retry } from '@podkit/lifecycle';
import { GrpcHealthError, grpcClientCheck, grpcClientWarmup, serveGrpc } from '@podkit/grpc';
import { nextEvent, stopAll, testLifecycle } from '../in-process/helpers.js';
import { check, healthClient, WORK_SERVICE, WorkClient, workImplementation } from './helpers.js';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  await stopAll();
  for (const clean of cleanups.splice(0)) await clean();
});

/** Records the path of every RPC the server receives. */
function recordingServer(calls: string[], options: { health?: boolean } = {}): Server {
  const recorder: ServerInterceptor = (method, call) => {
    calls.push(method.path);
    return new ServerInterceptingCall(call);
  };
  const server = new Server({ interceptors: [recorder] });
  if (options.health === false) server.addService(WORK_SERVICE, workImplementation);
  return server;
}

function listenNet(server: NetServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listenNet(server);
  await new Promise((r) => server.close(r));
  return port;
}

describe('the server warmup', () => {
  it('binds, then makes a real Health/Check RPC to itself before ready', async () => {
    const calls: string[] = [];
    const t = testLifecycle();
    const states: string[] = [];
    t.lifecycle.on('state', (s) => states.push(`${s.to}:${calls.length}`));
    const serving = serveGrpc(t.lifecycle, recordingServer(calls), { address: '127.0.0.1:0' });
    await t.lifecycle.start();
    expect(serving.port).toBeGreaterThan(0);
    expect(calls).toEqual(['/grpc.health.v1.Health/Check']);
    // The RPC came before ready, during warming.
    expect(states).toEqual(['warming:0', 'ready:1']);
    const warmup = t.logs.find((l) => l.obj.event === 'warmup' && l.msg === 'warmup "grpc" finished');
    expect(warmup).toBeDefined();
  });

  it('without the health service, still dials itself, and takes UNIMPLEMENTED as the answer', async () => {
    const t = testLifecycle();
    const serving = serveGrpc(t.lifecycle, recordingServer([], { health: false }), { address: '127.0.0.1:0', health: false });
    await t.lifecycle.start();
    expect(t.lifecycle.state).toBe('ready');
    expect(serving.healthStatus('')).toBeUndefined();
    const client = healthClient(`127.0.0.1:${serving.port!}`);
    cleanups.push(() => client.close());
    expect(await check(client)).toMatchObject({ codeName: 'UNIMPLEMENTED' });
  });

  it('fails the start when the address cannot be bound: exit 75 with the address and the reason', async () => {
    const taken = createServer();
    const port = await listenNet(taken);
    cleanups.push(() => new Promise<void>((r) => taken.close(() => r())));
    const t = testLifecycle();
    serveGrpc(t.lifecycle, new Server(), { address: `127.0.0.1:${port}` });
    await expect(t.lifecycle.start()).rejects.toMatchObject({ code: 'ERR_PODKIT_WARMUP_FAILED' });
    expect(t.exits).toHaveLength(1);
    expect(t.exits[0]!.code).toBe(75);
    expect(t.exits[0]!.reason).toContain(`warmup "grpc" failed: could not bind 127.0.0.1:${port}`);
    expect(t.exits[0]!.reason).toContain('EADDRINUSE');
  });

  it('refuses wrong options at the call, naming the option', () => {
    const t = testLifecycle();
    expect(() => serveGrpc(t.lifecycle, new Server(), { address: '' })).toThrow(expect.objectContaining({ code: 'ERR_PODKIT_INVALID_OPTION', option: 'address' }));
    expect(() => serveGrpc(t.lifecycle, new Server(), { address: ':0', selfCheck: { deadlineMs: 0 } })).toThrow(InvalidOptionError);
    expect(() => serveGrpc(t.lifecycle, new Server(), { address: ':0', health: { services: 'x' as unknown as string[] } })).toThrow(/health\.services/);
    expect(() => serveGrpc(t.lifecycle, {} as Server, { address: ':0' })).toThrow(/serveGrpc\(server\)/);
    expect(() => serveGrpc({} as never, new Server(), { address: ':0' })).toThrow(/serveGrpc\(lifecycle\)/);
    expect(() => serveGrpc(t.lifecycle, new Server(), { address: ':0', port: 1 } as never)).toThrow(/serveGrpc options\.port/);
  });

  it('cannot be added once the lifecycle has started', async () => {
    const t = testLifecycle();
    await t.lifecycle.start();
    expect(() => serveGrpc(t.lifecycle, new Server(), { address: '127.0.0.1:0' })).toThrow(expect.objectContaining({ code: 'ERR_PODKIT_WARMUP_AFTER_START' }));
  });

  describe('over TLS', () => {
    let dir: string;
    let ca: Buffer;
    let tls: () => ServerCredentials;

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'podkit-grpc-tls-'));
      const key = join(dir, 'key.pem');
      const cert = join(dir, 'cert.pem');
      // A certificate for a service name, not for the loopback address the self-dial uses.
      execFileSync(
        'openssl',
        ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=greeter.test', '-addext', 'subjectAltName=DNS:greeter.test'],
        { stdio: 'ignore' },
      );
      ca = readFileSync(cert);
      const privateKey = readFileSync(key);
      tls = () => ServerCredentials.createSsl(null, [{ private_key: privateKey, cert_chain: ca }]);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('dials itself over TLS, verifying the certificate against selfCheck.rootCerts and selfCheck.servername', async () => {
      const calls: string[] = [];
      const t = testLifecycle();
      const serving = serveGrpc(t.lifecycle, recordingServer(calls), {
        address: '127.0.0.1:0',
        credentials: tls(),
        selfCheck: { rootCerts: ca, servername: 'greeter.test' },
      });
      await t.lifecycle.start();
      expect(calls).toEqual(['/grpc.health.v1.Health/Check']);
      // A TLS client with the same CA and name reaches it; a plaintext one does not.
      const secure = healthClient(`127.0.0.1:${serving.port!}`, credentials.createSsl(ca), { 'grpc.ssl_target_name_override': 'greeter.test' });
      const plain = healthClient(`127.0.0.1:${serving.port!}`);
      cleanups.push(() => (secure.close(), plain.close()));
      expect(await check(secure)).toEqual({ status: 'SERVING' });
      expect(await check(plain, '', 1000)).toMatchObject({ codeName: 'UNAVAILABLE' });
    });

    it('fails the start (75) when the certificate cannot be verified, saying which options to set', async () => {
      const t = testLifecycle();
      // No CA: the self-signed certificate is not trusted, as a real client would not trust it.
      serveGrpc(t.lifecycle, new Server(), { address: '127.0.0.1:0', credentials: tls(), selfCheck: { deadlineMs: 2000 } });
      await expect(t.lifecycle.start()).rejects.toMatchObject({ code: 'ERR_PODKIT_WARMUP_FAILED' });
      expect(t.exits[0]!.code).toBe(75);
      expect(t.exits[0]!.reason).toContain('did not answer its own Health/Check');
      expect(t.exits[0]!.reason).toContain('UNAVAILABLE');
      expect(t.exits[0]!.reason).toContain('selfCheck.rootCerts');
    });

    it('dials itself without the health service too: an untrusted certificate still fails the start', async () => {
      const t = testLifecycle();
      serveGrpc(t.lifecycle, new Server(), { address: '127.0.0.1:0', credentials: tls(), health: false, selfCheck: { deadlineMs: 2000 } });
      await expect(t.lifecycle.start()).rejects.toMatchObject({ code: 'ERR_PODKIT_WARMUP_FAILED' });
      expect(t.exits[0]!.reason).toContain('did not answer its own Health/Check');
    });

    it('fails the start when the name on the certificate is not the one dialled', async () => {
      const t = testLifecycle();
      serveGrpc(t.lifecycle, new Server(), { address: '127.0.0.1:0', credentials: tls(), selfCheck: { rootCerts: ca, deadlineMs: 2000 } });
      await expect(t.lifecycle.start()).rejects.toMatchObject({ code: 'ERR_PODKIT_WARMUP_FAILED' });
      expect(t.exits[0]!.code).toBe(75);
      expect(t.exits[0]!.reason).toContain('selfCheck.servername');
    });
  });
});

describe('grpcClientWarmup', () => {
  /** A dependency: a lifecycle-run gRPC server, or a bare one without the health service. */
  async function dependency(options: { ready?: boolean; health?: boolean } = {}) {
    const dep = testLifecycle();
    const server = new Server();
    if (options.health === false) server.addService(WORK_SERVICE, workImplementation);
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const serving = serveGrpc(dep.lifecycle, server, { address: '127.0.0.1:0', health: options.health !== false });
    if (options.ready === false) dep.lifecycle.warmup('slow', () => gate);
    const started = dep.lifecycle.start();
    if (options.ready !== false) await started;
    else while (serving.port === undefined) await new Promise((r) => setTimeout(r, 10));
    cleanups.push(() => open());
    return { port: serving.port!, lifecycle: dep.lifecycle, finishWarmup: open };
  }

  function client(port: number) {
    const c = new WorkClient(`127.0.0.1:${port}`, credentials.createInsecure());
    cleanups.push(() => c.close());
    return c;
  }

  it('passes when the dependency answers SERVING, and leaves the channel connected', async () => {
    const dep = await dependency();
    const c = client(dep.port);
    expect(c.getChannel().getConnectivityState(false)).toBe(connectivityState.IDLE);
    const t = testLifecycle();
    t.lifecycle.warmup('dep', grpcClientWarmup(c, { deadlineMs: 2000 }));
    await t.lifecycle.start();
    expect(t.lifecycle.state).toBe('ready');
    expect(c.getChannel().getConnectivityState(false)).toBe(connectivityState.READY);
  });

  it('fails the start against an unreachable dependency: exit 75, the target and the reason in the message', async () => {
    const port = await closedPort();
    const t = testLifecycle();
    t.lifecycle.warmup('dep', grpcClientWarmup(client(port), { deadlineMs: 2000 }));
    const began = performance.now();
    await expect(t.lifecycle.start()).rejects.toMatchObject({ code: 'ERR_PODKIT_WARMUP_FAILED' });
    // Refused at once, not after the deadline: the channel does not wait for ready.
    expect(performance.now() - began).toBeLessThan(1500);
    expect(t.exits[0]!.code).toBe(75);
    expect(t.exits[0]!.reason).toMatch(new RegExp(`warmup "dep" failed: Health/Check to .*127\\.0\\.0\\.1:${port} \\(service ""\\) failed: 14 UNAVAILABLE`));
    expect(t.exits[0]!.reason).toContain('ECONNREFUSED');
  });

  it('fails within its deadline against a dependency that accepts connections but never answers', async () => {
    const silent = createServer(() => {});
    const port = await listenNet(silent);
    cleanups.push(() => {
      silent.close();
    });
    const t = testLifecycle();
    t.lifecycle.warmup('dep', grpcClientWarmup(client(port), { deadlineMs: 500 }));
    const began = performance.now();
    await expect(t.lifecycle.start()).rejects.toThrow(/DEADLINE_EXCEEDED|UNAVAILABLE/);
    expect(performance.now() - began).toBeLessThan(3000);
    expect(t.exits[0]!.code).toBe(75);
  });

  it('fails against a dependency that answers NOT_SERVING (still warming), and a retry() gives it time', async () => {
    const dep = await dependency({ ready: false });
    const t = testLifecycle();
    t.lifecycle.warmup('dep', grpcClientWarmup(client(dep.port)));
    await expect(t.lifecycle.start()).rejects.toThrow('answered NOT_SERVING');
    expect(t.exits[0]!.reason).toContain('answered NOT_SERVING');

    const slow = await dependency({ ready: false });
    const t2 = testLifecycle();
    t2.lifecycle.warmup('dep', retry(grpcClientWarmup(client(slow.port)), { attempts: 20, initialDelayMs: 50, maxDelayMs: 100 }));
    const started = t2.lifecycle.start();
    await new Promise((r) => setTimeout(r, 200));
    // The dependency becomes ready: its warmup finishes.
    slow.finishWarmup();
    await started;
    expect(t2.lifecycle.state).toBe('ready');
  });

  it('fails against a server without the health service, unless allowUnimplemented', async () => {
    const dep = await dependency({ health: false });
    const t = testLifecycle();
    t.lifecycle.warmup('dep', grpcClientWarmup(client(dep.port)));
    await expect(t.lifecycle.start()).rejects.toThrow('12 UNIMPLEMENTED');

    const t2 = testLifecycle();
    t2.lifecycle.warmup('dep', grpcClientWarmup(client(dep.port), { allowUnimplemented: true }));
    await t2.lifecycle.start();
    expect(t2.lifecycle.state).toBe('ready');
  });

  it('asks about the service it is told to, and an unknown one fails with NOT_FOUND', async () => {
    const dep = await dependency();
    const t = testLifecycle();
    t.lifecycle.warmup('dep', grpcClientWarmup(client(dep.port), { service: 'inventory.v1.Inventory' }));
    await expect(t.lifecycle.start()).rejects.toThrow(/service "inventory\.v1\.Inventory"\) failed: 5 NOT_FOUND/);
  });

  it('refuses what is not a grpc-js client, and unknown options', () => {
    expect(() => grpcClientWarmup({} as never)).toThrow(expect.objectContaining({ code: 'ERR_PODKIT_INVALID_OPTION', option: 'grpcClientWarmup(client)' }));
    const c = client(1);
    expect(() => grpcClientWarmup(c, { deadline: 5 } as never)).toThrow(/grpcClientWarmup options\.deadline/);
    expect(() => grpcClientWarmup(c, { deadlineMs: -1 })).toThrow(InvalidOptionError);
    expect(() => grpcClientCheck(c, { deadlineMs: 5 } as never)).toThrow(/grpcClientCheck options\.deadlineMs/);
  });
});

describe('grpcClientCheck', () => {
  it('fails readiness once the dependency stops serving', async () => {
    const dep = testLifecycle();
    const depServing = serveGrpc(dep.lifecycle, new Server(), { address: '127.0.0.1:0' });
    await dep.lifecycle.start();
    const c = new WorkClient(`127.0.0.1:${depServing.port!}`, credentials.createInsecure());
    cleanups.push(() => c.close());

    const t = testLifecycle({ checks: { intervalMs: 50, timeoutMs: 500, failureThreshold: 1 } });
    t.lifecycle.check('dep', grpcClientCheck(c));
    await t.lifecycle.start();
    expect(t.lifecycle.isReady()).toBe(true);

    const failing = nextEvent(t.lifecycle, 'check', (e) => e.name === 'dep' && e.status === 'failing');
    // The dependency shuts down: its health answers NOT_SERVING, then it is gone.
    void dep.lifecycle.stop('dependency leaving');
    const event = await failing;
    expect(t.lifecycle.isReady()).toBe(false);
    expect(event.error).toBeInstanceOf(GrpcHealthError);
    expect((event.error as GrpcHealthError).kind).toMatch(/^GRPC_(NOT_SERVING|UNAVAILABLE)$/);
    expect((event.error as GrpcHealthError).code).toBe('ERR_PODKIT_GRPC_HEALTH_FAILED');
  });
});
