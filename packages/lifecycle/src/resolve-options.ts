/**
 * resolveOptions(): validates every option up front, names what is wrong, and fills in DEFAULTS.
 * The groups (probes, checks, long-lived…) are resolved in resolve-option-groups.ts, signals and
 * exit codes in resolve-signals.ts.
 */
import { DEFAULTS } from './defaults.js';
import { InvalidOptionError } from './errors.js';
import { exitProcess } from './exit.js';
import { createJsonLogger, redactingLogger, silentLogger, type Logger } from './logger.js';
import type { ExitFunction, ForeignSignalHandlers, LifecycleOptions, OpenMainPort } from './options.js';
import type { ResolvedOptions } from './options-resolved.js';
import { resolveCheckOptions, resolveLiveness, resolveLongLived, resolveProbes, resolveTimeoutOptions, resolveWarmupOptions } from './resolve-option-groups.js';
import { resolveExitCodes, resolveSignals } from './resolve-signals.js';
import { bool, durationMs, knownKeys, plainObject } from './validate.js';

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
