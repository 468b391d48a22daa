/**
 * The gRPC load as long-lived clients the rolling-restart harness runs where the replicas are
 * reachable (inside the kube-proxy model's namespace): `targets.http` is the Service's VIP and port.
 * Its report is the load's summary.
 */
import type { LoadTarget, RunningClients } from '../e2e/harness/index.js';
import { startGrpcLoad, type GrpcLoadOptions } from './load.js';

export function grpcLoadClients(targets: Record<string, LoadTarget>, options: unknown): RunningClients {
  const target = targets.http;
  if (!target) throw new Error('gRPC load: no `http` target');
  const load = startGrpcLoad({ ...(options as Omit<GrpcLoadOptions, 'target'>), target: `${target.host}:${target.port}` });
  return { stop: () => load.stop() };
}
