/**
 * The rolling-restart harness, importable by any suite (the e2e tests, the benchmarks):
 * replicas (a command + env serving HTTP on PORT), HAProxy in front of them (kube-proxy-like TCP
 * or health-checked HTTP), a load generator that counts failures as a client sees them, and the
 * rolling restart that ties them together.
 */
import { fileURLToPath } from 'node:url';
import type { ReplicaSpec } from './replica.js';

export { freePort } from './ports.js';
export { startLoad, classifyError, FAILURE_KINDS } from './load.js';
export type { FailureKind, FailureSample, LatencySummary, Load, LoadOptions, LoadSummary, RequestSpec } from './load.js';
export { startReplica } from './replica.js';
export type { Replica, ReplicaExit, ReplicaSpec, Termination } from './replica.js';
export { BACKEND, haproxyConfig, startHaproxy } from './haproxy.js';
export type { AddServerOptions, Haproxy, HaproxyMode, HaproxyOptions, HealthCheckOptions, ServerStat, ServerState } from './haproxy.js';
export { formatReport, runRollingRestart } from './rolling-restart.js';
export type { LoadBalancerModel, RollingRestartOptions, RollingRestartReport, TimelineEvent } from './rolling-restart.js';

const TSX = fileURLToPath(import.meta.resolve('tsx'));

/** A replica that runs a TypeScript file with tsx (fixtures); `node` stays the process that gets the signals. */
export function tsReplica(name: string, file: string | URL, options: Omit<ReplicaSpec, 'name' | 'command' | 'args'> = {}): ReplicaSpec {
  const path = file instanceof URL ? fileURLToPath(file) : file;
  return { ...options, name, command: process.execPath, args: ['--import', TSX, path] };
}

/** A replica that runs a built JavaScript entry point with node, as a container's `CMD ["node", …]` does. */
export function nodeReplica(name: string, file: string | URL, options: Omit<ReplicaSpec, 'name' | 'command' | 'args'> = {}): ReplicaSpec {
  const path = file instanceof URL ? fileURLToPath(file) : file;
  return { ...options, name, command: process.execPath, args: [path] };
}
