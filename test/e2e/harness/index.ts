/**
 * The rolling-restart harness, importable by any suite (the e2e tests, the benchmarks): replicas
 * (a command + env serving HTTP on PORT), what sits in front of them (the kernel's dataplane as
 * kube-proxy programs it, in a network namespace of the run's own; or a health-checked HAProxy),
 * a load generator that counts failures as a client sees them, and the rolling restart that ties
 * them together.
 */
import { fileURLToPath } from 'node:url';
import type { ReplicaSpec } from './replica.js';
import { TSX } from './tsx.js';

export { freePort } from './ports.js';
export { startLoad, classifyError, loadRequestMix, FAILURE_KINDS } from './load.js';
export type { FailureKind, FailureSample, LatencySummary, Load, LoadOptions, LoadSummary, LoadTarget, RequestMix, RequestRecord, RequestSpec } from './load.js';
export { loopbackPlacement, probeFromHere, startReplica } from './replica.js';
export type { Replica, ReplicaExit, ReplicaPlacement, ReplicaSpec, Termination } from './replica.js';
export { BACKEND, haproxyConfig, startHaproxy } from './haproxy.js';
export type { AddServerOptions, Haproxy, HaproxyOptions, HealthCheckOptions, ServerStat, ServerState } from './haproxy.js';
export { createNetns, DATAPLANE_TOOLS, DataplaneUnavailableError, liveNetns, missingDataplaneTools, netnsExists, removeStaleNetns, requireDataplane } from './netns.js';
export type { DataplaneCheckOptions, DataplaneTool, Netns } from './netns.js';
export { DATAPLANE_ADDRESSES, DEFAULT_SERVICE_PORT, dnatCounters, endpointChainName, kubeProxyRules, podIp, serviceChainName, startKubeProxy } from './kube-proxy.js';
export type { Endpoint, KubeProxy, ServicePort } from './kube-proxy.js';
export { parseConntrackEvent, watchConntrack } from './conntrack.js';
export type { ConntrackConnection, ConntrackWatch } from './conntrack.js';
export { startAgent } from './in-namespace.js';
export type { NamespaceAgent } from './in-namespace.js';
export type { ClientsModule, PortableLoadOptions, RunningClients, StartClients } from './agent-protocol.js';
export { formatReport, runRollingRestart } from './rolling-restart.js';
export type { LoadBalancerModel, RollingRestartOptions, RollingRestartReport, TimelineEvent, TimelineKind, TimelineRequest } from './rolling-restart.js';

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
