/**
 * A rolling restart under load, the way a Deployment with `maxSurge: 1, maxUnavailable: 0` does it:
 * for each replica in turn, start a new one, wait until it is ready, put it behind the load
 * balancer, then terminate the old one (SIGTERM, SIGKILL after the grace period). The next new
 * replica starts while the old one drains, as the ReplicaSet controller does not wait for a
 * terminating pod to be gone.
 *
 * How the load balancer learns that the old replica is leaving depends on the model:
 * - `kube-proxy`: it does not look at the replica at all. `endpointLagMs` after SIGTERM (the time
 *   the EndpointSlice change takes to reach every node) it stops sending new connections there;
 *   established connections go on, as conntrack keeps them.
 * - `health-checked`: it checks the replica's readiness URL on its probe port and takes it out
 *   after `fall` failed checks. It is told nothing else.
 *
 * Pass: no request failed, and every old replica exited 0 on its own within the grace period.
 */
import { startHaproxy, type Haproxy, type HealthCheckOptions, type ServerStat } from './haproxy.js';
import { FAILURE_KINDS, startLoad, type LoadOptions, type LoadSummary } from './load.js';
import { startReplica, type Replica, type ReplicaSpec, type Termination } from './replica.js';

export type LoadBalancerModel = 'kube-proxy' | 'health-checked';

