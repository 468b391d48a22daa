/**
 * Process wiring in one module: which signals start a shutdown, and what a crash does. Each
 * installer returns an uninstall() that removes every listener it added.
 *
 * A process that is PID 1 in a container gets no default signal handling from the kernel: without
 * a handler SIGTERM is ignored and the pod waits out its grace period for SIGKILL. Installing a
 * handler is therefore not optional in a container.
 *
 * Listeners for the same signals that something else added (OpenTelemetry's SDK shutdown, say) are
 * found here too, and with `foreignSignalHandlers: 'defer'` taken away and run after the hooks.
 */
import type { Logger } from './logger.js';
import type { ForeignSignalHandlers } from './options.js';
import { errorMessage } from './redact.js';
import { runWithTimeout } from './timeout.js';

export type Uninstall = () => void;

/** The signal listeners podkit added, so that foreign ones can be told from them (another lifecycle's included). */
const ownListeners = new WeakSet<(...args: never[]) => unknown>();

export function installSignalHandlers(signals: readonly NodeJS.Signals[], onSignal: (signal: NodeJS.Signals) => void): Uninstall {
  const listeners = signals.map((signal) => {
    const listener = () => onSignal(signal);
    ownListeners.add(listener);
    process.on(signal, listener);
    return [signal, listener] as const;
  });
  return () => {
    for (const [signal, listener] of listeners) process.off(signal, listener);
  };
}

/** A listener someone else added for one of podkit's signals. */
export interface ForeignListener {
  signal: NodeJS.Signals;
  listener: (signal: NodeJS.Signals) => unknown;
}

/** The listeners for `signals` that podkit did not add, left in place. */
export function findForeignListeners(signals: readonly NodeJS.Signals[]): ForeignListener[] {
  return signals.flatMap((signal) =>
    (process.listeners(signal) as ForeignListener['listener'][]).filter((listener) => !ownListeners.has(listener)).map((listener) => ({ signal, listener })),
  );
}

/**
 * Removes the listeners for `signals` that podkit did not add and returns them, with an uninstall()
 * that puts back the ones still missing. Call it after installSignalHandlers(): with podkit's own
 * listener already there the signal never goes without a handler, not even for a moment (a signal
 * with no listener left gets Node's default action again, and SIGTERM would kill the process).
 *
 * Why take them: OpenTelemetry's auto-instrumentation (and many hand-written setups) register a
 * SIGTERM listener that shuts the SDK down. Left in place it runs in the tick SIGTERM arrives, at
 * the start of the drain, and the spans of every request served during the drain are dropped.
 */
export function takeForeignListeners(signals: readonly NodeJS.Signals[]): { taken: ForeignListener[]; restore: Uninstall } {
  const taken = findForeignListeners(signals);
  for (const { signal, listener } of taken) process.off(signal, listener);
  return {
    taken,
    restore: () => {
      for (const { signal, listener } of taken) if (!process.listeners(signal).includes(listener)) process.on(signal, listener);
    },
  };
}

/**
 * Calls the taken listeners of `signal` as Node would have (with the signal's name) and waits for
 * the promises they return (`sdk.shutdown()` flushes asynchronously), each for at most `timeoutMs`.
 * Never throws: a failing or hanging listener is reported to `onError` and the others still run.
 */
export async function runForeignListeners(
  taken: readonly ForeignListener[],
  signal: NodeJS.Signals,
  timeoutMs: number,
  onError: (error: unknown) => void,
): Promise<void> {
  await Promise.all(
    taken
      .filter((t) => t.signal === signal)
      .map(({ listener }) => runWithTimeout(`a foreign ${signal} listener`, timeoutMs, () => listener(signal)).catch(onError)),
  );
}

/**
 * What start() does about foreign listeners (`foreignSignalHandlers`), in one place: `'warn'` logs
 * one line and leaves them, `'defer'` takes them for `run()` to call after the shutdown hooks,
 * `'leave'` does nothing. A listener added after start() is not seen.
 */
export function handleForeignListeners(
  signals: readonly NodeJS.Signals[],
  mode: ForeignSignalHandlers,
  logger: Logger,
): { run: (signal: NodeJS.Signals, timeoutMs: number) => Promise<void>; restore: Uninstall } {
  const none = { run: () => Promise.resolve(), restore: () => {} };
  if (mode === 'leave') return none;
  const found = mode === 'defer' ? takeForeignListeners(signals) : { taken: findForeignListeners(signals), restore: () => {} };
  const count = found.taken.length;
  if (count === 0) return none;
  const fields = { event: 'config', foreignSignalHandlers: mode, listeners: count, signals: [...new Set(found.taken.map((t) => t.signal))] };
  if (mode === 'warn') {
    logger.warn(
      fields,
      `${count} ${fields.signals.join('/')} listener(s) that podkit did not add will run when the signal arrives, at the start of the drain (OpenTelemetry's auto-instrumentation adds one that shuts its SDK down, losing the telemetry of requests served during the drain): set foreignSignalHandlers: 'defer' to run them after the shutdown hooks, or 'leave' to keep them as they are without this warning`,
    );
    return none;
  }
  logger.info(fields, `${count} ${fields.signals.join('/')} listener(s) that podkit did not add will run after the shutdown hooks, before the exit (foreignSignalHandlers: 'defer')`);
  return {
    run: (signal, timeoutMs) =>
      runForeignListeners(found.taken, signal, timeoutMs, (error) =>
        logger.error({ event: 'foreign-listener', signal, error: errorMessage(error) }, `a foreign ${signal} listener failed`),
      ),
    restore: found.restore,
  };
}

export type CrashOrigin = 'uncaughtException' | 'unhandledRejection';

export function installCrashHandlers(onCrash: (error: unknown, origin: CrashOrigin) => void): Uninstall {
  const onException = (error: unknown) => onCrash(error, 'uncaughtException');
  const onRejection = (reason: unknown) => onCrash(reason, 'unhandledRejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
