import { TimeoutError } from './errors.js';

export type AbortableTask<T = unknown> = (signal: AbortSignal) => T | Promise<T>;

/**
 * Runs `task` with an AbortSignal that aborts (reason: TimeoutError) after `timeoutMs`, and settles
 * at the timeout even when the task ignores its signal: a hung dependency can never hang the caller.
 * `keepAlive: false` unrefs the timer, for background work that must not hold the process open.
 */
export async function runWithTimeout<T>(
  what: string,
  timeoutMs: number,
  task: AbortableTask<T>,
  { keepAlive = true, signal: parent }: { keepAlive?: boolean; signal?: AbortSignal } = {},
): Promise<T> {
  // Aborted before it began (shutdown during warmup): do not start the task at all.
  if (parent?.aborted) throw parent.reason;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new TimeoutError(what, timeoutMs)), timeoutMs);
  if (!keepAlive) timer.unref();
  const onParentAbort = () => controller.abort(parent?.reason);
  parent?.addEventListener('abort', onParentAbort, { once: true });
  try {
    // The task's own signal is the one that settles the race, so the caller and the task see the
    // same reason (TimeoutError, or the parent's).
    return await abortable(Promise.resolve().then(() => task(controller.signal)), controller.signal);
  } finally {
    clearTimeout(timer);
    parent?.removeEventListener('abort', onParentAbort);
  }
}

/** A sleep that ends early (rejecting with the signal's reason) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Settles with `promise`, or rejects with the signal's reason as soon as it aborts. For clients
 * that cannot take an operation back (an ioredis command, a pg query or queued connect): the
 * promise runs on and its outcome is still observed, so a late rejection is never unhandled.
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => (signal.removeEventListener('abort', onAbort), resolve(value)),
      (error: unknown) => (signal.removeEventListener('abort', onAbort), reject(error)),
    );
  });
}
