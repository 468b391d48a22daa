/**
 * User-facing options (everything optional) and the resolved configuration (everything set).
 * Every default lives in DEFAULTS, once; the README's options table is written from it.
 */
import { constants as osConstants } from 'node:os';
import { InvalidOptionError } from './errors.js';
import { exitProcess } from './exit-codes.js';
import { createJsonLogger, redactingLogger, silentLogger, type Logger } from './logger.js';

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
}

/** Per-warmup settings. */
export interface WarmupOptions {
  /** The task is aborted and warmup fails (exit 75) past this, in ms. @default 30000 */
  timeoutMs?: number;
}

/** Per-hook settings. */
export interface HookOptions {
  /** The hook is abandoned (logged) past this and the next one runs, in ms. @default 5000 */
  timeoutMs?: number;
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
   * `shutdownTimeoutMs` (which already holds the drain delay) by at least a second. A preStop hook's
   * time counts against the grace period too; podkit cannot see it.
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
}

export interface ResolvedCheckOptions {
  intervalMs: number;
  timeoutMs: number;
  failureThreshold: number;
  successThreshold: number;
  critical: boolean;
}

export interface ResolvedOptions {
  probes: ResolvedProbeOptions | false;
  drainDelayMs: number;
  shutdownTimeoutMs: number;
  crashTimeoutMs: number;
  /** `false`: the user opted out of signal handling. Never empty. */
  signals: NodeJS.Signals[] | false;
  foreignSignalHandlers: ForeignSignalHandlers;
  handleCrashes: boolean;
  openMainPort: OpenMainPort;
  listenTimeoutMs: number;
  checks: ResolvedCheckOptions;
  warmup: Required<WarmupOptions>;
  hooks: Required<HookOptions>;
  liveness: Required<LivenessOptions>;
  exitCodes: ExitCodes;
  terminationMessagePath: string | false | undefined;
  terminationGracePeriodSeconds: number | undefined;
  logger: Logger;
  exit: ExitFunction | false;
  inKubernetes: boolean;
}

/** Every default, in one place. */
export const DEFAULTS = {
  probes: {
    port: 9000,
    host: undefined,
    metrics: false,
    exposeErrors: false,
    maxConnections: 64,
    headersTimeoutMs: 2000,
    requestTimeoutMs: 5000,
    maxHeaderSize: 8192,
    thread: 'worker' as ProbeThread,
  } satisfies ResolvedProbeOptions,
  drainDelayMsInKubernetes: 5000,
  drainDelayMsElsewhere: 0,
  shutdownTimeoutMs: 25_000,
  crashTimeoutMs: 5000,
  signals: ['SIGTERM', 'SIGINT'] as NodeJS.Signals[],
  foreignSignalHandlers: 'warn' as ForeignSignalHandlers,
  handleCrashes: true,
  openMainPort: 'before-warmup' as OpenMainPort,
  listenTimeoutMs: 10_000,
  checks: { intervalMs: 2000, timeoutMs: 1000, failureThreshold: 3, successThreshold: 1, critical: true } satisfies ResolvedCheckOptions,
  warmup: { timeoutMs: 30_000 },
  hooks: { timeoutMs: 5000 },
  liveness: { heartbeatTimeoutMs: 5000 } satisfies Required<LivenessOptions>,
  exitCodes: { clean: 0, crash: 70, warmupFailed: 75, shutdownTimeout: 124, forcedBase: 128 } satisfies ExitCodes,
  terminationMessagePath: '/dev/termination-log',
  terminationGracePeriodSecondsInKubernetes: 30,
} as const;

const MAX_TIMER_MS = 2_147_483_647; // setTimeout's ceiling; a larger value would fire at once.

// --- validators: each names the option, the value and what is allowed -------------------------

export function plainObject(name: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidOptionError(name, value, 'an object');
  return value as Record<string, unknown>;
}

export function knownKeys(name: string, value: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      const where = name ? `${name}.${key}` : key;
      throw new InvalidOptionError(where, value[key], `no such option (known: ${allowed.join(', ')})`);
    }
  }
}

export function durationMs(name: string, value: unknown, fallback: number, { min = 0 } = {}): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_TIMER_MS) {
    throw new InvalidOptionError(name, value, `an integer number of milliseconds from ${min} to ${MAX_TIMER_MS}`);
  }
  return value;
}

export function positiveInteger(name: string, value: unknown, fallback: number, max = 1_000_000): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidOptionError(name, value, `an integer from 1 to ${max}`);
  }
  return value;
}

export function bool(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidOptionError(name, value, 'true or false');
  return value;
}

