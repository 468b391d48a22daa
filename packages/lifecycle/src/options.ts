/**
 * User-facing options (everything optional) and the resolved configuration (everything set).
 * Every default lives in DEFAULTS, once, typed as the resolved options; a unit test holds the
 * README's options table against it. `resolveOptions()` (resolve-options.ts) validates and fills in.
 */
import type { DiagnosticsOptions, ResolvedDiagnosticsOptions } from './diagnostics/options.js';
import type { Logger } from './logger.js';

export type { DiagnosticsOptions, ResolvedDiagnosticsOptions } from './diagnostics/options.js';

/** Per-check settings. */
export interface CheckOptions {
  /** Time between the end of one run and the start of the next, in ms. @default 2000 */
  intervalMs?: number;
  /** A run that has not settled by then is aborted and counts as a failure, in ms. @default 1000 */
  timeoutMs?: number;
  /** Consecutive failures that flip a passing check to failing. @default 3 */
  failureThreshold?: number;
  /** Consecutive successes that flip a failing check back to passing. @default 1 */
  successThreshold?: number;
  /** A failing critical check fails readiness; a failing non-critical one only reports "degraded". @default true */
  critical?: boolean;
  /**
   * A run that passes but takes longer than this is "slow": the check reports `warn` (probe JSON and
   * `?verbose`, `/metrics`, OpenTelemetry) while readiness stays 200; `undefined` judges no run slow,
   * in ms. Each run is judged alone and counts as a success for the thresholds (hysteresis unaffected).
   * @default undefined
   */
  slowThresholdMs?: number | undefined;
}

/** Per-warmup settings. */
export interface WarmupOptions {
  /** The task is aborted and warmup fails (exit 75) past this, in ms. @default 30000 */
  timeoutMs?: number;
  /**
   * `false`: a failure or timeout of this task is logged (redacted) and shown on `/startupz`
   * (`?verbose`, JSON) and `/metrics`, and the service becomes ready without it, instead of exiting 75.
   * @default true
   */
  required?: boolean;
}

/** Per-hook settings. */
export interface HookOptions {
  /** The hook is abandoned (logged) past this and the next one runs, in ms. @default 5000 */
  timeoutMs?: number;
}

/**
 * WebSocket connections and Server-Sent Events streams at shutdown: after the drain delay, at the
 * "stop accepting" step, each is closed with its clean signal (a close frame 1001 Going Away, the
 * end of the stream), spread over `closeWindowMs` so its clients do not all reconnect at once.
 */
export interface LongLivedOptions {
  /** The closes are spread at random over this window, in ms. @default 1000 */
  closeWindowMs?: number;
  /** After its close frame, how long a WebSocket client gets to answer and close before podkit ends the socket, in ms. @default 1000 */
  closeTimeoutMs?: number;
  /**
   * Bound on the whole step, counted from "stop accepting" (inside `shutdownTimeoutMs`, never
   * beyond what is left of it); a connection still open past it is destroyed, in ms.
   * @default 3000
   */
  budgetMs?: number;
  /**
   * Who says goodbye on WebSocket connections. `'podkit'`: the close frame above. `'app'`: podkit
   * sends nothing; the connections stay open through holds and shutdown hooks (where the app says
   * goodbye, e.g. socket.io's `io.close()`) and are ended after the hooks.
   * @default 'podkit'
   */
  webSocketGoodbye?: 'podkit' | 'app';
  /** Written as `retry: <ms>` before an SSE stream ends, so EventSource clients reconnect that soon; `undefined` writes none. @default undefined */
  sseRetryMs?: number;
}

