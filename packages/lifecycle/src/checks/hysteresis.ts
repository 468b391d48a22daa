/**
 * Hysteresis, as a pure function: so that readiness does not flap on one slow ping, a passing
 * check fails only after `failureThreshold` failures in a row and a failing one recovers only
 * after `successThreshold` successes in a row. The first result decides a check that never ran.
 */
import type { CheckStatus } from '../verdicts.js';

export interface CheckCounts {
  status: CheckStatus;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
}

export interface Thresholds {
  failureThreshold: number;
  successThreshold: number;
}

/** The counts and status after one run whose outcome is `ok`. */
export function nextCheckCounts(before: CheckCounts, ok: boolean, thresholds: Thresholds): CheckCounts {
  const consecutiveFailures = ok ? 0 : before.consecutiveFailures + 1;
  const consecutiveSuccesses = ok ? before.consecutiveSuccesses + 1 : 0;
  let status = before.status;
  if (status === 'pending') status = ok ? 'ok' : 'failing';
  else if (status === 'ok' && consecutiveFailures >= thresholds.failureThreshold) status = 'failing';
  else if (status === 'failing' && consecutiveSuccesses >= thresholds.successThreshold) status = 'ok';
  return { status, consecutiveFailures, consecutiveSuccesses };
}

/**
 * Slow is degraded: a run that passes but takes longer than `slowThresholdMs` ("connected, but ten
 * times slower") is reported as `warn`. Judged on each run alone, with no hysteresis: it never
 * changes readiness, so there is no flapping to damp, and the report follows the latest duration.
 * A slow pass still counts as a success in `nextCheckCounts`.
 */
export function isSlowPass(ok: boolean, durationMs: number, slowThresholdMs: number | undefined): boolean {
  return ok && slowThresholdMs !== undefined && durationMs > slowThresholdMs;
}