function port(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535) {
    throw new InvalidOptionError(name, value, 'an integer port from 1 to 65535 (or 0 for any free port)');
  }
  return value;
}

/** The largest value an exit status can carry: the kernel keeps its low 8 bits. */
const MAX_EXIT_CODE = 255;

function exitCode(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_EXIT_CODE) {
    throw new InvalidOptionError(name, value, `an integer exit code from 0 to ${MAX_EXIT_CODE}`);
  }
  return value;
}

export function resolveCheckOptions(name: string, value: unknown, base: ResolvedCheckOptions): ResolvedCheckOptions {
  if (value === undefined) return base;
  const o = plainObject(name, value);
  knownKeys(name, o, ['intervalMs', 'timeoutMs', 'failureThreshold', 'successThreshold', 'critical']);
  return {
    intervalMs: durationMs(`${name}.intervalMs`, o.intervalMs, base.intervalMs, { min: 1 }),
    timeoutMs: durationMs(`${name}.timeoutMs`, o.timeoutMs, base.timeoutMs, { min: 1 }),
    failureThreshold: positiveInteger(`${name}.failureThreshold`, o.failureThreshold, base.failureThreshold, 1000),
    successThreshold: positiveInteger(`${name}.successThreshold`, o.successThreshold, base.successThreshold, 1000),
    critical: bool(`${name}.critical`, o.critical, base.critical),
  };
}

export function resolveTimeoutOptions(name: string, value: unknown, fallbackMs: number): { timeoutMs: number } {
  if (value === undefined) return { timeoutMs: fallbackMs };
  const o = plainObject(name, value);
  knownKeys(name, o, ['timeoutMs']);
  return { timeoutMs: durationMs(`${name}.timeoutMs`, o.timeoutMs, fallbackMs, { min: 1 }) };
}

function resolveProbes(value: unknown): ResolvedProbeOptions | false {
  if (value === false) return false;
  if (value === undefined) return { ...DEFAULTS.probes };
  const o = plainObject('probes', value);
  const d = DEFAULTS.probes;
  knownKeys('probes', o, Object.keys(d));
  if (o.host !== undefined && (typeof o.host !== 'string' || o.host === '')) {
    throw new InvalidOptionError('probes.host', o.host, 'a non-empty host name or address');
  }
  const headersTimeoutMs = durationMs('probes.headersTimeoutMs', o.headersTimeoutMs, d.headersTimeoutMs, { min: 1 });
  const requestTimeoutMs = durationMs('probes.requestTimeoutMs', o.requestTimeoutMs, d.requestTimeoutMs, { min: 1 });
  // node:http throws ERR_OUT_OF_RANGE at createServer when headersTimeout > requestTimeout; say so
  // here, at construction, instead of failing start() with Node's message.
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new InvalidOptionError(
      'probes.headersTimeoutMs',
      headersTimeoutMs,
      `at most probes.requestTimeoutMs (${requestTimeoutMs} ms): the headers are part of the request`,
    );
  }
  return {
    port: port('probes.port', o.port, d.port),
    host: o.host as string | undefined,
    metrics: bool('probes.metrics', o.metrics, d.metrics),
    exposeErrors: bool('probes.exposeErrors', o.exposeErrors, d.exposeErrors),
    maxConnections: positiveInteger('probes.maxConnections', o.maxConnections, d.maxConnections, 100_000),
    headersTimeoutMs,
    requestTimeoutMs,
    maxHeaderSize: positiveInteger('probes.maxHeaderSize', o.maxHeaderSize, d.maxHeaderSize, 1024 * 1024),
    thread: probeThread(o.thread, d.thread),
  };
}

function probeThread(value: unknown, fallback: ProbeThread): ProbeThread {
  if (value === undefined) return fallback;
  if (value !== 'worker' && value !== 'main') throw new InvalidOptionError('probes.thread', value, '"worker" or "main"');
  return value;
}

/**
 * Signals that cannot start a shutdown: SIGKILL and SIGSTOP cannot be caught at all, and Node runs
 * no JavaScript safely after a real SIGSEGV, SIGBUS, SIGFPE or SIGILL (the process is broken, not
 * asked to leave). https://nodejs.org/api/process.html#signal-events
 */
const UNUSABLE_SIGNALS: ReadonlySet<string> = new Set(['SIGKILL', 'SIGSTOP', 'SIGSEGV', 'SIGBUS', 'SIGFPE', 'SIGILL']);

