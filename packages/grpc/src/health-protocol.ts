/**
 * The `grpc.health.v1.Health` protocol, on both sides: its service definition, and one Health/Check
 * RPC made on a grpc-js client's channel.
 *
 * The definition is `grpc-health-check`'s: the official health.proto, loaded with
 * `@grpc/proto-loader` (enums as strings), maintained in the grpc-node repository next to grpc-js.
 * No hand-written protobuf. https://github.com/grpc/grpc/blob/master/doc/health-checking.md
 */
import { Metadata, status as GrpcStatus, type Client, type ServiceDefinition, type ServiceError } from '@grpc/grpc-js';
import { service as healthServiceDefinition } from 'grpc-health-check';
import { PodkitError } from '@podkit/lifecycle';

/**
 * What Check and Watch answer. `SERVICE_UNKNOWN` only ever goes out on Watch: Check answers an
 * unknown service with the status NOT_FOUND instead, as the protocol says.
 */
export type ServingStatus = 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

export interface HealthCheckRequest {
  service: string;
}

export interface HealthCheckResponse {
  /** `UNKNOWN` (0) is what a server that never set a status sends. */
  status: ServingStatus | 'UNKNOWN';
}

/**
 * proto-loader's ServiceDefinition and grpc-js's are the same shape, declared in two packages
 * (proto-loader does not depend on grpc-js): this is the one place the two meet.
 */
export const HEALTH_SERVICE = healthServiceDefinition as unknown as ServiceDefinition;

const CHECK = HEALTH_SERVICE.Check!;
export const CHECK_PATH = CHECK.path;

/**
 * A Health/Check RPC that did not come back with a serving status (`ERR_PODKIT_GRPC_HEALTH_FAILED`):
 * `kind` is what probes show as the error's kind.
 */
export class GrpcHealthError extends PodkitError {
  /** `GRPC_UNAVAILABLE`, `GRPC_DEADLINE_EXCEEDED`, `GRPC_NOT_FOUND`… or `GRPC_NOT_SERVING`. */
  readonly kind: string;
  /** The gRPC status code of the RPC (0 when the RPC succeeded but the status was not SERVING). */
  readonly grpcCode: number;

  constructor(message: string, kind: string, grpcCode: number, options?: { cause?: unknown }) {
    super('ERR_PODKIT_GRPC_HEALTH_FAILED', message, options);
    this.name = 'GrpcHealthError';
    this.kind = kind;
    this.grpcCode = grpcCode;
  }
}

/** `14 UNAVAILABLE`: the number a grpc-js error carries, and its name. */
export function statusName(code: number): string {
  return (GrpcStatus as unknown as Record<number, string>)[code] ?? String(code);
}

export interface CheckCallOptions {
  service: string;
  deadlineMs: number | undefined;
  /** Cancels the RPC (warmup timeout, check timeout, shutdown). */
  signal: AbortSignal;
}

/**
 * One Health/Check RPC through `client`: its channel, its credentials and its interceptors, so what
 * it proves is what the service's own calls will use. grpc-js connects lazily, on the first RPC;
 * `waitForReady` stays false, so a dependency that refuses connections fails at once with its
 * reason (`UNAVAILABLE: … ECONNREFUSED`) instead of waiting out the deadline in silence.
 * Resolves with the status the server answered; rejects with a GrpcHealthError when the RPC failed.
 */
export function callCheck(client: Client, { service, deadlineMs, signal }: CheckCallOptions): Promise<HealthCheckResponse['status']> {
  const target = client.getChannel().getTarget();
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const options = deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs };
    let settled = false;
    const onAbort = () => {
      if (settled) return;
      settled = true;
      call.cancel();
      reject(signal.reason);
    };
    const call = client.makeUnaryRequest<HealthCheckRequest, HealthCheckResponse>(
      CHECK_PATH,
      CHECK.requestSerialize as (value: HealthCheckRequest) => Buffer,
      CHECK.responseDeserialize as (value: Buffer) => HealthCheckResponse,
      { service },
      new Metadata(),
      options,
      (error: ServiceError | null, response?: HealthCheckResponse) => {
        signal.removeEventListener('abort', onAbort);
        if (settled) return;
        settled = true;
        if (error) {
          const name = statusName(error.code);
          reject(new GrpcHealthError(`Health/Check to ${target} (service ${JSON.stringify(service)}) failed: ${error.message}`, `GRPC_${name}`, error.code, { cause: error }));
          return;
        }
        resolve(response?.status ?? 'UNKNOWN');
      },
    );
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