/** The probe listener. It is a bare `node:http` server on its own port, with tight limits. */
export interface ProbeOptions {
  /** Port of the probe listener (0 picks a free one). @default 9000 */
  port?: number;
  /** Address to bind. Leave unset to listen on every interface, as the kubelet probes the pod IP. @default undefined */
  host?: string;
  /** Serve Prometheus text at `/metrics`. @default false */
  metrics?: boolean;
  /** Show error messages (credentials stripped) in probe bodies instead of only the error's kind. @default false */
  exposeErrors?: boolean;
  /** Open connections allowed; past it the oldest connection that has not sent a full request is dropped. @default 64 */
  maxConnections?: number;
  /** A client must send its request headers within this, in ms. @default 2000 */
  headersTimeoutMs?: number;
  /** A client must send its whole request within this, in ms. @default 5000 */
  requestTimeoutMs?: number;
  /** Largest request header block accepted; larger gets 431, in bytes. @default 8192 */
  maxHeaderSize?: number;
  /**
   * Where the listener runs. `'worker'`: in a worker thread of its own, reading the snapshot from
   * shared memory, so probes answer in milliseconds however busy (or wedged) the main loop is;
   * the thread is unref'd and never keeps the process alive. `'main'`: on the main event loop, for
   * runtimes without worker threads; a saturated main loop then delays every probe.
   * @default 'worker'
   */
  thread?: ProbeThread;
  /**
   * Turns on `GET /prestopz`, for a Kubernetes `preStop: httpGet` hook: a call that carries
   * `Authorization: Bearer <this token>` starts the drain (readiness 503, `Connection: close`) and
   * is answered when the drain delay is over; the SIGTERM that follows carries on the same shutdown
   * with no second delay. Any other caller gets 401 and starts nothing: anybody who can reach the
   * probe port could otherwise take the pod out of service. At least 16 characters; unset: no
   * endpoint (404). See probes/pre-stop.ts.
   * @default undefined
   */
  preStopToken?: string;
  /**
   * Guarded diagnostics of the main thread on the probe port (heap snapshot, CPU profile, report):
   * off unless `enabled`, and then only for a bearer token from an allowed address.
   */
  diagnostics?: DiagnosticsOptions;
}

export type ProbeThread = 'worker' | 'main';

/** Liveness: what makes `/livez` fail besides a fatal error. */
export interface LivenessOptions {
  /**
   * `/livez` (and `/readyz`) answer 503 when the main loop's heartbeat (written every 250 ms) is
   * older than this, in ms: the loop is wedged (an endless loop, a stuck synchronous call). A
   * loop that is busy but still turns keeps beating and stays alive.
   *
   * Why 5000 with the kubelet's defaults (periodSeconds 10, timeoutSeconds 1, failureThreshold 3):
   * it is under one probe period, so a loop wedged from one probe to the next always fails the
   * second; it is five times timeoutSeconds, the only slack a main-thread listener ever had, so
   * GC pauses and synchronous bursts of a few seconds pass; and failureThreshold still asks for
   * three failed probes (about 25 s of wedge) before a restart, so one long call never restarts a pod.
   * @default 5000
   */
  heartbeatTimeoutMs?: number;
}

/** Exit codes, one per way of leaving. */
export interface ExitCodes {
  /** Clean shutdown. @default 0 */
  clean: number;
  /** Uncaught exception or unhandled rejection. @default 70 */
  crash: number;
  /** Warmup (or the main listener) failed or timed out. @default 75 */
  warmupFailed: number;
  /** Shutdown ran past `shutdownTimeoutMs`; connections were cut. @default 124 */
  shutdownTimeout: number;
  /**
   * Added to the signal number when a second signal forces an exit (128 + 15 = 143 for SIGTERM).
   * `forcedBase` + the largest signal number in `signals` must stay within 255: the kernel keeps
   * only the low 8 bits of an exit status, so 128 + 137 would be reported as 9.
   * @default 128
   */
  forcedBase: number;
}

export type OpenMainPort = 'before-warmup' | 'after-warmup';

/** What `start()` does with SIGTERM/SIGINT listeners podkit did not add. */
export type ForeignSignalHandlers = 'warn' | 'defer' | 'leave';

/** Called instead of `process.exit` (tests, embedding); it must not return to podkit expecting more work. */
export type ExitFunction = (code: number, reason: string) => void;

