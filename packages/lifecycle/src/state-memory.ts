/**
 * The snapshot's shared memory: where each value lives and how it is loaded and stored with
 * `Atomics`. Only `state.ts` writes through these classes (its `HealthSnapshot` is the one writer);
 * everything else, the probe worker included, reads.
 *
 * Layout (all little-endian on every platform Node runs on; times are integers):
 *
 *   header (104 bytes, one per lifecycle)         check (56 bytes, one per check)
 *   Int32[0]  state (index in LIFECYCLE_STATES)   Int32[0]  status (0 pending, 1 ok, 2 failing)
 *   Int32[1]  warmedUp (0 or 1)                   Int32[1]  consecutive failures
 *   Int32[2]  requests in flight                  Int32[2]  consecutive successes
 *   Int32[3]  (reserved)                          Int32[3]  slow (1: the last run passed, but slowly)
 *   Int64[2]  heartbeat: monotonic ns, 0 = off    Int64[2]  last duration, µs (-1: none yet)
 *   Int64[3]  (reserved)                          Int64[3]  last status change, epoch ms
 *   Int32[8..10]  long-lived connections open,    Int64[4]  last run, epoch ms (-1: none yet)
 *                 by kind (LONG_LIVED_KINDS)      Int64[5]  runs
 *   Int32[11..25] long-lived connections closed   Int64[6]  failed runs
 *                 at shutdown, by kind × outcome
 *                 (LONG_LIVED_OUTCOMES)
 *
 * What never changes (a check's name, whether it is critical, its slow threshold) reaches the worker once, when the
 * check is registered. The last error's kind and message are text, only shown in bodies and only
 * changed when a check fails differently: they travel as messages (see `onText`).
 */
import { LONG_LIVED_KINDS, LONG_LIVED_OUTCOMES, type LongLivedKind, type LongLivedOutcome } from './long-lived/outcomes.js';
import { CHECK_STATUSES, type CheckStatus, type CheckVerdictReader } from './verdicts.js';

export const H_STATE = 0;
export const H_WARMED_UP = 1;
export const H_IN_FLIGHT = 2;
export const H64_HEARTBEAT = 2;
const H_LONG_LIVED_OPEN = 8;
const H_LONG_LIVED_CLOSED = H_LONG_LIVED_OPEN + LONG_LIVED_KINDS.length;
/** The header's Int32 slots, rounded up to whole Int64 ones. */
export const HEADER_BYTES = Math.ceil((4 * (H_LONG_LIVED_CLOSED + LONG_LIVED_KINDS.length * LONG_LIVED_OUTCOMES.length)) / 8) * 8;

/** The header's Int32 slot of the gauge of long-lived connections of `kind` open. */
export function longLivedOpenSlot(kind: LongLivedKind): number {
  return H_LONG_LIVED_OPEN + LONG_LIVED_KINDS.indexOf(kind);
}

/** The header's Int32 slot of the counter of `kind` connections closed with `outcome`. */
export function longLivedClosedSlot(kind: LongLivedKind, outcome: LongLivedOutcome): number {
  return H_LONG_LIVED_CLOSED + LONG_LIVED_KINDS.indexOf(kind) * LONG_LIVED_OUTCOMES.length + LONG_LIVED_OUTCOMES.indexOf(outcome);
}

export const CHECK_BYTES = 56;
const C_STATUS = 0;
const C_CONSECUTIVE_FAILURES = 1;
const C_CONSECUTIVE_SUCCESSES = 2;
const C_SLOW = 3;
const C64_DURATION_US = 2;
const C64_LAST_CHANGE_AT = 3;
const C64_LAST_RUN_AT = 4;
const C64_RUNS = 5;
const C64_FAILURES = 6;
const NONE = -1n;

/** The monotonic clock both threads read (process-wide, unlike `performance.now()`, whose origin is per thread). */
export const monotonicNs = (): bigint => process.hrtime.bigint();

/** The text of a check's last error: sent to the probe worker when it changes. */
export interface CheckText {
  name: string;
  lastErrorKind: string | undefined;
  lastErrorMessage: string | undefined;
}

/** A check as the probe worker first learns of it: its static text and its shared memory. */
export interface CheckRegistration extends CheckText, CheckTraits {
  buffer: SharedArrayBuffer;
}

/** What a check is, fixed at registration. */
export interface CheckTraits {
  critical: boolean;
  slowThresholdMs: number | undefined;
}

/** Every value of a check verdict that changes; what `HealthSnapshot.setCheckVerdict` takes (any subset). */
export interface CheckVerdictFields {
  status: CheckStatus;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  slow: boolean;
  lastDurationMs: number | undefined;
  lastChangeAt: number;
  lastRunAt: number | undefined;
  runs: number;
  failures: number;
  lastErrorKind: string | undefined;
  lastErrorMessage: string | undefined;
}

