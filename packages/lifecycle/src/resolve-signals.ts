/**
 * Resolving `signals` and `exitCodes`, which hold each other in check: a forced exit reports
 * `forcedBase` + the signal's number.
 */
import { constants as osConstants } from 'node:os';
import { DEFAULTS } from './defaults.js';
import { InvalidOptionError } from './errors.js';
import type { ExitCodes } from './options-shutdown.js';
import { exitCode, knownKeys, MAX_EXIT_CODE, plainObject } from './validate.js';

/**
 * Signals that cannot start a shutdown: SIGKILL and SIGSTOP cannot be caught at all, and Node runs
 * no JavaScript safely after a real SIGSEGV, SIGBUS, SIGFPE or SIGILL (the process is broken, not
 * asked to leave). https://nodejs.org/api/process.html#signal-events
 */
const UNUSABLE_SIGNALS: ReadonlySet<string> = new Set(['SIGKILL', 'SIGSTOP', 'SIGSEGV', 'SIGBUS', 'SIGFPE', 'SIGILL']);

export function resolveSignals(value: unknown): NodeJS.Signals[] | false {
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

export function resolveExitCodes(value: unknown, signals: readonly NodeJS.Signals[] | false): ExitCodes {
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
