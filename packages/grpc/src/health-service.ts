/**
 * `grpc.health.v1.Health` answered from the lifecycle's state, as `/readyz` is:
 *
 *   service ""                 overall readiness: SERVING when the lifecycle is ready and every
 *                              critical check passes; NOT_SERVING while starting, warming,
 *                              draining, stopping, after a failure, or while a critical check fails
 *   service "<check name>"     that one check, as `/readyz/<check>`: SERVING while it passes
 *   any other name             Check: status NOT_FOUND; Watch: SERVICE_UNKNOWN, then the status once
 *                              a check by that name reports (the protocol's words)
 *
 * Why not grpc-health-check's `HealthImplementation` (only its service definition is used):
 * - its statuses are pushed with `setStatus()` and it knows only what was pushed, so a check that is
 *   registered but has not run yet would be NOT_FOUND instead of NOT_SERVING; here every answer is
 *   read from the lifecycle at the moment it is given, so it cannot disagree with `/readyz`;
 * - it writes to every watcher on every `setStatus()`, changed or not; here a Watch stream gets a
 *   message only when its status changes;
 * - its Watch streams never end, and it gives no way to end them. grpc-js `tryShutdown()` waits for
 *   every open call, so one watching client (a load balancer, a mesh sidecar) would hold the drain
 *   until the shutdown deadline cut it (exit 124). Here they are ended at the "stop accepting" step,
 *   after they have been told NOT_SERVING.
 *
 * Watch streams are written from the lifecycle's 'state' and 'check' events, synchronously, so a
 * watcher is told in the very tick readiness changes (SIGTERM included), as `/readyz` flips.
 */
import { status as GrpcStatus, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Lifecycle } from '@podkit/lifecycle';
import type { HealthCheckRequest, HealthCheckResponse, ServingStatus } from './health-protocol.js';

export interface HealthOptions {
  /**
   * More service names that answer with the overall readiness, as `""` does: typically the fully
   * qualified names of the services this server hosts (`orders.v1.Orders`), for clients that ask
   * about the service they call.
   * @default []
   */
  services?: readonly string[];
}

export interface HealthService {
  /** The handlers to add with `server.addService(HEALTH_SERVICE, implementation)`. */
  readonly implementation: UntypedServiceImplementation;
  /** What Check would answer for `service` now (`SERVICE_UNKNOWN` where Check answers NOT_FOUND). */
  status(service: string): ServingStatus;
  /** Open Watch streams. */
  readonly watchers: number;
  /** Ends every Watch stream (each has been told NOT_SERVING by then) and every one opened later. */
  close(): void;
}

interface Watcher {
  readonly service: string;
  readonly call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>;
  last: ServingStatus;
}

/** Longest service name echoed back in an error message: the name comes from the client. */
const MAX_NAME_IN_MESSAGE = 200;

export function createHealthService(lifecycle: Lifecycle, overallNames: readonly string[]): HealthService {
  const overall = new Set(['', ...overallNames]);
  const watchers = new Set<Watcher>();
  let closed = false;

  /**
   * One check's verdict, read from the core's own answer to `/readyz/<name>` (200 passing, 503 not
   * passing or not run yet, 404 no such check): the one place that knows which checks exist and
   * what they say, so this answer and the probe's cannot drift apart. O(1), no I/O.
   */
  function checkStatus(name: string): ServingStatus {
    const answer = lifecycle.answerProbe({ method: 'HEAD', url: `/readyz/${encodeURIComponent(name)}` });
    if (answer.status === 404) return 'SERVICE_UNKNOWN';
    return answer.status === 200 ? 'SERVING' : 'NOT_SERVING';
  }

  function status(service: string): ServingStatus {
    if (overall.has(service)) return lifecycle.isReady() ? 'SERVING' : 'NOT_SERVING';
    // Check names hold no slashes or spaces; a fully qualified gRPC service name that is not a check is unknown.
    return checkStatus(service);
  }

  function send(watcher: Watcher, next: ServingStatus): void {
    watcher.last = next;
    watcher.call.write({ status: next });
  }

  /** Every watcher whose status changed gets one message, now. */
  function update(): void {
    for (const watcher of watchers) {
      const next = status(watcher.service);
      if (next !== watcher.last) send(watcher, next);
    }
  }

  lifecycle.on('state', update);
  lifecycle.on('check', update);

  const implementation: UntypedServiceImplementation = {
    Check(call: ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>, callback: sendUnaryData<HealthCheckResponse>) {
      const service = call.request.service ?? '';
      const now = status(service);
      if (now === 'SERVICE_UNKNOWN') {
        callback({ code: GrpcStatus.NOT_FOUND, details: `unknown service ${JSON.stringify(service.slice(0, MAX_NAME_IN_MESSAGE))}` });
        return;
      }
      callback(null, { status: now });
    },

    Watch(call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>) {
      const watcher: Watcher = { service: call.request.service ?? '', call, last: 'SERVICE_UNKNOWN' };
      send(watcher, status(watcher.service));
      if (closed) {
        // Opened on a connection that has not seen the GOAWAY yet: told where things stand, and ended.
        call.end();
        return;
      }
      watchers.add(watcher);
      const remove = () => watchers.delete(watcher);
      call.on('cancelled', remove);
      call.on('error', remove);
      call.on('finish', remove);
    },
  };

  return {
    implementation,
    status,
    get watchers() {
      return watchers.size;
    },
    close() {
      if (closed) return;
      closed = true;
      for (const watcher of watchers) {
        // The last word is the current one (NOT_SERVING by now); update() already sent it if it changed.
        const next = status(watcher.service);
        if (next !== watcher.last) send(watcher, next);
        watcher.call.end();
      }
      watchers.clear();
    },
  };
}