export interface LifecycleOptions {
  /** The probe listener, or `false` for none (mount the probe routes on the app's port instead). */
  probes?: ProbeOptions | false;
  /**
   * After SIGTERM, keep serving (with `Connection: close`) for this long so load balancers and
   * Kubernetes endpoints notice the pod is leaving, in ms.
   * @default 5000 inside Kubernetes (KUBERNETES_SERVICE_HOST set), 0 elsewhere
   */
  drainDelayMs?: number;
  /**
   * Bound on drain delay + drain + hooks together (the drain delay is part of it, not added to it);
   * past it, sockets are destroyed and the process exits 124, in ms. The pod's
   * `terminationGracePeriodSeconds` must exceed it, plus any preStop time, with a margin.
   * @default 25000
   */
  shutdownTimeoutMs?: number;
  /** Bound on the fast drain after a crash before exiting 70, in ms. @default 5000 */
  crashTimeoutMs?: number;
  /**
   * The pod's `preStop: { sleep: { seconds } }`, in seconds: the endpoints were removed during the
   * sleep, so after SIGTERM podkit does not wait the drain delay again; it keeps only a keep-alive
   * window of at most 1 s (and never more than `drainDelayMs`), in which kept-alive connections,
   * which kube-proxy does not move, are told `Connection: close` in-band. The start-up grace-period
   * warning counts the sleep. 0: no preStop sleep.
   * @default 0
   */
  preStopSleepSeconds?: number;
  /**
   * Signals that start the shutdown; a second signal during a shutdown that a signal (or `stop()`)
   * began exits at once. At least one: a process that is PID 1 in a container has no default
   * signal handling, so without a handler SIGTERM is ignored until SIGKILL. `false` opts out
   * (podkit installs no handler and warns at start-up): for a process that handles signals itself
   * and calls `lifecycle.stop()`.
   * @default ['SIGTERM', 'SIGINT']
   */
  signals?: NodeJS.Signals[] | false;
  /**
   * Listeners for `signals` that something else added before `start()` (OpenTelemetry's
   * auto-instrumentation adds a SIGTERM listener that shuts its SDK down). They would run when the
   * signal arrives, at the start of the drain, so telemetry of the requests served during the drain
   * is lost. `'warn'`: leave them and log one warning; `'defer'`: remove them at `start()` and call
   * them after the shutdown hooks, before the exit, each awaited within `hooks.timeoutMs` (telemetry
   * is flushed last); `'leave'`: leave them, silently.
   * @default 'warn'
   */
  foreignSignalHandlers?: ForeignSignalHandlers;
  /** Exit 70 after a fast drain on an uncaught exception or unhandled rejection. @default true */
  handleCrashes?: boolean;
  /** When the main port opens. Readiness stays false until warmup finishes either way. @default 'before-warmup' */
  openMainPort?: OpenMainPort;
  /**
   * How long `start()` waits for the main server to be listening once it has it (the server given
   * to `start(server)`, returned by `start(fn)` or started by an adapter), in ms. Past it the start
   * fails with `ERR_PODKIT_LISTEN_TIMEOUT` and the process exits 75: a server nobody calls
   * `listen()` on would otherwise keep the pod starting forever.
   * @default 10000
   */
  listenTimeoutMs?: number;
  /** Defaults for every `check()`. */
  checks?: CheckOptions;
  /** Defaults for every `warmup()`. */
  warmup?: WarmupOptions;
  /** Defaults for every `onShutdown()`. */
  hooks?: HookOptions;
  /** WebSocket connections and SSE streams at shutdown. */
  longLived?: LongLivedOptions;
  /** When `/livez` fails: the main loop's heartbeat window. */
  liveness?: LivenessOptions;
  /** Override exit codes. */
  exitCodes?: Partial<ExitCodes>;
  /**
   * Where the reason of a non-zero exit is written, for `kubectl describe pod`; `false` for nowhere.
   * @default '/dev/termination-log' when that file exists
   */
  terminationMessagePath?: string | false;
  /**
   * The pod's grace period, in seconds: podkit warns at start-up unless it exceeds
   * `shutdownTimeoutMs` (which already holds the drain delay) by at least a second, plus
   * `preStopSleepSeconds`. The time of a preStop hook podkit is not told of counts too.
   * @default 30 inside Kubernetes, unset elsewhere
   */
  terminationGracePeriodSeconds?: number;
  /** A pino-shaped logger, or `false` for silence. Every line podkit writes to it is redacted first. @default JSON lines on stdout */
  logger?: Logger | false;
  /** `true`: call `process.exit`; `false`: never exit (embedding, tests); or a function to call instead. @default true */
  exit?: boolean | ExitFunction;
}

export interface ResolvedProbeOptions {
  port: number;
  host: string | undefined;
  metrics: boolean;
  exposeErrors: boolean;
  maxConnections: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxHeaderSize: number;
  thread: ProbeThread;
  preStopToken: string | undefined;
  diagnostics: ResolvedDiagnosticsOptions;
}

export interface ResolvedLongLivedOptions {
  closeWindowMs: number;
  closeTimeoutMs: number;
  budgetMs: number;
  webSocketGoodbye: 'podkit' | 'app';
  sseRetryMs: number | undefined;
}

