/**
 * A rolling restart under load, the way a Deployment with `maxSurge: 1, maxUnavailable: 0` does it:
 * for each replica in turn, start a new one, wait until it is ready, put it behind the Service,
 * then terminate the old one (SIGTERM, SIGKILL after the grace period). The next new replica starts
 * while the old one drains, as the ReplicaSet controller does not wait for a terminating pod to be
 * gone.
 *
 * What sits in front of the replicas depends on the model:
 * - `kube-proxy`: the kernel, as on a Kubernetes node. A network namespace of the run's own holds
 *   the replicas (each on its own pod IP), kube-proxy's iptables rules for one ClusterIP Service,
 *   and the load generator, which sends to the VIP. A replica's endpoint is added once its
 *   readiness probe passes (polled as the kubelet does) and removed `endpointLagMs` after SIGTERM —
 *   the time the EndpointSlice change takes to reach kube-proxy — whatever the replica does
 *   meanwhile: one that dies at once still gets new connections until then, and they are refused.
 *   Established connections stay on their endpoint after it is removed (conntrack).
 * - `health-checked`: HAProxy in HTTP mode checks each replica's readiness URL and takes it out
 *   after `fall` failed checks. It is told nothing else, not even that the process exited.
 *
 * Pass: no request failed, and every old replica exited 0 on its own within the grace period.
 */
import { DATAPLANE_ADDRESSES, DEFAULT_SERVICE_PORT, podIp, startKubeProxy, type KubeProxy } from './kube-proxy.js';
import { startHaproxy, type Haproxy, type HealthCheckOptions } from './haproxy.js';
import { startAgent, type NamespaceAgent } from './in-namespace.js';
import type { ClientsModule, PortableLoadOptions } from './agent-protocol.js';
import { FAILURE_KINDS, loadRequestMix, startLoad, type FailureKind, type Load, type LoadSummary, type RequestMix, type RequestSpec } from './load.js';
import { createNetns, requireDataplane, type Netns } from './netns.js';
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
  /**
   * The load: everything but where to send it. In the kube-proxy model it runs in another process
   * (inside the namespace), so `requests` must be plain data or a `RequestMix` module.
   */
  load: PortableLoadOptions & { requests: RequestSpec[] | RequestMix };
  /** `kube-proxy`: SIGTERM → endpoint removed from the Service's rules (EndpointSlice propagation), in ms. @default 500 */
  endpointLagMs?: number;
  /** `health-checked`: how HAProxy checks each replica: its `readiness` URL by default, else `/` on the main port. */
  healthCheck?: HealthCheckOptions;
  /** SIGKILL this long after SIGTERM, like terminationGracePeriodSeconds, in ms. @default 30000 */
  terminationGraceMs?: number;
  /** Load before the first replacement and after the last, in ms. @default 1000 */
  steadyLoadMs?: number;
  /**
   * `kube-proxy`: ports of the host's loopback (Postgres, Redis) that replicas reach at the same
   * port of the namespace's loopback, through a relay. @default []
   */
  forwardPorts?: number[];
  /**
   * `kube-proxy`: more ports of the Service, on the same VIP, each its own chains (e.g. `{ name:
   * 'h2c', port: 81, targetPortOffset: 2000 }`: VIP:81 → the pod's PORT + 2000). The first port is
   * `http`, port 80 → PORT. @default []
   */
  servicePorts?: Array<{ name: string; port: number; targetPortOffset: number }>;
  /**
   * `kube-proxy`: clients that hold connections open (WebSocket, SSE, HTTP/2), started inside the
   * namespace once the load runs, given the VIP's targets by port name, and stopped before the
   * load stops (after the last replacement); their report is `report.clients`.
   */
  clients?: ClientsModule;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export type TimelineKind = 'started' | 'ready' | 'in-rotation' | 'sigterm' | 'out-of-rotation' | 'exited' | 'load-started' | 'load-stopped' | 'round' | 'note';

export interface TimelineEvent {
  /** Since the run began, in ms. */
  atMs: number;
  event: string;
  kind: TimelineKind;
  /** The replica it is about, if any. */
  replica?: string;
}

