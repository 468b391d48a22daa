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
  /**
   * A run that passes but takes longer than this is "slow": the check reports `warn` (probe JSON and
   * `?verbose`, `/metrics`, OpenTelemetry) while readiness stays 200; `undefined` judges no run slow,
   * in ms. Each run is judged alone and counts as a success for the thresholds (hysteresis unaffected).
   * @default undefined
   */
  slowThresholdMs?: number | undefined;
}

/** Per-warmup settings. */
export interface WarmupOptions {
  /** The task is aborted and warmup fails (exit 75) past this, in ms. @default 30000 */
  timeoutMs?: number;
  /**
   * `false`: a failure or timeout of this task is logged (redacted) and shown on `/startupz`
   * (`?verbose`, JSON) and `/metrics`, and the service becomes ready without it, instead of exiting 75.
   * @default true
   */
  required?: boolean;
}

/** Per-hook settings. */
export interface HookOptions {
  /** The hook is abandoned (logged) past this and the next one runs, in ms. @default 5000 */
  timeoutMs?: number;
}
