/**
 * One rolling-restart suite, run against each example service (Express, Fastify): two replicas
 * behind a Service, several full rolling restarts under a steady mix of reads, writes and slow
 * requests, for both models of what sits in front of pods in Kubernetes: the kernel's dataplane as
 * kube-proxy programs it (in a network namespace of the test's own), and a health-checked HAProxy.
 *
 * Pass: not one request failed as the client saw it, and every old replica exited 0 on its own,
 * after its drain delay and before its grace period.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatReport, nodeReplica, runRollingRestart, type LoadBalancerModel } from './harness/index.js';
import { ORDERS_REQUESTS } from './orders-load.js';

/** Realistic but short: kube-proxy lag and HAProxy's checks all fit well inside the drain delay. */
export const E2E_TIMINGS = {
  drainDelayMs: 2000,
  shutdownTimeoutMs: 8000,
  /** Like terminationGracePeriodSeconds: above shutdownTimeoutMs, so podkit's own deadline comes first. */
  terminationGraceMs: 10_000,
  /** kube-proxy model: the endpoint leaves the Service's rules this long after SIGTERM. */
  endpointLagMs: 500,
  /** health-checked model: HAProxy checks /readyz every 250 ms, out after 2 failures, back after 2 passes. */
  healthCheck: { intervalMs: 250, fall: 2, rise: 2, timeoutMs: 1000 },
  rounds: 3,
  ratePerSecond: 120,
} as const;

/** One file per example and model, so each file stays short and the two workers share the work. */
export function describeExampleRollingRestarts(framework: 'express' | 'fastify', model: LoadBalancerModel): void {
  const entry = fileURLToPath(new URL(`../../examples/${framework}/dist/main.js`, import.meta.url));

  describe(`the ${framework} example under rolling restarts`, () => {
    it(`drops no request ${model === 'kube-proxy' ? "through kube-proxy's iptables dataplane" : 'behind a health-checked balancer'}, and every old replica exits 0 on its own within its grace period`, async () => {
      expect(existsSync(entry), `${entry} is missing: run pnpm build`).toBe(true);
      const t = E2E_TIMINGS;
      const report = await runRollingRestart({
        label: `${framework} example`,
        model,
        replica: nodeReplica(framework, entry, {
          env: {
            DRAIN_DELAY_MS: String(t.drainDelayMs),
            SHUTDOWN_TIMEOUT_MS: String(t.shutdownTimeoutMs),
            NODE_ENV: 'production',
          },
          readiness: { port: 'probe', path: '/readyz' },
        }),
        rounds: t.rounds,
        endpointLagMs: t.endpointLagMs,
        healthCheck: t.healthCheck,
        terminationGraceMs: t.terminationGraceMs,
        steadyLoadMs: 1000,
        // Inside the namespace, the replicas find Postgres and Redis at their usual addresses.
        forwardPorts: [5432, 6379],
        load: {
          requests: { module: new URL('./orders-load.ts', import.meta.url).href, export: 'ordersLoad' },
          ratePerSecond: t.ratePerSecond,
          freshConnectionShare: 0.2,
          requestTimeoutMs: 5000,
          maxDurationMs: 90_000,
        },
      });
      // E2E_TIMELINE=1 adds every step (replica ready, endpoint added, SIGTERM, endpoint removed, exit).
      console.log(formatReport(report, { timeline: Boolean(process.env.E2E_TIMELINE) }));

      // The failures themselves first, so a red run says what the client saw and when.
      const timeline = report.timeline.map((e) => `${e.atMs} ms ${e.event}`).join('\n');
      expect(report.load.samples.map((s) => ({ ...s, atMs: s.atMs + report.loadStartedAtMs })), timeline).toEqual([]);
      expect(report.load.failed).toBe(0);
      expect(report.load.ok).toBeGreaterThan(500);
      for (const name of ORDERS_REQUESTS) expect(report.load.byRequest[name]!.ok).toBeGreaterThan(0);

      expect(report.terminations).toHaveLength(t.rounds * 2);
      for (const termination of [...report.terminations, ...report.finalTerminations]) {
        expect(termination, JSON.stringify(report.failedReplicaOutput, null, 1)).toMatchObject({ code: 0, signal: null, killed: false });
        // It served through its drain delay, and left on its own well before SIGKILL.
        expect(termination.elapsedMs).toBeGreaterThanOrEqual(t.drainDelayMs);
        expect(termination.elapsedMs).toBeLessThan(t.shutdownTimeoutMs);
      }
      // Traffic really moved: every replica that ever ran was sent connections.
      expect(Object.keys(report.sessionsByReplica)).toHaveLength(2 + t.rounds * 2);
      for (const [replica, sessions] of Object.entries(report.sessionsByReplica)) expect(sessions, replica).toBeGreaterThan(0);
    }, 120_000);
  });
}