/** One request on the run's clock, with the replica it reached when the model can tell. */
export interface TimelineRequest {
  /** When it was sent, since the run began, in ms. */
  atMs: number;
  ms: number;
  request: string;
  ok: boolean;
  kind?: FailureKind;
  fresh: boolean;
  /** kube-proxy model: the replica conntrack saw its connection go to (also for a refused connection). */
  replica?: string;
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
  /** Every replica, in the order they started, with the address the balancer sent to. */
  replicaAddresses: Record<string, string>;
  /** New connections the balancer sent to each replica (HAProxy sessions; kube-proxy: DNAT rule counters), by replica id. */
  sessionsByReplica: Record<string, number>;
  timeline: TimelineEvent[];
  /** With `load.recordRequests`: every request on the run's clock. */
  requests: TimelineRequest[];
  /** The balancer's own record: HAProxy's log lines, or each kube-proxy sync's endpoints. */
  balancerLog: string[];
  /** kube-proxy model: the namespace the run used (deleted when the run ends). */
  netns?: string;
  /** The last output lines of replicas that failed (non-zero exit or killed). */
  failedReplicaOutput: Record<string, string[]>;
  /** With `clients`: what they reported when stopped. */
  clients?: unknown;
}

/** The front of the Service: how a replica enters and leaves it. */
interface Front {
  /** Where clients send the load. */
  target: { host: string; port: number };
  start(spec: ReplicaSpec): Promise<Replica>;
  add(replica: Replica): Promise<void>;
  /** Resolves when the replica is out (it may already have exited). */
  remove(replica: Replica, sigtermAt: number): Promise<string>;
  sessions(): Promise<Record<string, number>>;
  startLoad(load: RollingRestartOptions['load']): Promise<void>;
  stopLoad(): Promise<{ summary: LoadSummary; endpointByClientPort: Record<string, string> }>;
  startClients(clients: ClientsModule): Promise<void>;
  stopClients(): Promise<unknown>;
  log: string[];
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The kernel's dataplane in a namespace of the run's own (see the file comment). */
async function kubeProxyFront(options: RollingRestartOptions, endpointLagMs: number): Promise<Front & { netns: Netns }> {
  requireDataplane(options.load.recordRequests ? { tools: ['ip', 'iptables', 'iptables-restore', 'iptables-save', 'conntrack'] } : {});
  const netns = await createNetns();
  let agent: NamespaceAgent | undefined;
  try {
    agent = await startAgent(netns);
    const extraPorts = (options.servicePorts ?? []).map((p) => ({ ...DEFAULT_SERVICE_PORT, name: `default/web:${p.name}`, port: p.port, targetPortOffset: p.targetPortOffset }));
    const proxy: KubeProxy = await startKubeProxy(netns, [DEFAULT_SERVICE_PORT, ...extraPorts]);
    for (const port of options.forwardPorts ?? []) await agent.forward(port);
    const target = { host: proxy.service.vip, port: proxy.service.port };
    const targets = Object.fromEntries([['http', target], ...(options.servicePorts ?? []).map((p) => [p.name, { host: proxy.service.vip, port: p.port }])]);
    const inRules = new Map<string, Replica>();
    const log: string[] = [];
    const addressOf = (r: Replica) => `${r.host}:${r.port}`;
    // One sync at a time, like kube-proxy's sync loop: each writes the whole set.
    let syncing = Promise.resolve();
    const sync = () => {
      const next = syncing.then(async () => {
        await proxy.sync([...inRules.values()].map((r) => ({ ip: r.host, port: r.port })));
        log.push(`${new Date().toISOString()} endpoints: ${proxy.endpoints.join(' ') || '(none)'}`);
      });
      syncing = next.catch(() => {});
      return next;
    };
    let pods = 0;
    const a = agent;
    return {
      netns,
      target,
      log,
      async start(spec) {
        const n = (pods += 1);
        const ip = podIp(n);
        await netns.addAddress(ip);
        // Ports unique in the namespace too, so a replica that binds every address still has its own.
        return startReplica(spec, { host: ip, port: 8000 + n, probePort: 9000 + n, wrap: netns.wrap, probe: (host, port, path) => a.probe(host, port, path) });
      },
      async add(replica) {
        inRules.set(replica.id, replica);
        await sync();
      },
      async remove(replica, sigtermAt) {
        // The endpoints controller and kube-proxy act on the pod's deletion, not on its process:
        // the endpoint leaves `endpointLagMs` after SIGTERM, even if the process is long gone.
        await sleep(Math.max(0, sigtermAt + endpointLagMs - performance.now()));
        inRules.delete(replica.id);
        await sync();
        return `endpoint ${addressOf(replica)} removed from the Service's rules${replica.hasExited ? ' (the process had already exited)' : '; established connections stay (conntrack)'}`;
      },
      async sessions() {
        return proxy.connections();
      },
      async startLoad(load) {
        const { requests, ...rest } = load;
        const attribute = Boolean(load.recordRequests);
        // Fixed client ports, below the ephemeral range and away from the replicas' ports, so each
        // connection (a refused one too) can be matched to conntrack's record of it.
        await a.startLoad(target, requests, attribute ? { ...rest, localPorts: { from: 20_000, to: 32_000 } } : rest, attribute);
      },
      stopLoad: () => a.stopLoad(),
      startClients: (clients) => a.startClients(clients, targets),
      stopClients: () => a.stopClients(),
      async close() {
        await agent?.stop();
        await netns.delete();
      },
    };
  } catch (error) {
    await agent?.stop().catch(() => {});
    await netns.delete().catch(() => {});
    throw error;
  }
}

/** HAProxy in HTTP mode, checking each replica's readiness. */
async function healthCheckedFront(options: RollingRestartOptions): Promise<Front> {
  const readiness = options.replica.readiness;
  const checkPath = options.healthCheck?.path ?? readiness?.path ?? '/';
  const haproxy: Haproxy = await startHaproxy({ healthCheck: { ...options.healthCheck, path: checkPath } });
  const serverName = (r: Replica) => r.id.replace(/[^A-Za-z0-9_-]/g, '_');
  const sessions: Record<string, number> = {};
  const record = async () => {
    for (const stat of await haproxy.servers()) sessions[stat.name] = Math.max(sessions[stat.name] ?? 0, stat.total);
  };
  let load: Load | undefined;
  const graceMs = options.terminationGraceMs ?? 30_000;
  return {
    target: { host: '127.0.0.1', port: haproxy.port },
    log: haproxy.log,
    start: (spec) => startReplica(spec),
    async add(replica) {
      await haproxy.addServer(serverName(replica), { port: replica.port, checkPort: readiness?.port === 'probe' ? replica.probePort : replica.port });
      await haproxy.waitForServer(serverName(replica), (stat) => stat.status === 'UP');
    },
    async remove(replica) {
      // HAProxy learns of the termination only from its checks: the replica is out when they say DOWN.
      const stat = await haproxy.waitForServer(serverName(replica), (s) => s.status.startsWith('DOWN'), graceMs + 5000);
      await record();
      const deleted = await haproxy.removeServer(serverName(replica));
      return `marked DOWN by HAProxy's readiness check (${stat.check})${deleted ? '' : '; HAProxy still held connections, left in maintenance'}`;
    },
    async sessions() {
      await record();
      return { ...sessions };
    },
    async startLoad(options_) {
      const { requests, ...rest } = options_;
      const target = { host: '127.0.0.1', port: haproxy.port };
      load = startLoad({ ...rest, ...target, requests: Array.isArray(requests) ? requests : await loadRequestMix(requests, target) });
    },
    async stopLoad() {
      if (!load) throw new Error('no load is running');
      return { summary: await load.stop(), endpointByClientPort: {} };
    },
    startClients: () => Promise.reject(new Error('clients run in the kube-proxy model only')),
    stopClients: () => Promise.reject(new Error('clients run in the kube-proxy model only')),
    async close() {
      await load?.stop();
      await haproxy.stop();
    },
  };
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
  const mark = (kind: TimelineKind, event: string, replica?: Replica) => {
    timeline.push({ atMs: Math.round(performance.now() - begun), event: replica ? `${replica.id} ${event}` : event, kind, ...(replica ? { replica: replica.id } : {}) });
    say(replica ? `${replica.id} ${event}` : event);
  };
  const failedOutput: Record<string, string[]> = {};
  const all: Replica[] = [];
  if (options.model !== 'kube-proxy' && (options.clients || options.servicePorts?.length)) throw new Error('rolling restart: clients and servicePorts need the kube-proxy model');
  const front: Front & { netns?: Netns } = options.model === 'kube-proxy' ? await kubeProxyFront(options, endpointLagMs) : await healthCheckedFront(options);
  const netns = front.netns?.name;
  const addresses: Record<string, string> = {};

  async function bringUp(): Promise<Replica> {
    const replica = await front.start(options.replica);
    all.push(replica);
    addresses[replica.id] = `${replica.host}:${replica.port}`;
    mark('ready', `ready (${replica.host}:${replica.port}, probes on ${replica.probePort})`, replica);
    await front.add(replica);
    mark('in-rotation', options.model === 'kube-proxy' ? 'endpoint added to the Service' : 'in rotation (HAProxy check passed)', replica);
    return replica;
  }

  async function retire(replica: Replica): Promise<Termination> {
    const sigtermAt = performance.now();
    mark('sigterm', 'SIGTERM', replica);
    const termination = replica.terminate({ graceMs }).then((result) => {
      mark('exited', `exited: code ${result.code}${result.signal ? `, signal ${result.signal}` : ''} after ${Math.round(result.elapsedMs)} ms${result.killed ? ' (SIGKILLed at the end of the grace period)' : ''}`, replica);
      if (result.code !== 0 || result.killed) failedOutput[replica.id] = [...replica.output];
      return result;
    });
    // Removal runs on the balancer's own schedule, not on the process's exit.
    const removal = front.remove(replica, sigtermAt).then((how) => mark('out-of-rotation', how, replica));
    const [result] = await Promise.all([termination, removal]);
    return result;
  }

  let loadRunning = false;
  let clientsRunning = false;
  let clients: unknown;
  try {
    let current = await Promise.all(Array.from({ length: replicaCount }, () => bringUp()));
    await front.startLoad(options.load);
    loadRunning = true;
    mark('load-started', `load started (${options.load.ratePerSecond ?? 'default'} req/s)`);
    if (options.clients) {
      await front.startClients(options.clients);
      clientsRunning = true;
      mark('note', 'long-lived clients started');
    }
    await sleep(steadyMs);

    const terminations: Promise<Termination>[] = [];
    for (let round = 1; round <= rounds; round += 1) {
      mark('round', `round ${round} of ${rounds}`);
      const next: Replica[] = [];
      for (const old of current) {
        next.push(await bringUp());
        const retired = retire(old);
        // Handled here too, so a failure elsewhere in the round cannot leave it unhandled.
        retired.catch(() => {});
        terminations.push(retired);
      }
      // The round ends when its old replicas are gone and out of the rules, so at most one round drains at a time.
      await Promise.all(terminations);
      current = next;
    }
    await sleep(steadyMs);
    if (clientsRunning) {
      clients = await front.stopClients();
      clientsRunning = false;
      mark('note', 'long-lived clients stopped');
    }
    const { summary, endpointByClientPort } = await front.stopLoad();
    loadRunning = false;
    mark('load-stopped', `load stopped: ${summary.sent} sent, ${summary.failed} failed`);
    const sessions = await front.sessions();
    const finals = await Promise.all(current.map((r) => r.terminate({ graceMs }).then((t) => {
      if (t.code !== 0 || t.killed) failedOutput[r.id] = [...r.output];
      return t;
    })));

    const loadStartedAtMs = summary.startedAtEpochMs - (performance.timeOrigin + begun);
    const replicaAt = new Map(Object.entries(addresses).map(([id, address]) => [address, id]));
    const requests = summary.records.map((r): TimelineRequest => {
      const endpoint = r.localPort === undefined ? undefined : endpointByClientPort[String(r.localPort)];
      const replica = endpoint === undefined ? undefined : replicaAt.get(endpoint);
      return { atMs: r.atMs + loadStartedAtMs, ms: r.ms, request: r.request, ok: r.ok, ...(r.kind ? { kind: r.kind } : {}), fresh: r.fresh, ...(replica ? { replica } : {}) };
    });
    const sessionsByReplica: Record<string, number> = {};
    for (const r of all) {
      const key = options.model === 'kube-proxy' ? addresses[r.id]! : r.id.replace(/[^A-Za-z0-9_-]/g, '_');
      sessionsByReplica[r.id] = sessions[key] ?? 0;
    }
    return {
      label: options.label,
      model: options.model,
      replicas: replicaCount,
      rounds,
      durationMs: performance.now() - begun,
      load: { ...summary, records: [] },
      loadStartedAtMs: Math.round(loadStartedAtMs),
      terminations: await Promise.all(terminations),
      finalTerminations: finals,
      replicaAddresses: addresses,
      sessionsByReplica,
      timeline,
      requests,
      balancerLog: [...front.log],
      ...(netns ? { netns } : {}),
      failedReplicaOutput: failedOutput,
      ...(options.clients ? { clients } : {}),
    };
  } finally {
    if (clientsRunning) await front.stopClients().catch(() => {});
    if (loadRunning) await front.stopLoad().catch(() => {});
    await Promise.all(all.map((r) => r.kill()));
    await front.close();
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
  const attributed = report.requests.filter((r) => !r.ok);
  if (attributed.length > 0) {
    const byReplica = new Map<string, number>();
    for (const r of attributed) byReplica.set(r.replica ?? 'unknown', (byReplica.get(r.replica ?? 'unknown') ?? 0) + 1);
    lines.push(`  failures by replica: ${[...byReplica].map(([id, n]) => `${id} ${n}`).join(', ')}`);
  }
  if (load.samples.length > 0) {
    // Times on the timeline's clock (since the run began), so a failure lines up with the SIGTERM before it.
    lines.push(`  first failures: ${load.samples.slice(0, 5).map((s) => `${Math.round(s.atMs + report.loadStartedAtMs)} ms ${s.kind} ${s.detail} (${s.request}${s.fresh ? ', fresh' : s.reusedSocket ? ', reused socket' : ''})`).join('; ')}`);
  }
  if (options.timeline) lines.push('  timeline:', ...report.timeline.map((e) => `    ${String(e.atMs).padStart(6)} ms  ${e.event}`));
  return lines.join('\n');
}
