/**
 * How the shutdown sequence leaves, decided as pure functions: what the pod is dying of (the
 * failure), and the exit kind and reason for each way the sequence can end. shutdown.ts applies
 * them; they hold no state, so they are tested from source without a process.
 *
 * The exit code says what happened, in the order it happened (README, Exit codes; DESIGN.md's
 * table): 70 is a crash "after a best-effort fast drain", 75 a start-up that failed. The first
 * failure decides the code, and whatever goes wrong after it is added to the reason:
 * - A crash during a graceful shutdown turns its 0 into 70: the pod was not failing until then,
 *   and a clean code would hide the crash.
 * - A crash during a failed start's fast drain keeps 75. The start had failed already (a warmup, a
 *   listener, `listenTimeoutMs`) and the fast drain is that failure's; what throws while a
 *   half-warm service is torn down (a client closed under a pending call) is most often a
 *   consequence, and 70 would send the operator to a bug when the cause is the dependency the
 *   warmup could not reach. The crash is in the reason ("…; then: uncaughtException: …"), and the
 *   fast drain is bounded by `crashTimeoutMs` already.
 * - A failed start during a crash's fast drain (a warmup aborted by it) keeps 70, for the same
 *   reason: the crash came first.
 * - A signal never replaces 70 or 75: it says the pod died sooner, not why (see onSignal in
 *   shutdown.ts).
 */
import type { ExitKind } from './exit.js';

/** Why the pod is failing, once it is. */
export interface Failure {
  readonly kind: 'crash' | 'warmupFailed';
  readonly reason: string;
}

/** How the sequence ended. */
export type Ending =
  /** Every step done; `reason` is what began the shutdown. */
  | { readonly by: 'done'; readonly reason: string }
  /** A deadline cut `cut` connections: `what` (the shutdown, the fast shutdown) exceeded `ms`. */
  | { readonly by: 'deadline'; readonly what: string; readonly ms: number; readonly cut: number }
  /** A second signal forced the exit. */
  | { readonly by: 'second-signal'; readonly signal: NodeJS.Signals }
  /** The sequence itself threw (it should not: every step catches its own errors). */
  | { readonly by: 'error'; readonly error: string };

export interface ExitDecision {
  readonly kind: ExitKind;
  readonly reason: string;
  /** The signal a forced exit adds to `forcedBase`. */
  readonly signal?: NodeJS.Signals;
}

/** The failure once a shutdown of `cause` begins: a graceful one adds none, a failing one is the first unless there is one. */
export function failureOnBegin(failure: Failure | undefined, cause: 'stop' | Failure['kind'], reason: string): Failure | undefined {
  if (failure || cause === 'stop') return failure;
  return { kind: cause, reason };
}

/** The failure once a crash (`crash`: its origin and message) happens. */
export function failureAfterCrash(failure: Failure | undefined, crash: string): Failure {
  if (!failure) return { kind: 'crash', reason: crash };
  // A second crash during a crash's fast drain is logged, not added: the first one says it.
  if (failure.kind === 'crash') return failure;
  return { kind: failure.kind, reason: `${failure.reason}; then: ${crash}` };
}

/** The exit kind and reason for the way the sequence ended, given the failure (if any). */
export function exitFor(failure: Failure | undefined, ending: Ending): ExitDecision {
  switch (ending.by) {
    case 'done':
      return failure ? { kind: failure.kind, reason: failure.reason } : { kind: 'clean', reason: ending.reason };
    case 'deadline': {
      const what = `${ending.what} exceeded ${ending.ms} ms; ${ending.cut} connection(s) cut`;
      return failure ? { kind: failure.kind, reason: `${failure.reason}; ${what}` } : { kind: 'shutdownTimeout', reason: what };
    }
    case 'second-signal':
      return failure
        ? { kind: failure.kind, reason: `${failure.reason}; exit forced by a second signal (${ending.signal})` }
        : { kind: 'forced', reason: `second ${ending.signal} during shutdown`, signal: ending.signal };
    case 'error':
      return failure ? { kind: failure.kind, reason: `${failure.reason}; then: ${ending.error}` } : { kind: 'crash', reason: `shutdown failed: ${ending.error}` };
  }
}
