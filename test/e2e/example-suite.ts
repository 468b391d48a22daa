/**
 * One rolling-restart suite, run against each example service (Express, Fastify): two replicas
 * behind HAProxy, several full rolling restarts under a steady mix of reads, writes and slow
 * requests, for both models of what sits in front of pods in Kubernetes.
 *
 * Pass: not one request failed as the client saw it, and every old replica exited 0 on its own,
 * after its drain delay and before its grace period.
 */
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatReport, nodeReplica, runRollingRestart, type LoadBalancerModel, type RequestSpec } from './harness/index.js';

/** Realistic but short: kube-proxy lag and HAProxy's checks all fit well inside the drain delay. */
export const E2E_TIMINGS = {
  drainDelayMs: 2000,
  shutdownTimeoutMs: 8000,
  /** Like terminationGracePeriodSeconds: above shutdownTimeoutMs, so podkit's own deadline comes first. */
  terminationGraceMs: 10_000,
  /** kube-proxy model: new connections still arrive this long after SIGTERM. */
  endpointLagMs: 500,
  /** health-checked model: HAProxy checks /readyz every 250 ms, out after 2 failures, back after 2 passes. */
  healthCheck: { intervalMs: 250, fall: 2, rise: 2, timeoutMs: 1000 },
  rounds: 3,
  ratePerSecond: 120,
} as const;

const seeded: number[] = [];
const pickSeeded = () => seeded[Math.floor(Math.random() * seeded.length)] ?? 1;

/** Cached reads, list queries, writes, and slow requests that are in flight when SIGTERM lands. */
export const ORDERS_MIX: RequestSpec[] = [
  { name: 'get-order', path: () => `/orders/${pickSeeded()}`, weight: 5 },
  { name: 'list-orders', path: '/orders?limit=10', weight: 2 },
  { name: 'create-order', method: 'POST', path: '/orders', body: () => JSON.stringify({ item: 'e2e-widget', quantity: 1 + Math.floor(Math.random() * 5) }), weight: 1 },
  { name: 'slow-work', path: '/work?ms=300', weight: 2 },
];

async function seedOrders(target: { port: number }): Promise<void> {
  seeded.length = 0;
  for (let i = 0; i < 10; i += 1) {
    const created = await post(target.port, '/orders', JSON.stringify({ item: `seed-${i}`, quantity: 1 }));
    seeded.push((JSON.parse(created) as { id: number }).id);
  }
}

function post(port: number, path: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 201 ? resolve(Buffer.concat(chunks).toString()) : reject(new Error(`POST ${path}: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** One file per example and model, so each file stays short and the two workers share the work. */
export function describeExampleRollingRestarts(framework: 'express' | 'fastify', model: LoadBalancerModel): void {
  const entry = fileURLToPath(new URL(`../../examples/${framework}/dist/main.js`, import.meta.url));

  describe(`the ${framework} example under rolling restarts`, () => {
    it(`drops no request behind a ${model} balancer, and every old replica exits 0 on its own within its grace period`, async () => {
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
        beforeLoad: seedOrders,
        load: { requests: ORDERS_MIX, ratePerSecond: t.ratePerSecond, freshConnectionShare: 0.2, requestTimeoutMs: 5000, maxDurationMs: 90_000 },
      });
      // E2E_TIMELINE=1 adds every step (replica ready, in rotation, SIGTERM, out of rotation, exit).
      console.log(formatReport(report, { timeline: Boolean(process.env.E2E_TIMELINE) }));

      // The failures themselves first, so a red run says what the client saw and when.
      const timeline = report.timeline.map((e) => `${e.atMs} ms ${e.event}`).join('\n');
      expect(report.load.samples.map((s) => ({ ...s, atMs: s.atMs + report.loadStartedAtMs })), timeline).toEqual([]);
      expect(report.load.failed).toBe(0);
      expect(report.load.ok).toBeGreaterThan(500);
      for (const spec of ORDERS_MIX) expect(report.load.byRequest[spec.name]!.ok).toBeGreaterThan(0);

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