export interface ResolvedCheckOptions {
  intervalMs: number;
  timeoutMs: number;
  failureThreshold: number;
  successThreshold: number;
  critical: boolean;
  slowThresholdMs: number | undefined;
}

export interface ResolvedOptions {
  probes: ResolvedProbeOptions | false;
  drainDelayMs: number;
  shutdownTimeoutMs: number;
  crashTimeoutMs: number;
  preStopSleepSeconds: number;
  /** `false`: the user opted out of signal handling. Never empty. */
  signals: NodeJS.Signals[] | false;
  foreignSignalHandlers: ForeignSignalHandlers;
  handleCrashes: boolean;
  openMainPort: OpenMainPort;
  listenTimeoutMs: number;
  checks: ResolvedCheckOptions;
  warmup: Required<WarmupOptions>;
  hooks: Required<HookOptions>;
  longLived: ResolvedLongLivedOptions;
  liveness: Required<LivenessOptions>;
  exitCodes: ExitCodes;
  terminationMessagePath: string | false | undefined;
  terminationGracePeriodSeconds: number | undefined;
  logger: Logger;
  exit: ExitFunction | false;
  inKubernetes: boolean;
}

/**
 * The defaults: the resolved options, less what only the caller can give (`logger`, `exit`), with
 * the values that depend on where the process runs (inside Kubernetes or not) given for each place.
 */
export type Defaults = Omit<
  ResolvedOptions,
  'probes' | 'signals' | 'drainDelayMs' | 'terminationMessagePath' | 'terminationGracePeriodSeconds' | 'logger' | 'exit' | 'inKubernetes'
> & {
  probes: ResolvedProbeOptions;
  signals: readonly NodeJS.Signals[];
  drainDelayMsInKubernetes: number;
  drainDelayMsElsewhere: number;
  terminationMessagePath: string;
  terminationGracePeriodSecondsInKubernetes: number;
};

type DeepReadonly<T> = { readonly [K in keyof T]: T[K] extends object ? DeepReadonly<T[K]> : T[K] };

function deepFreeze<T extends object>(value: T): DeepReadonly<T> {
  for (const inner of Object.values(value)) if (typeof inner === 'object' && inner !== null) deepFreeze(inner as object);
  return Object.freeze(value) as DeepReadonly<T>;
}

/** Every default, in one place. */
export const DEFAULTS: DeepReadonly<Defaults> = deepFreeze<Defaults>({
  probes: {
    port: 9000,
    host: undefined,
    metrics: false,
    exposeErrors: false,
    maxConnections: 64,
    headersTimeoutMs: 2000,
    requestTimeoutMs: 5000,
    maxHeaderSize: 8192,
    thread: 'worker',
    preStopToken: undefined,
    diagnostics: {
      enabled: false,
      tokenEnv: 'PODKIT_DIAGNOSTICS_TOKEN',
      tokenFile: undefined,
      allow: ['127.0.0.0/8', '::1/128'],
      cgroupRoot: '/sys/fs/cgroup',
      maxCpuProfileSeconds: 60,
    },
  },
  drainDelayMsInKubernetes: 5000,
  drainDelayMsElsewhere: 0,
  shutdownTimeoutMs: 25_000,
  crashTimeoutMs: 5000,
  preStopSleepSeconds: 0,
  signals: ['SIGTERM', 'SIGINT'],
  foreignSignalHandlers: 'warn',
  handleCrashes: true,
  openMainPort: 'before-warmup',
  listenTimeoutMs: 10_000,
  checks: { intervalMs: 2000, timeoutMs: 1000, failureThreshold: 3, successThreshold: 1, critical: true, slowThresholdMs: undefined },
  warmup: { timeoutMs: 30_000, required: true },
  hooks: { timeoutMs: 5000 },
  longLived: { closeWindowMs: 1000, closeTimeoutMs: 1000, budgetMs: 3000, webSocketGoodbye: 'podkit', sseRetryMs: undefined },
  liveness: { heartbeatTimeoutMs: 5000 },
  exitCodes: { clean: 0, crash: 70, warmupFailed: 75, shutdownTimeout: 124, forcedBase: 128 },
  terminationMessagePath: '/dev/termination-log',
  terminationGracePeriodSecondsInKubernetes: 30,
});