export class CheckVerdict implements CheckVerdictReader {
  private readonly i32: Int32Array;
  private readonly i64: BigInt64Array;
  private errorKind: string | undefined;
  private errorMessage: string | undefined;
  readonly critical: boolean;
  readonly slowThresholdMs: number | undefined;

  /** Reads (and, for state.ts, writes) a check kept in `buffer`. `onText` hears of each change of the error text. */
  constructor(
    readonly name: string,
    traits: CheckTraits,
    readonly buffer: SharedArrayBuffer,
    private readonly onText?: (text: CheckText) => void,
  ) {
    this.critical = traits.critical;
    this.slowThresholdMs = traits.slowThresholdMs;
    this.i32 = new Int32Array(buffer, 0, 4);
    this.i64 = new BigInt64Array(buffer, 0, CHECK_BYTES / 8);
  }

  get status(): CheckStatus {
    return CHECK_STATUSES[Atomics.load(this.i32, C_STATUS)] ?? 'pending';
  }
  get consecutiveFailures(): number {
    return Atomics.load(this.i32, C_CONSECUTIVE_FAILURES);
  }
  get consecutiveSuccesses(): number {
    return Atomics.load(this.i32, C_CONSECUTIVE_SUCCESSES);
  }
  get slow(): boolean {
    return Atomics.load(this.i32, C_SLOW) === 1;
  }
  get lastDurationMs(): number | undefined {
    const us = Atomics.load(this.i64, C64_DURATION_US);
    return us === NONE ? undefined : Number(us) / 1000;
  }
  get lastChangeAt(): number {
    return Number(Atomics.load(this.i64, C64_LAST_CHANGE_AT));
  }
  get lastRunAt(): number | undefined {
    const at = Atomics.load(this.i64, C64_LAST_RUN_AT);
    return at === NONE ? undefined : Number(at);
  }
  get runs(): number {
    return Number(Atomics.load(this.i64, C64_RUNS));
  }
  get failures(): number {
    return Number(Atomics.load(this.i64, C64_FAILURES));
  }
  get lastErrorKind(): string | undefined {
    return this.errorKind;
  }
  get lastErrorMessage(): string | undefined {
    return this.errorMessage;
  }

  /** Stores the given fields (state.ts only); a change of error text is sent on once. */
  write(fields: Partial<CheckVerdictFields>): void {
    const f = fields;
    if (f.status !== undefined) Atomics.store(this.i32, C_STATUS, CHECK_STATUSES.indexOf(f.status));
    if (f.consecutiveFailures !== undefined) Atomics.store(this.i32, C_CONSECUTIVE_FAILURES, f.consecutiveFailures);
    if (f.consecutiveSuccesses !== undefined) Atomics.store(this.i32, C_CONSECUTIVE_SUCCESSES, f.consecutiveSuccesses);
    if (f.slow !== undefined) Atomics.store(this.i32, C_SLOW, f.slow ? 1 : 0);
    // Kept to the microsecond (what the check runner rounds to), so both threads print the same number.
    if ('lastDurationMs' in f) Atomics.store(this.i64, C64_DURATION_US, f.lastDurationMs === undefined ? NONE : BigInt(Math.round(f.lastDurationMs * 1000)));
    if (f.lastChangeAt !== undefined) Atomics.store(this.i64, C64_LAST_CHANGE_AT, BigInt(Math.round(f.lastChangeAt)));
    if ('lastRunAt' in f) Atomics.store(this.i64, C64_LAST_RUN_AT, f.lastRunAt === undefined ? NONE : BigInt(Math.round(f.lastRunAt)));
    if (f.runs !== undefined) Atomics.store(this.i64, C64_RUNS, BigInt(f.runs));
    if (f.failures !== undefined) Atomics.store(this.i64, C64_FAILURES, BigInt(f.failures));
    const kind = 'lastErrorKind' in f ? f.lastErrorKind : this.errorKind;
    const message = 'lastErrorMessage' in f ? f.lastErrorMessage : this.errorMessage;
    if (kind !== this.errorKind || message !== this.errorMessage) {
      this.errorKind = kind;
      this.errorMessage = message;
      this.onText?.(this.text());
    }
  }

  /** Takes the text the main thread sent (probe worker side): no notification goes back. */
  receiveText(text: CheckText): void {
    this.errorKind = text.lastErrorKind;
    this.errorMessage = text.lastErrorMessage;
  }

  registration(): CheckRegistration {
    return { ...this.text(), critical: this.critical, slowThresholdMs: this.slowThresholdMs, buffer: this.buffer };
  }

  private text(): CheckText {
    return { name: this.name, lastErrorKind: this.errorKind, lastErrorMessage: this.errorMessage };
  }
}
