/**
 * A rolling restart of gRPC replicas under gRPC load, on the e2e harness's kube-proxy model: the
 * kernel's dataplane in a network namespace of the run's own, kube-proxy's iptables rules for one
 * ClusterIP Service (test/e2e/harness/kube-proxy.ts), replicas on their own pod IPs, and the grpc-js
 * clients inside the namespace sending to the VIP. A replica's endpoint is added once it is ready
 * and removed `endpointLagMs` after its SIGTERM, whatever the replica does meanwhile; conntrack
 * keeps established HTTP/2 connections on their endpoint after it is gone, and a connection DNATed
 * to a closed listener is refused by the pod itself. Replicas are rolled as a Deployment with
 * `maxSurge: 1, maxUnavailable: 0` does: a new one is started and put behind the Service before the
 * old one is terminated.
 */
import {
  createNetns,
  DEFAULT_SERVICE_PORT,
  podIp,
  requireDataplane,
  startAgent,
  startKubeProxy,
  startReplica,
  type NamespaceAgent,
  type Replica,
  type ReplicaSpec,
  type Termination,
} from '../e2e/harness/index.js';
import type { GrpcLoadOptions, GrpcLoadSummary } from './load.js';

export interface GrpcRollingRestartOptions {
  replica: ReplicaSpec;
  /** @default 2 */
  replicas?: number;
  /** @default 2 */
  rounds?: number;
  load?: Omit<GrpcLoadOptions, 'target'>;
  /** SIGTERM → the endpoint leaves kube-proxy's rules (EndpointSlice propagation), in ms. @default 500 */
  endpointLagMs?: number;
  /** SIGKILL this long after SIGTERM (terminationGracePeriodSeconds), in ms. @default 15000 */
  terminationGraceMs?: number;
  /** Load before the first replacement and after the last, in ms. @default 1000 */
  steadyLoadMs?: number;
  log?: (line: string) => void;
}

export interface GrpcRollingRestartReport {
  load: GrpcLoadSummary;
  /** Old replicas terminated under load. */
  terminations: Termination[];
  /** Last output lines of replicas that did not exit 0 on their own. */
  failedOutput: Record<string, string[]>;
  durationMs: number;
}

const LOAD_CLIENTS = { module: new URL('./load-clients.ts', import.meta.url).href, export: 'grpcLoadClients' };

export async function runGrpcRollingRestart(options: GrpcRollingRestartOptions): Promise<GrpcRollingRestartReport> {
  requireDataplane();
  const say = options.log ?? (() => {});
  const begun = performance.now();
  const lagMs = options.endpointLagMs ?? 500;
  const graceMs = options.terminationGraceMs ?? 15_000;
  const steadyMs = options.steadyLoadMs ?? 1000;
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  const netns = await createNetns();
  const all: Replica[] = [];
  const failedOutput: Record<string, string[]> = {};
  let agent: NamespaceAgent | undefined;
  let loadRunning = false;
  try {
    const a = (agent = await startAgent(netns));
    const proxy = await startKubeProxy(netns, { ...DEFAULT_SERVICE_PORT, name: 'default/greeter:grpc' });
    const inRules = new Map<string, Replica>();
    // One sync at a time, like kube-proxy's sync loop: each writes the whole set.
    let syncing = Promise.resolve();
    const sync = () => {
      const next = syncing.then(() => proxy.sync([...inRules.values()].map((r) => ({ ip: r.host, port: r.port }))));
      syncing = next.catch(() => {});
      return next;
    };
    let pods = 0;

    const bringUp = async (): Promise<Replica> => {
      const n = (pods += 1);
      const ip = podIp(n);
      await netns.addAddress(ip);
      const replica = await startReplica(options.replica, { host: ip, port: 8000 + n, probePort: 9000 + n, wrap: netns.wrap, probe: (host, port, path) => a.probe(host, port, path) });
      all.push(replica);
      inRules.set(replica.id, replica);
      await sync();
      say(`${replica.id} ready, endpoint ${ip}:${replica.port} added`);
      return replica;
    };

    const retire = async (replica: Replica): Promise<Termination> => {
      say(`${replica.id} SIGTERM`);
      const termination = replica.terminate({ graceMs });
      // The endpoint leaves on the control plane's schedule, not on the process's exit.
      const removal = sleep(lagMs).then(async () => {
        inRules.delete(replica.id);
        await sync();
        say(`${replica.id} endpoint removed`);
      });
      const [result] = await Promise.all([termination, removal]);
      say(`${replica.id} exited ${result.code ?? result.signal} after ${Math.round(result.elapsedMs)} ms`);
      if (result.code !== 0 || result.killed) failedOutput[replica.id] = [...replica.output];
      return result;
    };

    let current = await Promise.all(Array.from({ length: options.replicas ?? 2 }, () => bringUp()));
    await a.startClients({ ...LOAD_CLIENTS, options: options.load ?? {} }, { http: { host: proxy.service.vip, port: proxy.service.port } });
    loadRunning = true;
    await sleep(steadyMs);
    const terminations: Promise<Termination>[] = [];
    for (let round = 1; round <= (options.rounds ?? 2); round += 1) {
      const next: Replica[] = [];
      for (const old of current) {
        next.push(await bringUp());
        const retired = retire(old);
        retired.catch(() => {});
        terminations.push(retired);
      }
      await Promise.all(terminations);
      current = next;
    }
    await sleep(steadyMs);
    const summary = (await a.stopClients()) as GrpcLoadSummary;
    loadRunning = false;
    return { load: summary, terminations: await Promise.all(terminations), failedOutput, durationMs: performance.now() - begun };
  } finally {
    if (loadRunning) await agent?.stopClients().catch(() => {});
    await Promise.all(all.map((r) => r.kill()));
    await agent?.stop();
    await netns.delete();
  }
}