function resolveSignals(value: unknown): NodeJS.Signals[] | false {
  if (value === undefined) return [...DEFAULTS.signals];
  // An explicit opt-out, for a process that handles signals itself and calls stop().
  if (value === false) return false;
  if (!Array.isArray(value)) {
    throw new InvalidOptionError('signals', value, 'an array of signal names such as ["SIGTERM", "SIGINT"], or false to handle signals yourself');
  }
  // An empty list used to mean "no handler" silently: as PID 1 in a container that process then
  // ignores SIGTERM and waits out the grace period for SIGKILL. Opting out must be said out loud.
  if (value.length === 0) {
    throw new InvalidOptionError(
      'signals',
      value,
      'at least one signal name such as "SIGTERM", or false to install no handler (then call lifecycle.stop() on SIGTERM yourself)',
    );
  }
  for (const signal of value) {
    if (typeof signal !== 'string' || !(signal in osConstants.signals)) {
      throw new InvalidOptionError('signals', signal, 'signal names this platform knows, such as "SIGTERM", "SIGINT" or "SIGUSR2"');
    }
    if (UNUSABLE_SIGNALS.has(signal)) {
      throw new InvalidOptionError('signals', signal, `a signal a process can catch and survive (not ${[...UNUSABLE_SIGNALS].join(', ')})`);
    }
  }
  return [...new Set(value as NodeJS.Signals[])];
}

function resolveExitCodes(value: unknown, signals: readonly NodeJS.Signals[] | false): ExitCodes {
  const d = DEFAULTS.exitCodes;
  const o = value === undefined ? {} : plainObject('exitCodes', value);
  knownKeys('exitCodes', o, Object.keys(d));
  const codes: ExitCodes = {
    clean: exitCode('exitCodes.clean', o.clean, d.clean),
    crash: exitCode('exitCodes.crash', o.crash, d.crash),
    warmupFailed: exitCode('exitCodes.warmupFailed', o.warmupFailed, d.warmupFailed),
    shutdownTimeout: exitCode('exitCodes.shutdownTimeout', o.shutdownTimeout, d.shutdownTimeout),
    forcedBase: exitCode('exitCodes.forcedBase', o.forcedBase, d.forcedBase),
  };
  // A forced exit reports forcedBase + the signal's number. Past 255 the kernel keeps the low 8
  // bits (128 + 137 would reach the orchestrator as 9), so the code podkit logs and writes to the
  // termination message would not be the one Kubernetes shows.
  if (signals) {
    let largest: NodeJS.Signals = signals[0]!;
    for (const signal of signals) if (osConstants.signals[signal] > osConstants.signals[largest]) largest = signal;
    const number = osConstants.signals[largest];
    if (codes.forcedBase + number > MAX_EXIT_CODE) {
      throw new InvalidOptionError(
        'exitCodes.forcedBase',
        codes.forcedBase,
        `at most ${MAX_EXIT_CODE - number}, so that forcedBase + the signal number stays a valid exit code (at most ${MAX_EXIT_CODE}) for every signal in signals, of which ${largest} is ${number}`,
      );
    }
  }
  return codes;
}

/** The logger podkit writes to: the user's (or the default JSON one), wrapped once so that every line is redacted. */
function resolveLogger(value: unknown): Logger {
  if (value === undefined) return redactingLogger(createJsonLogger());
  if (value === false) return silentLogger;
  const o = value as Record<string, unknown> | null;
  for (const level of ['info', 'warn', 'error', 'fatal']) {
    if (typeof o !== 'object' || o === null || typeof o[level] !== 'function') {
      throw new InvalidOptionError('logger', value, 'false or an object with info, warn, error and fatal methods (pino works)');
    }
  }
  return redactingLogger(value as Logger);
}

function resolveExit(value: unknown): ExitFunction | false {
  if (value === undefined || value === true) return exitProcess;
  if (value === false) return false;
  if (typeof value === 'function') return value as ExitFunction;
  throw new InvalidOptionError('exit', value, 'true, false or a function (code, reason) => void');
}

/** The smallest heartbeat window: four beats, so the beat's own granularity never makes a turning loop look stale. */
const MIN_HEARTBEAT_TIMEOUT_MS = 1000;

function resolveLiveness(value: unknown): Required<LivenessOptions> {
  const d = DEFAULTS.liveness;
  if (value === undefined) return { ...d };
  const o = plainObject('liveness', value);
  knownKeys('liveness', o, Object.keys(d));
  return { heartbeatTimeoutMs: durationMs('liveness.heartbeatTimeoutMs', o.heartbeatTimeoutMs, d.heartbeatTimeoutMs, { min: MIN_HEARTBEAT_TIMEOUT_MS }) };
}

