/**
 * resolveOptions(): validates every option up front, names what is wrong, and fills in DEFAULTS.
 */
import { constants as osConstants } from 'node:os';
import { resolveDiagnostics } from './diagnostics/options.js';
import { InvalidOptionError } from './errors.js';
import { exitProcess } from './exit.js';
import { createJsonLogger, redactingLogger, silentLogger, type Logger } from './logger.js';
import {
  DEFAULTS,
  type ExitCodes,
  type ExitFunction,
  type LifecycleOptions,
  type LivenessOptions,
  type ForeignSignalHandlers,
  type OpenMainPort,
  type ProbeThread,
  type ResolvedCheckOptions,
  type ResolvedLongLivedOptions,
  type ResolvedOptions,
  type ResolvedProbeOptions,
  type WarmupOptions,
} from './options.js';
import { bool, durationMs, exitCode, knownKeys, MAX_EXIT_CODE, plainObject, port, positiveInteger } from './validate.js';

export function resolveCheckOptions(name: string, value: unknown, base: ResolvedCheckOptions): ResolvedCheckOptions {
  if (value === undefined) return base;
  const o = plainObject(name, value);
  knownKeys(name, o, ['intervalMs', 'timeoutMs', 'failureThreshold', 'successThreshold', 'critical', 'slowThresholdMs']);
  return {
    intervalMs: durationMs(`${name}.intervalMs`, o.intervalMs, base.intervalMs, { min: 1 }),
    timeoutMs: durationMs(`${name}.timeoutMs`, o.timeoutMs, base.timeoutMs, { min: 1 }),
    failureThreshold: positiveInteger(`${name}.failureThreshold`, o.failureThreshold, base.failureThreshold, 1000),
    successThreshold: positiveInteger(`${name}.successThreshold`, o.successThreshold, base.successThreshold, 1000),
    critical: bool(`${name}.critical`, o.critical, base.critical),
    slowThresholdMs: o.slowThresholdMs === undefined ? base.slowThresholdMs : durationMs(`${name}.slowThresholdMs`, o.slowThresholdMs, 0, { min: 1 }),
  };
}

export function resolveWarmupOptions(name: string, value: unknown, base: Required<WarmupOptions>): Required<WarmupOptions> {
  if (value === undefined) return base;
  const o = plainObject(name, value);
  knownKeys(name, o, ['timeoutMs', 'required']);
  return {
    timeoutMs: durationMs(`${name}.timeoutMs`, o.timeoutMs, base.timeoutMs, { min: 1 }),
    required: bool(`${name}.required`, o.required, base.required),
  };
}

export function resolveTimeoutOptions(name: string, value: unknown, fallbackMs: number): { timeoutMs: number } {
  if (value === undefined) return { timeoutMs: fallbackMs };
  const o = plainObject(name, value);
  knownKeys(name, o, ['timeoutMs']);
  return { timeoutMs: durationMs(`${name}.timeoutMs`, o.timeoutMs, fallbackMs, { min: 1 }) };
}

function resolveProbes(value: unknown, env: NodeJS.ProcessEnv): ResolvedProbeOptions | false {
  if (value === false) return false;
  if (value === undefined) return { ...DEFAULTS.probes, diagnostics: resolveDiagnostics(undefined, DEFAULTS.probes.diagnostics, env) };
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
    preStopToken: preStopToken(o.preStopToken),
    diagnostics: resolveDiagnostics(o.diagnostics, d.diagnostics, env),
  };
}

/** Long enough not to be guessed by whoever can reach the probe port (`openssl rand -hex 16` gives 32). */
const MIN_PRESTOP_TOKEN_LENGTH = 16;

