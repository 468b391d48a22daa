/**
 * Process wiring in one module: which signals start a shutdown, and what a crash does. Each
 * installer returns an uninstall() that removes every listener it added.
 *
 * A process that is PID 1 in a container gets no default signal handling from the kernel: without
 * a handler SIGTERM is ignored and the pod waits out its grace period for SIGKILL. Installing a
 * handler is therefore not optional in a container.
 */

export type Uninstall = () => void;

export function installSignalHandlers(signals: readonly NodeJS.Signals[], onSignal: (signal: NodeJS.Signals) => void): Uninstall {
  const listeners = signals.map((signal) => {
    const listener = () => onSignal(signal);
    process.on(signal, listener);
    return [signal, listener] as const;
  });
  return () => {
    for (const [signal, listener] of listeners) process.off(signal, listener);
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