const TOP_LEVEL_KEYS = [
  'probes', 'drainDelayMs', 'shutdownTimeoutMs', 'crashTimeoutMs', 'signals', 'foreignSignalHandlers', 'handleCrashes', 'openMainPort', 'listenTimeoutMs', 'checks',
  'warmup', 'hooks', 'liveness', 'exitCodes', 'terminationMessagePath', 'terminationGracePeriodSeconds', 'logger', 'exit',
] as const satisfies readonly (keyof LifecycleOptions)[];

/** Validates every option up front and fills in defaults. `env` is read here, never at import time. */
export function resolveOptions(options: unknown = {}, env: NodeJS.ProcessEnv = process.env): ResolvedOptions {
  const o = plainObject('options', options);
  if (o.eventLoop !== undefined) {
    // The delay-based monitor failed /livez for a loop that was busy but turning, which restarts
    // pods for being loaded; the heartbeat replaced it. Say so rather than "no such option".
    throw new InvalidOptionError(
      'eventLoop',
      o.eventLoop,
      'liveness: { heartbeatTimeoutMs } instead: eventLoop was replaced by the main-loop heartbeat, which fails /livez only when the loop stops turning (README, "Migrating from eventLoop")',
    );
  }
  knownKeys('', o, TOP_LEVEL_KEYS);
  const inKubernetes = Boolean(env.KUBERNETES_SERVICE_HOST);

  const shutdownTimeoutMs = durationMs('shutdownTimeoutMs', o.shutdownTimeoutMs, DEFAULTS.shutdownTimeoutMs, { min: 1 });
  const drainDelayMs = durationMs(
    'drainDelayMs',
    o.drainDelayMs,
    inKubernetes ? DEFAULTS.drainDelayMsInKubernetes : DEFAULTS.drainDelayMsElsewhere,
  );
  if (drainDelayMs >= shutdownTimeoutMs) {
    throw new InvalidOptionError(
      'drainDelayMs',
      drainDelayMs,
      `less than shutdownTimeoutMs (${shutdownTimeoutMs} ms), which bounds the drain delay, the drain and the hooks together`,
    );
  }

  const fsh = o.foreignSignalHandlers;
  if (fsh !== undefined && fsh !== 'warn' && fsh !== 'defer' && fsh !== 'leave') {
    throw new InvalidOptionError('foreignSignalHandlers', fsh, '"warn", "defer" or "leave"');
  }
  if (o.openMainPort !== undefined && o.openMainPort !== 'before-warmup' && o.openMainPort !== 'after-warmup') {
    throw new InvalidOptionError('openMainPort', o.openMainPort, '"before-warmup" or "after-warmup"');
  }
  const tmp = o.terminationMessagePath;
  if (tmp !== undefined && tmp !== false && (typeof tmp !== 'string' || tmp === '')) {
    throw new InvalidOptionError('terminationMessagePath', tmp, 'a file path or false');
  }
  const grace = o.terminationGracePeriodSeconds;
  if (grace !== undefined && (typeof grace !== 'number' || !Number.isInteger(grace) || grace < 0)) {
    throw new InvalidOptionError('terminationGracePeriodSeconds', grace, 'a whole number of seconds from 0');
  }

  const signals = resolveSignals(o.signals);

  return {
    probes: resolveProbes(o.probes),
    drainDelayMs,
    shutdownTimeoutMs,
    crashTimeoutMs: durationMs('crashTimeoutMs', o.crashTimeoutMs, DEFAULTS.crashTimeoutMs, { min: 1 }),
    signals,
    foreignSignalHandlers: (fsh as ForeignSignalHandlers | undefined) ?? DEFAULTS.foreignSignalHandlers,
    handleCrashes: bool('handleCrashes', o.handleCrashes, DEFAULTS.handleCrashes),
    openMainPort: (o.openMainPort as OpenMainPort | undefined) ?? DEFAULTS.openMainPort,
    listenTimeoutMs: durationMs('listenTimeoutMs', o.listenTimeoutMs, DEFAULTS.listenTimeoutMs, { min: 1 }),
    checks: resolveCheckOptions('checks', o.checks, DEFAULTS.checks),
    warmup: resolveTimeoutOptions('warmup', o.warmup, DEFAULTS.warmup.timeoutMs),
    hooks: resolveTimeoutOptions('hooks', o.hooks, DEFAULTS.hooks.timeoutMs),
    liveness: resolveLiveness(o.liveness),
    exitCodes: resolveExitCodes(o.exitCodes, signals),
    terminationMessagePath: tmp as string | false | undefined,
    terminationGracePeriodSeconds:
      (grace as number | undefined) ?? (inKubernetes ? DEFAULTS.terminationGracePeriodSecondsInKubernetes : undefined),
    logger: resolveLogger(o.logger),
    exit: resolveExit(o.exit),
    inKubernetes,
  };
}
