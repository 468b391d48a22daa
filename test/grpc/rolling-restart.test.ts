/**
 * Rolling restarts of the gRPC example on the kube-proxy model (kube-proxy's iptables rules in a
 * network namespace; conntrack keeps established HTTP/2 connections on a removed endpoint), with
 * grpc-js clients inside the namespace making unary calls and server streams: not one call fails,
 * and every old replica exits 0 on its own. The negative control — the same service with grpc-js
 * `forceShutdown()` on SIGTERM — fails calls in the same harness, so zero here means something.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { nodeReplica, tsReplica } from '../e2e/harness/index.js';
import { EXAMPLE_DIST } from './greeter.js';
import { failedCalls, formatLoad } from './load.js';
import { runGrpcRollingRestart } from './rolling-restart.js';

const log = process.env.E2E_TIMELINE ? (line: string) => console.log(line) : undefined;
const LOAD = { channels: 8, unaryPerSecond: 60, unaryDelayMs: [0, 300] as const, streamsPerSecond: 8, stream: { count: 10, intervalMs: 50 } };

describe('rolling restart of the gRPC example (kube-proxy model)', () => {
  it('fails no unary call and no server stream, and every old replica exits 0 after its drain', async () => {
    if (!existsSync(EXAMPLE_DIST)) throw new Error(`${fileURLToPath(EXAMPLE_DIST)} is missing: run pnpm run build first`);
    const report = await runGrpcRollingRestart({
      replica: nodeReplica('grpc-podkit', EXAMPLE_DIST, {
        env: { DRAIN_DELAY_MS: '1500', SHUTDOWN_TIMEOUT_MS: '8000' },
        readiness: { port: 'probe', path: '/readyz' },
      }),
      rounds: 2,
      load: LOAD,
      ...(log ? { log } : {}),
    });
    console.log(`[measure] podkit gRPC rolling restart: ${formatLoad(report.load)}; exits ${report.terminations.map((t) => `${t.code} after ${Math.round(t.elapsedMs)} ms`).join(', ')}`);
    expect(report.load.unary.sent).toBeGreaterThan(300);
    expect(report.load.streams.sent).toBeGreaterThan(40);
    expect(failedCalls(report.load), formatLoad(report.load)).toBe(0);
    expect(report.terminations).toHaveLength(4);
    for (const t of report.terminations) {
      expect(t.code, JSON.stringify(report.failedOutput)).toBe(0);
      expect(t.killed).toBe(false);
      // The drain delay, then the GOAWAY drain: never before the delay, and well inside the grace period.
      expect(t.elapsedMs).toBeGreaterThanOrEqual(1500);
      expect(t.elapsedMs).toBeLessThan(8000);
    }
    // Both replicas of each generation answered calls: the balancer spread the connections.
    expect(Object.keys(report.load.byReplica).length).toBeGreaterThanOrEqual(4);
  });

  it('negative control: grpc-js forceShutdown() on SIGTERM fails calls in flight', async () => {
    const report = await runGrpcRollingRestart({
      replica: tsReplica('grpc-force', new URL('./fixtures/bare-greeter.ts', import.meta.url), { env: { SHUTDOWN_MODE: 'force' } }),
      rounds: 1,
      load: LOAD,
      ...(log ? { log } : {}),
    });
    console.log(`[measure] forceShutdown() on SIGTERM: ${formatLoad(report.load)}`);
    expect(failedCalls(report.load)).toBeGreaterThan(0);
  });
});
