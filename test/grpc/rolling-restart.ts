/**
 * A rolling restart of gRPC replicas under gRPC load, in the e2e harness's kube-proxy model: HAProxy
 * in TCP mode (HTTP/2 connections pass through untouched) stops sending new connections to a
 * replica `endpointLagMs` after its SIGTERM, while established connections keep flowing to it, as
 * conntrack keeps them. Replicas are rolled as a Deployment with `maxSurge: 1, maxUnavailable: 0`
 * does: a new one is started and put in rotation before the old one is terminated.
 */
import { startHaproxy, startReplica, type Replica, type ReplicaSpec, type Termination } from '../e2e/harness/index.js';
import { startGrpcLoad, type GrpcLoadOptions, type GrpcLoadSummary } from './load.js';

export interface GrpcRollingRestartOptions {
  replica: ReplicaSpec;
  /** @default 2 */
  replicas?: number;
  /** @default 2 */
  rounds?: number;
  load?: Omit<GrpcLoadOptions, 'target'>;
  /** New connections still reach the old replica this long after its SIGTERM, in ms. @default 500 */
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

export async function runGrpcRollingRestart(options: GrpcRollingRestartOptions): Promise<GrpcRollingRestartReport> {
  const say = options.log ?? (() => {});
  const begun = performance.now();
  const lagMs = options.endpointLagMs ?? 500;
  const graceMs = options.terminationGraceMs ?? 15_000;
  const steadyMs = options.steadyLoadMs ?? 1000;
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  const haproxy = await startHaproxy({ mode: 'tcp' });
  const all: Replica[] = [];
  const failedOutput: Record<string, string[]> = {};
  const name = (r: Replica) => r.id.replace(/[^A-Za-z0-9_-]/g, '_');

  async function bringUp(): Promise<Replica> {
    const replica = await startReplica(options.replica);
    all.push(replica);
    await haproxy.addServer(name(replica), { port: replica.port });
    await haproxy.waitForServer(name(replica), (s) => s.status === 'no check');
    say(`${replica.id} in rotation`);
    return replica;
  }

  async function retire(replica: Replica): Promise<Termination> {
    say(`${replica.id} SIGTERM`);
    const termination = replica.terminate({ graceMs });
    void sleep(lagMs)
      .then(async () => {
        if (!replica.hasExited) await haproxy.setState(name(replica), 'drain');
      })
      .catch(() => {});
    const result = await termination;
    say(`${replica.id} exited ${result.code ?? result.signal} after ${Math.round(result.elapsedMs)} ms`);
    if (result.code !== 0 || result.killed) failedOutput[replica.id] = [...replica.output];
    await haproxy.removeServer(name(replica));
    return result;
  }

  let load: ReturnType<typeof startGrpcLoad> | undefined;
  try {
    let current = await Promise.all(Array.from({ length: options.replicas ?? 2 }, () => bringUp()));
    load = startGrpcLoad({ ...options.load, target: `127.0.0.1:${haproxy.port}` });
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
    const summary = await load.stop();
    return { load: summary, terminations: await Promise.all(terminations), failedOutput, durationMs: performance.now() - begun };
  } finally {
    await load?.stop();
    await Promise.all(all.map((r) => r.kill()));
    await haproxy.stop();
  }
}
