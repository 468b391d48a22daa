/**
 * The one source of truth the probes read: the lifecycle state and each check's verdict. A small
 * snapshot with a single writer (the lifecycle and its check runners), so that it can later move
 * into a SharedArrayBuffer read by a probe worker thread without changing who writes what.
 */

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

/** What a probe may say about one check. Error text is kept twice: a safe kind, and a message with credentials stripped. */
export interface CheckVerdict {
  readonly name: string;
  readonly critical: boolean;
  status: CheckStatus;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  /** Duration of the last finished run, in ms. */
  lastDurationMs: number | undefined;
  /** When the status last changed (epoch ms). */
  lastChangeAt: number;
  /** When the last run finished (epoch ms). */
  lastRunAt: number | undefined;
  /** A short, secret-free description of the last failure (`ECONNREFUSED`, `timeout`). */
  lastErrorKind: string | undefined;
  /** The last failure's message, credentials stripped. Shown in probes only with `probes.exposeErrors`. */
  lastErrorMessage: string | undefined;
  runs: number;
  failures: number;
}

export class HealthSnapshot {
  state: LifecycleState = 'starting';
  /** True once every warmup task has finished (startup probe). */
  warmedUp = false;
  /** Set when the event-loop monitor has seen the loop blocked for its whole window. */
  eventLoopStalled = false;
  /** Requests in flight on the main server. */
  inFlight = 0;
  readonly checks = new Map<string, CheckVerdict>();
  readonly startedAt = Date.now();

  addCheck(name: string, critical: boolean): CheckVerdict {
    const verdict: CheckVerdict = {
      name,
      critical,
      status: 'pending',
      consecutiveFailures: 0,
      consecutiveSuccesses: 0,
      lastDurationMs: undefined,
      lastChangeAt: Date.now(),
      lastRunAt: undefined,
      lastErrorKind: undefined,
      lastErrorMessage: undefined,
      runs: 0,
      failures: 0,
    };
    this.checks.set(name, verdict);
    return verdict;
  }

  /** Alive unless the process hit a fatal error or its event loop has been stalled for the configured window. */
  isAlive(): boolean {
    return this.state !== 'failed' && !this.eventLoopStalled;
  }

  /** Ready when the state is `ready` and every critical check not excluded passes. */
  isReady(exclude?: ReadonlySet<string>): boolean {
    if (this.state !== 'ready') return false;
    for (const check of this.checks.values()) {
      if (check.critical && check.status !== 'ok' && !exclude?.has(check.name)) return false;
    }
    return true;
  }

  isStarted(): boolean {
    return this.warmedUp && this.state !== 'failed';
  }
}
