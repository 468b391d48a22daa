/**
 * `retry()`: wraps a task (a warmup, most often) with exponential backoff that stops when its
 * signal aborts. Warmups themselves run through steps.ts (one after another, each with a timeout
 * and an AbortSignal); retrying is the task's choice.
 */
import { InvalidOptionError } from './errors.js';
import { durationMs, knownKeys, plainObject, positiveInteger } from './validate.js';
import { sleep, type AbortableTask } from './timeout.js';

export type WarmupFunction = AbortableTask<unknown>;

export interface RetryOptions {
  /** Attempts in all, the first included. @default 5 */
  attempts?: number;
  /** Wait before the second attempt, in ms. @default 200 */
  initialDelayMs?: number;
  /** Ceiling for the wait between attempts, in ms. @default 5000 */
  maxDelayMs?: number;
  /** Each wait is the previous one times this. @default 2 */
  factor?: number;
  /** Called before each wait, e.g. to log the failure. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

export const RETRY_DEFAULTS = { attempts: 5, initialDelayMs: 200, maxDelayMs: 5000, factor: 2 } as const;

/**
 * Wraps a task so it is tried up to `attempts` times with exponential backoff. Stops at once when
 * the signal aborts (warmup timeout or shutdown); the last error is the one that surfaces.
 */
export function retry<T>(task: AbortableTask<T>, options: RetryOptions = {}): (signal: AbortSignal) => Promise<T> {
  if (typeof task !== 'function') throw new InvalidOptionError('retry(task)', task, 'a function (signal) => value or promise');
  knownKeys('retry', plainObject('retry', options), ['attempts', 'initialDelayMs', 'maxDelayMs', 'factor', 'onRetry']);
  const attempts = positiveInteger('retry.attempts', options.attempts, RETRY_DEFAULTS.attempts, 10_000);
  const initialDelayMs = durationMs('retry.initialDelayMs', options.initialDelayMs, RETRY_DEFAULTS.initialDelayMs);
  const maxDelayMs = durationMs('retry.maxDelayMs', options.maxDelayMs, RETRY_DEFAULTS.maxDelayMs);
  const factor = options.factor ?? RETRY_DEFAULTS.factor;
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 1) throw new InvalidOptionError('retry.factor', factor, 'a number from 1');
  if (options.onRetry !== undefined && typeof options.onRetry !== 'function') throw new InvalidOptionError('retry.onRetry', options.onRetry, 'a function');

  return async (signal: AbortSignal) => {
    // maxDelayMs is a ceiling for every wait, the first one included.
    let delayMs = Math.min(initialDelayMs, maxDelayMs);
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await task(signal);
      } catch (error) {
        if (attempt >= attempts || signal.aborted) throw error;
        options.onRetry?.(error, attempt, delayMs);
        await sleep(delayMs, signal);
        delayMs = Math.min(maxDelayMs, delayMs * factor);
      }
    }
  };
}
