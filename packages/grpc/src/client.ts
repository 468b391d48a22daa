/**
 * Warmup and readiness check for a gRPC dependency: a real `Health/Check` RPC on the client the
 * service calls it with.
 *
 * grpc-js channels are lazy: creating a client opens no connection, and `waitForReady()` only shows
 * that a TCP (and TLS) connection can be made. A Health/Check RPC goes the whole way — name
 * resolution, connection, TLS, HTTP/2, the server's gRPC stack, the client's interceptors — and
 * leaves the channel connected, so the service's first real call does not pay for the connection.
 */
import type { Client } from '@grpc/grpc-js';
import type { CheckFunction, WarmupFunction } from '@podkit/lifecycle';
import { InvalidOptionError } from '@podkit/lifecycle';
import { GRPC_DEFAULTS } from './defaults.js';
import { callCheck, GrpcHealthError } from './health-protocol.js';
import { bool, durationMs, knownKeys, plainObject, string } from './validate.js';

export interface GrpcClientCheckOptions {
  /**
   * Service name asked about: `''` is the server's overall health; a server may also answer for the
   * fully qualified name of the service you call (`orders.v1.Orders`).
   * @default ''
   */
  service?: string;
  /**
   * Count a server without the health service (it answers UNIMPLEMENTED) as warm: the RPC still went
   * all the way through the channel. Any other failure, and NOT_SERVING, still fail.
   * @default false
   */
  allowUnimplemented?: boolean;
}

export interface GrpcClientWarmupOptions extends GrpcClientCheckOptions {
  /** Deadline of the RPC, in ms; the warmup's own timeout bounds it too. @default 5000 */
  deadlineMs?: number;
}

interface Resolved {
  service: string;
  allowUnimplemented: boolean;
  deadlineMs: number | undefined;
}

function assertClient(where: string, client: unknown): asserts client is Client {
  const c = client as Partial<Client> | null;
  if (typeof c !== 'object' || c === null || typeof c.makeUnaryRequest !== 'function' || typeof c.getChannel !== 'function') {
    throw new InvalidOptionError(where, client, 'a grpc-js Client (any generated client, or new grpc.Client(…))');
  }
}

function resolve(where: string, value: unknown, keys: readonly string[], deadline: boolean): Resolved {
  const o = value === undefined ? {} : plainObject(where, value);
  knownKeys(where, o, keys);
  return {
    service: string(`${where}.service`, o.service, GRPC_DEFAULTS.service),
    allowUnimplemented: bool(`${where}.allowUnimplemented`, o.allowUnimplemented, false),
    deadlineMs: deadline ? durationMs(`${where}.deadlineMs`, o.deadlineMs, GRPC_DEFAULTS.clientDeadlineMs) : undefined,
  };
}

/** One RPC; resolves when the dependency is SERVING, rejects with a GrpcHealthError saying why not. */
async function probe(client: Client, options: Resolved, signal: AbortSignal): Promise<void> {
  let status: string;
  try {
    status = await callCheck(client, { service: options.service, deadlineMs: options.deadlineMs, signal });
  } catch (error) {
    if (options.allowUnimplemented && error instanceof GrpcHealthError && error.kind === 'GRPC_UNIMPLEMENTED') return;
    throw error;
  }
  if (status !== 'SERVING') {
    const target = client.getChannel().getTarget();
    throw new GrpcHealthError(`Health/Check to ${target} (service ${JSON.stringify(options.service)}) answered ${status}`, `GRPC_${status}`, 0);
  }
}

/**
 * A warmup that makes one Health/Check RPC on `client`'s channel under a deadline. It passes when the
 * dependency answers SERVING; anything else (refused, unreachable, TLS failure, deadline, NOT_SERVING,
 * NOT_FOUND) fails the warmup, and the process exits 75 with the reason in its termination message.
 * Wrap it in `retry()` to give a dependency that is still starting a few attempts.
 *
 * ```ts
 * lifecycle.warmup('inventory', grpcClientWarmup(inventoryClient, { deadlineMs: 2000 }));
 * ```
 */
export function grpcClientWarmup(client: Client, options?: GrpcClientWarmupOptions): WarmupFunction {
  assertClient('grpcClientWarmup(client)', client);
  const resolved = resolve('grpcClientWarmup options', options, ['deadlineMs', 'service', 'allowUnimplemented'], true);
  return (signal) => probe(client, resolved, signal);
}

/**
 * A readiness check that makes one Health/Check RPC on `client`'s channel per run, bounded by the
 * check's `timeoutMs` (the RPC is cancelled when it passes). Register it only for a dependency the
 * service cannot answer anything without: a failing critical check takes the pod out of the Service.
 *
 * ```ts
 * lifecycle.check('inventory', grpcClientCheck(inventoryClient), { critical: false });
 * ```
 */
export function grpcClientCheck(client: Client, options?: GrpcClientCheckOptions): CheckFunction {
  assertClient('grpcClientCheck(client)', client);
  const resolved = resolve('grpcClientCheck options', options, ['service', 'allowUnimplemented'], false);
  return (signal) => probe(client, resolved, signal);
}