export interface RollingRestartOptions {
  /** Shown in the summary, e.g. `express example`. */
  label: string;
  model: LoadBalancerModel;
  /** What every replica runs. */
  replica: ReplicaSpec;
  /** @default 2 */
  replicas?: number;
  /** Full rolling restarts (every replica replaced once per round). @default 2 */
  rounds?: number;
  /** The load: everything but where to send it. */
  load: Omit<LoadOptions, 'host' | 'port'>;
  /** `kube-proxy`: how long after SIGTERM new connections still reach the old replica, in ms. @default 500 */
  endpointLagMs?: number;
  /** `health-checked`: how HAProxy checks each replica: its `readiness` URL by default, else `/` on the main port. */
  healthCheck?: HealthCheckOptions;
  /** SIGKILL this long after SIGTERM, like terminationGracePeriodSeconds, in ms. @default 30000 */
  terminationGraceMs?: number;
  /** Load before the first replacement and after the last, in ms. @default 1000 */
  steadyLoadMs?: number;
  /** Runs once the first replicas are in rotation, before the load starts (seed data through the balancer). */
  beforeLoad?: (target: { host: string; port: number }) => Promise<void>;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface TimelineEvent {
  /** Since the run began, in ms. */
  atMs: number;
  event: string;
}

export interface RollingRestartReport {
  label: string;
  model: LoadBalancerModel;
  replicas: number;
  rounds: number;
  /** The whole run, in ms. */
  durationMs: number;
  load: LoadSummary;
  /** When the load began, in ms since the run began: add it to a failure sample's `atMs` to place it on the timeline. */
  loadStartedAtMs: number;
  /** Old replicas terminated under load, in order. */
  terminations: Termination[];
  /** The replicas left at the end, terminated after the load stopped. */
  finalTerminations: Termination[];
  /** Connections HAProxy sent to each replica (sessions), by replica id. */
  sessionsByReplica: Record<string, number>;
  timeline: TimelineEvent[];
  /** HAProxy's own log lines (server state changes). */
  haproxyLog: string[];
  /** The last output lines of replicas that failed (non-zero exit or killed). */
  failedReplicaOutput: Record<string, string[]>;
}

export async function runRollingRestart(options: RollingRestartOptions): Promise<RollingRestartReport> {
  const replicaCount = options.replicas ?? 2;
  const rounds = options.rounds ?? 2;
  const endpointLagMs = options.endpointLagMs ?? 500;
  const graceMs = options.terminationGraceMs ?? 30_000;
  const steadyMs = options.steadyLoadMs ?? 1000;
  const say = options.log ?? (() => {});
  const begun = performance.now();
  const timeline: TimelineEvent[] = [];
  const mark = (event: string) => {
    timeline.push({ atMs: Math.round(performance.now() - begun), event });
    say(event);
  };
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  const sessions: Record<string, number> = {};
  const failedOutput: Record<string, string[]> = {};
  const all: Replica[] = [];

  // The balancer checks what the replica offers: its readiness URL, or `/` on the main port.
  const readiness = options.replica.readiness;
  const checkPath = options.healthCheck?.path ?? readiness?.path ?? '/';
  const checkPortOf = (r: Replica) => (readiness?.port === 'probe' ? r.probePort : r.port);
  const haproxy: Haproxy = await startHaproxy(
    options.model === 'kube-proxy' ? { mode: 'tcp' } : { mode: 'http', healthCheck: { ...options.healthCheck, path: checkPath } },
  );
  const serverName = (r: Replica) => r.id.replace(/[^A-Za-z0-9_-]/g, '_');

  async function recordSessions(): Promise<void> {
    for (const stat of await haproxy.servers()) sessions[stat.name] = Math.max(sessions[stat.name] ?? 0, stat.total);
  }

  const isInRotation = (stat: ServerStat) => (options.model === 'kube-proxy' ? stat.status === 'no check' : stat.status === 'UP');

  async function bringUp(): Promise<Replica> {
    const replica = await startReplica(options.replica);
    all.push(replica);
    mark(`${replica.id} ready (port ${replica.port}, probes ${replica.probePort})`);
    await haproxy.addServer(serverName(replica), { port: replica.port, checkPort: checkPortOf(replica) });
    await haproxy.waitForServer(serverName(replica), isInRotation);
    mark(`${replica.id} in rotation`);
    return replica;
  }

  async function retire(replica: Replica): Promise<Termination> {
    const name = serverName(replica);
    mark(`${replica.id} SIGTERM`);
    const termination = replica.terminate({ graceMs });
    if (options.model === 'kube-proxy') {
      // The endpoint change reaches kube-proxy a moment later; until then new connections still arrive.
      void sleep(endpointLagMs)
        .then(async () => {
          if (replica.hasExited) return;
          await haproxy.setState(name, 'drain');
          mark(`${replica.id} out of rotation (HAProxy drain: established connections continue)`);
        })
        .catch((error: unknown) => mark(`${replica.id}: could not take it out of rotation: ${String(error)}`));
    } else {
      // Only observed, for the timeline: HAProxy acts on its own checks.
      void (async () => {
        while (!replica.hasExited) {
          const stat = (await haproxy.servers()).find((s) => s.name === name);
          if (stat?.status.startsWith('DOWN')) {
            mark(`${replica.id} marked DOWN by HAProxy's readiness check (${stat.check})`);
            return;
          }
          await sleep(25);
        }
      })().catch(() => {});
    }
    const result = await termination;
    mark(`${replica.id} exited: code ${result.code}${result.signal ? `, signal ${result.signal}` : ''} after ${Math.round(result.elapsedMs)} ms${result.killed ? ' (SIGKILLed at the end of the grace period)' : ''}`);
    if (result.code !== 0 || result.killed) failedOutput[replica.id] = [...replica.output];
    await recordSessions();
    if (!(await haproxy.removeServer(name))) mark(`${replica.id}: HAProxy still held connections; left in maintenance`);
    return result;
  }

  let load: ReturnType<typeof startLoad> | undefined;
  try {
    let current = await Promise.all(Array.from({ length: replicaCount }, () => bringUp()));
    await options.beforeLoad?.({ host: '127.0.0.1', port: haproxy.port });
    load = startLoad({ ...options.load, port: haproxy.port });
    const loadStartedAtMs = Math.round(performance.now() - begun);
    mark(`load started (${options.load.ratePerSecond ?? 'default'} req/s)`);
    await sleep(steadyMs);

    const terminations: Promise<Termination>[] = [];
    for (let round = 1; round <= rounds; round += 1) {
      mark(`round ${round} of ${rounds}`);
      const next: Replica[] = [];
      for (const old of current) {
        next.push(await bringUp());
        const retired = retire(old);
        // Handled here too, so a failure elsewhere in the round cannot leave it unhandled.
        retired.catch(() => {});
        terminations.push(retired);
      }
      // The round ends when its old replicas are gone, so at most one round drains at a time.
      await Promise.all(terminations);
      current = next;
    }
    await sleep(steadyMs);
    const summary = await load.stop();
    mark(`load stopped: ${summary.sent} sent, ${summary.failed} failed`);
    await recordSessions();
    const finals = await Promise.all(current.map((r) => r.terminate({ graceMs }).then((t) => {
      if (t.code !== 0 || t.killed) failedOutput[r.id] = [...r.output];
      return t;
    })));
    return {
      label: options.label,
      model: options.model,
      replicas: replicaCount,
      rounds,
      durationMs: performance.now() - begun,
      load: summary,
      loadStartedAtMs,
      terminations: await Promise.all(terminations),
      finalTerminations: finals,
      sessionsByReplica: sessions,
      timeline,
      haproxyLog: [...haproxy.log],
      failedReplicaOutput: failedOutput,
    };
  } finally {
    await load?.stop();
    await Promise.all(all.map((r) => r.kill()));
    await haproxy.stop();
  }
}

const ms = (v: number) => `${Math.round(v)} ms`;

/** A few lines to quote: requests, failures by kind, latency, exits (and, on request, the timeline). */
export function formatReport(report: RollingRestartReport, options: { timeline?: boolean } = {}): string {
  const { load } = report;
  const kinds = FAILURE_KINDS.map((k) => `${k} ${load.failures[k]}`).join(', ');
  const statuses = Object.entries(load.statuses).map(([s, n]) => `${s}×${n}`).join(' ');
  const exits = report.terminations;
  const elapsed = exits.map((t) => t.elapsedMs);
  const codes = new Map<string, number>();
  for (const t of exits) {
    const key = t.killed ? 'SIGKILL' : `exit ${t.code ?? t.signal}`;
    codes.set(key, (codes.get(key) ?? 0) + 1);
  }
  const lines = [
    `rolling restart · ${report.label} · ${report.model} · ${report.rounds} round(s) × ${report.replicas} replicas · ${(report.durationMs / 1000).toFixed(1)} s`,
    `  requests: ${load.sent} sent, ${load.ok} ok, ${load.failed} failed (${kinds}${statuses ? `; statuses ${statuses}` : ''})`,
    `  connections: ${load.keepAlive.sent} on keep-alive (${load.keepAlive.reusedSocket} on a reused socket), ${load.freshConnections.sent} on fresh ones · ${load.rate.toFixed(0)} req/s`,
    `  latency: p50 ${ms(load.latencyMs.p50)}, p90 ${ms(load.latencyMs.p90)}, p99 ${ms(load.latencyMs.p99)}, max ${ms(load.latencyMs.max)}`,
    `  old replicas: ${exits.length} terminated under load, ${[...codes].map(([k, n]) => `${k} ×${n}`).join(', ')}; SIGTERM→exit ${ms(Math.min(...elapsed))}–${ms(Math.max(...elapsed))}`,
  ];
  if (load.samples.length > 0) {
    // Times on the timeline's clock (since the run began), so a failure lines up with the SIGTERM before it.
    lines.push(`  first failures: ${load.samples.slice(0, 5).map((s) => `${s.atMs + report.loadStartedAtMs} ms ${s.kind} ${s.detail} (${s.request}${s.fresh ? ', fresh' : s.reusedSocket ? ', reused socket' : ''})`).join('; ')}`);
  }
  if (options.timeline) lines.push('  timeline:', ...report.timeline.map((e) => `    ${String(e.atMs).padStart(6)} ms  ${e.event}`));
  return lines.join('\n');
}
