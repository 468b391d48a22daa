/**
 * Shared set-up for the dependency tests: where the real Redis and Postgres are (REDIS_URL and
 * DATABASE_URL override the defaults), URLs that go through a fault proxy instead, an in-process
 * lifecycle that neither exits nor touches the test process' signals, and private redis-server
 * processes (never the shared one) for faults that need a whole server of their own.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLifecycle, type Lifecycle, type LifecycleOptions } from '@podkit/lifecycle';
import { get, waitFor } from '../support/http.js';
import type { FaultProxy } from '../support/fault-proxy.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** host and port of a URL, for a proxy's target. */
export function target(url: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname || '127.0.0.1', port: Number(u.port || defaultPort) };
}

/** The same URL (credentials, database, options kept), pointing at the proxy instead. */
export function via(url: string, proxy: FaultProxy): string {
  const u = new URL(url);
  u.hostname = proxy.host;
  u.port = String(proxy.port);
  return u.toString();
}

/** An in-process lifecycle for tests: probes on a free port, silent, no exit, no process-wide handlers. */
export function testLifecycle(options: LifecycleOptions = {}): Lifecycle {
  return createLifecycle({
    probes: { port: 0, host: '127.0.0.1' },
    logger: false,
    exit: false,
    signals: false,
    handleCrashes: false,
    terminationMessagePath: false,
    ...options,
  });
}

export interface TimedResponse {
  status: number;
  ms: number;
  body: string;
}

/** One probe request (a fresh connection, as the kubelet makes), timed. */
export async function probe(lifecycle: Lifecycle, path: string): Promise<TimedResponse> {
  const port = lifecycle.probeAddress?.port;
  if (port === undefined) throw new Error('the lifecycle has no probe listener yet');
  const begun = performance.now();
  const res = await get(port, path, { timeoutMs: 5000 });
  return { status: res.status, ms: performance.now() - begun, body: res.body };
}

/** Polls `path` until it answers `status`; resolves with the time it took. */
export async function untilProbe(lifecycle: Lifecycle, path: string, status: number, timeoutMs: number): Promise<number> {
  const begun = performance.now();
  await waitFor(async () => (await probe(lifecycle, path)).status === status, { timeoutMs, intervalMs: 20 });
  return performance.now() - begun;
}

/** A free TCP port on loopback (bound and released; good enough for a private server started right after). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface PrivateRedis {
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** A throwaway redis-server on a free port: no persistence, its own directory, killed by stop(). */
export async function startPrivateRedis(extraArgs: string[] = []): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'podkit-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extraArgs], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor(() => spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG', { timeoutMs: 10_000, intervalMs: 50 });
  return {
    port,
    process: child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A real three-master Redis Cluster of private redis-server processes (no replicas), with a short
 * cluster-node-timeout so a dead master is noticed within about a second.
 */
export async function startPrivateCluster(): Promise<{ nodes: PrivateRedis[]; stop(): Promise<void> }> {
  const nodes: PrivateRedis[] = [];
  try {
    for (let i = 0; i < 3; i += 1) {
      // The cluster bus gets its own free port (Redis 7 `cluster-port`) instead of port + 10000.
      const busPort = await freePort();
      nodes.push(
        await startPrivateRedis(['--cluster-enabled', 'yes', '--cluster-port', String(busPort), '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '1000']),
      );
    }
    const create = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8', timeout: 20_000 },
    );
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}\n${create.stderr}`);
    for (const node of nodes) {
      await waitFor(() => /cluster_state:ok/.test(spawnSync('redis-cli', ['-p', String(node.port), 'cluster', 'info'], { encoding: 'utf8' }).stdout), {
        timeoutMs: 15_000,
        intervalMs: 100,
      });
    }
  } catch (error) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw error;
  }
  return { nodes, stop: () => Promise.all(nodes.map((n) => n.stop())).then(() => undefined) };
}
