/**
 * Stable error codes. Programmer errors (bad options, calls in the wrong state) throw at the call;
 * runtime trouble (a failing check, a throwing hook) never throws: it is reported and logged.
 */
export type PodkitErrorCode =
  /** A wrong option or argument (`InvalidOptionError`). */
  | 'ERR_PODKIT_INVALID_OPTION'
  /** A check, warmup or hook name registered twice. */
  | 'ERR_PODKIT_DUPLICATE_NAME'
  /** `start()` on a lifecycle that was already started or stopped: a lifecycle runs once. */
  | 'ERR_PODKIT_ALREADY_STARTED'
  /** `warmup()` after `start()`: warmups run once, before ready. */
  | 'ERR_PODKIT_WARMUP_AFTER_START'
  /** `start(fn)` where `fn` returned no server, or `start(app)` for an app that is not listening and that its adapter cannot start. */
  | 'ERR_PODKIT_NO_SERVER'
  /** The probe listener or the main server could not listen (a listen error, or `fn`/`app.listen()` threw). */
  | 'ERR_PODKIT_LISTEN_FAILED'
  /** The main server was not listening within `listenTimeoutMs`. */
  | 'ERR_PODKIT_LISTEN_TIMEOUT'
  /** The probe worker thread died: before listening, as the cause of `ERR_PODKIT_LISTEN_FAILED` (exit 75), after it, reported as an uncaught exception (exit 70). */
  | 'ERR_PODKIT_PROBE_WORKER_FAILED'
  /** A warmup task failed or timed out. */
  | 'ERR_PODKIT_WARMUP_FAILED'
  /** `routeWarmup` ran while the main server was not listening. */
  | 'ERR_PODKIT_MAIN_PORT_CLOSED'
  /** The reason of `lifecycle.signal` and of a warmup's signal when the shutdown aborts them. */
  | 'ERR_PODKIT_SHUTTING_DOWN'
  /** `@podkit/lifecycle/redis`: the client is not connected, or a command failed (`RedisNotReadyError`, kind `REDIS_NOT_READY`). */
  | 'ERR_PODKIT_REDIS_NOT_READY'
  /** `@podkit/lifecycle/http`: the dependency answered a status outside `expectStatus` (`UnexpectedStatusError`, kind `HTTP_<status>`). */
  | 'ERR_PODKIT_UNEXPECTED_STATUS'
  /** `@podkit/lifecycle/http`: the request got no answer: refused, reset, DNS or TLS failure (`HttpRequestError`, kind: the network error's code). */
  | 'ERR_PODKIT_HTTP_REQUEST_FAILED'
  /** `@podkit/grpc`: a Health/Check RPC did not come back SERVING (`GrpcHealthError`, kind `GRPC_<status>`). */
  | 'ERR_PODKIT_GRPC_HEALTH_FAILED'
  /** `@podkit/grpc`: the gRPC server could not bind its address (`GrpcBindError`, kind `GRPC_BIND_FAILED`). */
  | 'ERR_PODKIT_GRPC_BIND_FAILED'
  /** A check, warmup or hook outlived its timeout (`TimeoutError`). */
  | 'ERR_PODKIT_TIMEOUT';

/** The one error family podkit throws. `code` is stable across releases; match on it, not on the message. */
export class PodkitError extends Error {
  readonly code: PodkitErrorCode;

  constructor(code: PodkitErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PodkitError';
    this.code = code;
  }
}

/** A wrong option: names the option, the value received and what is allowed. */
export class InvalidOptionError extends PodkitError {
  readonly option: string;
  readonly value: unknown;

  constructor(option: string, value: unknown, allowed: string) {
    super('ERR_PODKIT_INVALID_OPTION', `Invalid option "${option}": received ${describeValue(value)}; expected ${allowed}.`);
    this.name = 'InvalidOptionError';
    this.option = option;
    this.value = value;
  }
}

/** Raised inside a task whose time ran out (its AbortSignal carries it as `reason`). */
export class TimeoutError extends PodkitError {
  readonly timeoutMs: number;

  constructor(what: string, timeoutMs: number) {
    super('ERR_PODKIT_TIMEOUT', `${what} timed out after ${timeoutMs} ms`);
    this.name = 'TimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array (${JSON.stringify(value).slice(0, 80)})`;
  try {
    return JSON.stringify(value).slice(0, 80);
  } catch {
    return typeof value;
  }
}