function preStopToken(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  // Sent as `Authorization: Bearer <token>`: only the characters of an RFC 6750 b64token fit there.
  if (typeof value !== 'string' || value.length < MIN_PRESTOP_TOKEN_LENGTH || !/^[A-Za-z0-9\-._~+/]+=*$/.test(value)) {
    // The value itself is never echoed: it is a credential.
    throw new InvalidOptionError(
      'probes.preStopToken',
      typeof value === 'string' ? `a string of ${value.length} character(s)` : value,
      `a token of at least ${MIN_PRESTOP_TOKEN_LENGTH} characters from A-Z a-z 0-9 - . _ ~ + / (such as the output of openssl rand -hex 16), or undefined for no preStop endpoint`,
    );
  }
  return value;
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

function resolveLongLived(value: unknown): ResolvedLongLivedOptions {
  const d = DEFAULTS.longLived;
  if (value === undefined) return { ...d };
  const o = plainObject('longLived', value);
  knownKeys('longLived', o, Object.keys(d));
  const goodbye = o.webSocketGoodbye;
  if (goodbye !== undefined && goodbye !== 'podkit' && goodbye !== 'app') {
    throw new InvalidOptionError('longLived.webSocketGoodbye', goodbye, '"podkit" or "app"');
  }
  const budgetMs = durationMs('longLived.budgetMs', o.budgetMs, d.budgetMs, { min: 1 });
  const closeWindowMs = durationMs('longLived.closeWindowMs', o.closeWindowMs, d.closeWindowMs);
  if (closeWindowMs >= budgetMs) {
    throw new InvalidOptionError('longLived.closeWindowMs', closeWindowMs, `less than longLived.budgetMs (${budgetMs} ms), which bounds the whole step`);
  }
  return {
    closeWindowMs,
    closeTimeoutMs: durationMs('longLived.closeTimeoutMs', o.closeTimeoutMs, d.closeTimeoutMs, { min: 1 }),
    budgetMs,
    webSocketGoodbye: (goodbye as 'podkit' | 'app' | undefined) ?? d.webSocketGoodbye,
    sseRetryMs: o.sseRetryMs === undefined ? undefined : durationMs('longLived.sseRetryMs', o.sseRetryMs, 0),
  };
}

/** Every top-level option name (the options-table test reads it too). */
export const OPTION_NAMES = [
  'probes', 'drainDelayMs', 'shutdownTimeoutMs', 'crashTimeoutMs', 'preStopSleepSeconds', 'signals', 'foreignSignalHandlers', 'handleCrashes', 'openMainPort', 'listenTimeoutMs', 'checks',
  'warmup', 'hooks', 'longLived', 'liveness', 'exitCodes', 'terminationMessagePath', 'terminationGracePeriodSeconds', 'logger', 'exit',
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
  knownKeys('', o, OPTION_NAMES);
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
  const preStop = o.preStopSleepSeconds;
  // Kubernetes takes whole seconds (`preStop: { sleep: { seconds } }`).
  if (preStop !== undefined && (typeof preStop !== 'number' || !Number.isInteger(preStop) || preStop < 0 || preStop > 3600)) {
    throw new InvalidOptionError('preStopSleepSeconds', preStop, "a whole number of seconds from 0 to 3600: the pod's preStop sleep");
  }

  const signals = resolveSignals(o.signals);

  return {
    probes: resolveProbes(o.probes, env),
    drainDelayMs,
    shutdownTimeoutMs,
    crashTimeoutMs: durationMs('crashTimeoutMs', o.crashTimeoutMs, DEFAULTS.crashTimeoutMs, { min: 1 }),
    preStopSleepSeconds: (preStop as number | undefined) ?? DEFAULTS.preStopSleepSeconds,
    signals,
    handleCrashes: bool('handleCrashes', o.handleCrashes, DEFAULTS.handleCrashes),
    foreignSignalHandlers: (fsh as ForeignSignalHandlers | undefined) ?? DEFAULTS.foreignSignalHandlers,
    openMainPort: (o.openMainPort as OpenMainPort | undefined) ?? DEFAULTS.openMainPort,
    listenTimeoutMs: durationMs('listenTimeoutMs', o.listenTimeoutMs, DEFAULTS.listenTimeoutMs, { min: 1 }),
    checks: resolveCheckOptions('checks', o.checks, DEFAULTS.checks),
    warmup: resolveWarmupOptions('warmup', o.warmup, DEFAULTS.warmup),
    hooks: resolveTimeoutOptions('hooks', o.hooks, DEFAULTS.hooks.timeoutMs),
    longLived: resolveLongLived(o.longLived),
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
