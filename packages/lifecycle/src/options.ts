/**
 * The options of `createLifecycle()`, as the user gives them (everything optional). The groups
 * live beside it (options-tasks.ts, options-probes.ts, options-shutdown.ts); the resolved
 * configuration (everything set) in options-resolved.ts; every default once, in DEFAULTS
 * (defaults.ts), typed as the resolved options; `resolveOptions()` (resolve-options.ts) validates
 * and fills in.
 */
import type { Logger } from './logger.js';
import type { ExitCodes, LongLivedOptions } from './options-shutdown.js';
import type { LivenessOptions, ProbeOptions } from './options-probes.js';
import type { CheckOptions, HookOptions, WarmupOptions } from './options-tasks.js';

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
