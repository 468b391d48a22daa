/**
 * States, transitions and the three verdicts (alive, ready, started), decided here once for every
 * reader: the in-thread snapshot, the probe worker's view of the same memory and the adapters.
 * Pure: no memory, no clock, no I/O.
 */
import type { LongLivedKind, LongLivedOutcome } from './long-lived/outcomes.js';

export type LifecycleState = 'starting' | 'warming' | 'ready' | 'draining' | 'stopping' | 'stopped' | 'failed';

export const LIFECYCLE_STATES: readonly LifecycleState[] = ['starting', 'warming', 'ready', 'draining', 'stopping', 'stopped', 'failed'];

/** Allowed moves. A signal can arrive in any state before `stopping`, so `draining` is reachable from all of them. */
const TRANSITIONS: Record<LifecycleState, readonly LifecycleState[]> = {
  starting: ['warming', 'draining', 'failed'],
  warming: ['ready', 'draining', 'failed'],
  ready: ['draining', 'failed'],
  draining: ['stopping', 'failed'],
  stopping: ['stopped', 'failed'],
  stopped: [],
  failed: [],
};

export function canTransition(from: LifecycleState, to: LifecycleState): boolean {
  return TRANSITIONS[from].includes(to);
}

export type CheckStatus = 'pending' | 'ok' | 'failing';

export const CHECK_STATUSES: readonly CheckStatus[] = ['pending', 'ok', 'failing'];

/** What a probe may read about one check. Error text is kept twice: a safe kind, and a message with credentials stripped. */
export interface CheckVerdictReader {
  readonly name: string;
  readonly critical: boolean;
  /** Runs that pass slower than this are "slow" (`warn`), in ms; undefined: none is. */
  readonly slowThresholdMs: number | undefined;
  readonly status: CheckStatus;
  /** The last run passed, but took longer than `slowThresholdMs`. Never changes readiness. */
  readonly slow: boolean;
  readonly consecutiveFailures: number;
  readonly consecutiveSuccesses: number;
  /** Duration of the last finished run, in ms (microsecond precision). */
  readonly lastDurationMs: number | undefined;
  /** When the status last changed (epoch ms). */
  readonly lastChangeAt: number;
  /** When the last run finished (epoch ms). */
  readonly lastRunAt: number | undefined;
  /** A short, secret-free description of the last failure (`ECONNREFUSED`, `timeout`). */
  readonly lastErrorKind: string | undefined;
  /** The last failure's message, credentials stripped. Shown in probes only with `probes.exposeErrors`. */
  readonly lastErrorMessage: string | undefined;
  readonly runs: number;
  readonly failures: number;
}

/**
 * What the probe answers read: the in-thread snapshot and the probe worker's view of the same
 * shared memory both implement it, and the probe answers see nothing else.
 */
export interface SnapshotReader {
  readonly state: LifecycleState;
  /** True once every warmup task has finished (startup probe). */
  readonly warmedUp: boolean;
  /** True when the main loop's heartbeat is older than `liveness.heartbeatTimeoutMs`. */
  readonly eventLoopStalled: boolean;
  /** Age of the main loop's last heartbeat in ms, or undefined while no heartbeat runs. */
  readonly heartbeatAgeMs: number | undefined;
  readonly heartbeatTimeoutMs: number;
  /** Requests in flight on the main server. */
  readonly inFlight: number;
  readonly checks: ReadonlyMap<string, CheckVerdictReader>;
  /** Long-lived connections of `kind` open, as last sampled. */
  longLivedOpen(kind: LongLivedKind): number;
  /** Long-lived connections of `kind` closed at shutdown with `outcome`. */
  longLivedClosed(kind: LongLivedKind, outcome: LongLivedOutcome): number;
  /** Optional warmups (`required: false`) that failed or timed out; the service became ready without them. */
  readonly optionalWarmupFailures: readonly OptionalWarmupFailure[];
}

/** An optional warmup that failed: its name, a safe kind (`timeout`, `ECONNREFUSED`) and its message, credentials stripped. */
export interface OptionalWarmupFailure {
  readonly name: string;
  readonly kind: string;
  readonly message: string;
}

/**
 * A check's status in the health+json vocabulary, decided here once for the probe bodies,
 * `/metrics` and OpenTelemetry: `warn` is healthy with concerns (a pass slower than
 * `slowThresholdMs`, or a non-critical check failing); neither fails readiness.
 */
export type CheckHealth = 'pass' | 'warn' | 'fail' | 'pending';

export const CHECK_HEALTHS: readonly CheckHealth[] = ['pass', 'warn', 'fail', 'pending'];

export function checkHealth(check: { status: CheckStatus; critical: boolean; slow: boolean }): CheckHealth {
  if (check.status === 'pending') return 'pending';
  if (check.status === 'failing') return check.critical ? 'fail' : 'warn';
  return check.slow ? 'warn' : 'pass';
}

// --- the verdicts: decided here, once, for every reader -----------------------------------------

/**
 * Alive unless the process hit a fatal error or its main loop stopped turning: a loop that is
 * merely busy still beats, so it stays alive; a wedged one (an endless loop, a stuck synchronous
 * call) does not, and the kubelet restarts it.
 */
export function isAlive(snapshot: SnapshotReader): boolean {
  return snapshot.state !== 'failed' && !snapshot.eventLoopStalled;
}

/**
 * Ready when the state is `ready`, the main loop is turning and every critical check not excluded
 * passes. A wedged loop serves nobody: requests routed to it would only queue, so readiness fails
 * with liveness and the pod leaves the endpoints until its loop beats again.
 */
export function isReady(snapshot: SnapshotReader, exclude?: ReadonlySet<string>): boolean {
  if (snapshot.state !== 'ready' || snapshot.eventLoopStalled) return false;
  for (const check of snapshot.checks.values()) {
    if (check.critical && check.status !== 'ok' && !exclude?.has(check.name)) return false;
  }
  return true;
}

export function isStarted(snapshot: SnapshotReader): boolean {
  return snapshot.warmedUp && snapshot.state !== 'failed';
}

