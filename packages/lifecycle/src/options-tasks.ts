/**
 * Options of the named tasks: checks, warmups and shutdown hooks (defaults for every one in
 * `createLifecycle()`'s options, and per task at registration).
 */

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
