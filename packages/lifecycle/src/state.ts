/**
 * The one source of truth the probes read, and its ONE writer: `HealthSnapshot`. The lifecycle's
 * state, each check's verdict, the in-flight count and the main loop's heartbeat change only
 * through its methods (`transition`, `markWarmedUp`, `addInFlight`, `setInFlight`, `beat`, `setCheckVerdict`,
 * `recordOptionalWarmupFailure`);
 * the check runner, the drain, the heartbeat and the sequences all go through them.
 *
 * Every value readiness, liveness or startup depends on lives in SharedArrayBuffers written with
 * `Atomics` (layout: state-memory.ts), so that the probe listener can answer from a worker thread
 * without ever asking the main loop: a SIGTERM's readiness 503 is one `Atomics.store` in the tick
 * the signal arrives, and a wedged main loop cannot delay an answer.
 */
import {
  CHECK_BYTES,
  CheckVerdict,
  H64_HEARTBEAT,
  H_IN_FLIGHT,
  H_STATE,
  H_WARMED_UP,
  HEADER_BYTES,
  longLivedClosedSlot,
  longLivedOpenSlot,
  monotonicNs,
  type CheckRegistration,
  type CheckText,
  type CheckVerdictFields,
} from './state-memory.js';
import { LONG_LIVED_KINDS, type LongLivedCounts, type LongLivedKind, type LongLivedOutcome } from './long-lived/outcomes.js';
import {
  canTransition,
  isAlive,
  isReady,
  isStarted,
  LIFECYCLE_STATES,
  type CheckVerdictReader,
  type LifecycleState,
  type OptionalWarmupFailure,
  type SnapshotReader,
} from './verdicts.js';

export { canTransition, CHECK_HEALTHS, CHECK_STATUSES, checkHealth, isAlive, isReady, isStarted, LIFECYCLE_STATES } from './verdicts.js';
export type { CheckHealth, CheckStatus, CheckVerdictReader, LifecycleState, OptionalWarmupFailure, SnapshotReader } from './verdicts.js';
export { CHECK_BYTES, monotonicNs } from './state-memory.js';
export type { CheckRegistration, CheckText, CheckVerdictFields } from './state-memory.js';

/** Liveness settings the snapshot judges the heartbeat by. */
export interface SnapshotLiveness {
  heartbeatTimeoutMs: number;
}

/**
 * A message for the probe worker: a check was registered, a check's error text changed, or an
 * optional warmup failed (warmups run after the probe listener is up, so it hears of every one).
 */
export type SnapshotMessage =
  | { type: 'check'; check: CheckRegistration }
  | { type: 'text'; text: CheckText }
  | { type: 'warmup'; failure: OptionalWarmupFailure };

export class HealthSnapshot implements SnapshotReader {
  private readonly verdicts = new Map<string, CheckVerdict>();
  private readonly warmupFailures: OptionalWarmupFailure[] = [];
  readonly startedAt = Date.now();
  readonly heartbeatTimeoutMs: number;
  private readonly i32: Int32Array;
  private readonly i64: BigInt64Array;
  private readonly subscribers = new Set<(message: SnapshotMessage) => void>();

  /**
   * A fresh snapshot (`starting`, nothing in flight, no heartbeat: all zeros), or, given the
   * `buffer` of another thread's snapshot, a view of that one.
   */
  constructor(liveness: SnapshotLiveness, readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(HEADER_BYTES)) {
    this.heartbeatTimeoutMs = liveness.heartbeatTimeoutMs;
    this.i32 = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.i64 = new BigInt64Array(buffer, 0, HEADER_BYTES / 8);
  }

  get checks(): ReadonlyMap<string, CheckVerdictReader> {
    return this.verdicts;
  }

  get optionalWarmupFailures(): readonly OptionalWarmupFailure[] {
    return this.warmupFailures;
  }

  get state(): LifecycleState {
    return LIFECYCLE_STATES[Atomics.load(this.i32, H_STATE)] ?? 'failed';
  }

  get warmedUp(): boolean {
    return Atomics.load(this.i32, H_WARMED_UP) === 1;
  }

  get inFlight(): number {
    return Atomics.load(this.i32, H_IN_FLIGHT);
  }

  longLivedOpen(kind: LongLivedKind): number {
    return Atomics.load(this.i32, longLivedOpenSlot(kind));
  }

  longLivedClosed(kind: LongLivedKind, outcome: LongLivedOutcome): number {
    return Atomics.load(this.i32, longLivedClosedSlot(kind, outcome));
  }

  get heartbeatAgeMs(): number | undefined {
    const last = Atomics.load(this.i64, H64_HEARTBEAT);
    if (last === 0n) return undefined;
    return Number(monotonicNs() - last) / 1e6;
  }

  get eventLoopStalled(): boolean {
    const age = this.heartbeatAgeMs;
    return age !== undefined && age > this.heartbeatTimeoutMs;
  }

  // --- the writer ----------------------------------------------------------------------------------

  /** Moves to `to` when the state machine allows it (one store, in this tick); false when it does not. */
  transition(to: LifecycleState): boolean {
    if (!canTransition(this.state, to)) return false;
    Atomics.store(this.i32, H_STATE, LIFECYCLE_STATES.indexOf(to));
    return true;
  }

  /** Every warmup task finished: the startup probe passes from now on. */
  markWarmedUp(): void {
    Atomics.store(this.i32, H_WARMED_UP, 1);
  }

  /** Counts `delta` requests in (positive) or out (negative) of flight. */
  addInFlight(delta: number): void {
    Atomics.add(this.i32, H_IN_FLIGHT, delta);
  }

  /** Sets the in-flight count outright: a sample of the connections while ready, or 0 when the drain starts counting. */
  setInFlight(count: number): void {
    Atomics.store(this.i32, H_IN_FLIGHT, count);
  }

  /** Sets how many long-lived connections of each kind are open (a sample of the main server's connections). */
  setLongLivedOpen(counts: LongLivedCounts): void {
    for (const kind of LONG_LIVED_KINDS) Atomics.store(this.i32, longLivedOpenSlot(kind), counts[kind]);
  }

  /** Counts one long-lived connection closed at shutdown, by how it was closed. */
  countLongLivedClosed(kind: LongLivedKind, outcome: LongLivedOutcome): void {
    Atomics.add(this.i32, longLivedClosedSlot(kind, outcome), 1);
  }

  /** Records that the main loop turned (`now`), or, with 0, that no heartbeat runs (nothing to judge). */
  beat(now: bigint = monotonicNs()): void {
    Atomics.store(this.i64, H64_HEARTBEAT, now);
  }

  /** An optional warmup failed (its message already redacted): shown on /startupz and /metrics. */
  recordOptionalWarmupFailure(name: string, kind: string, message: string): void {
    const failure = { name, kind, message };
    this.warmupFailures.push(failure);
    this.publish({ type: 'warmup', failure });
  }

  /** Registers a check: pending, never run, changed now. */
  addCheck(name: string, critical: boolean, slowThresholdMs?: number): CheckVerdictReader {
    const traits = { critical, slowThresholdMs };
    const verdict = new CheckVerdict(name, traits, new SharedArrayBuffer(CHECK_BYTES), (text) => this.publish({ type: 'text', text }));
    verdict.write({ lastChangeAt: Date.now(), lastDurationMs: undefined, lastRunAt: undefined });
    this.verdicts.set(name, verdict);
    this.publish({ type: 'check', check: verdict.registration() });
    return verdict;
  }

  /** Stores the given fields of a check's verdict (the check runner decides them: checks/). */
  setCheckVerdict(name: string, fields: Partial<CheckVerdictFields>): void {
    this.verdicts.get(name)?.write(fields);
  }

  // --- the probe worker's side ---------------------------------------------------------------------

  /** Probe worker side: takes a check the main thread registered. */
  adoptCheck(registration: CheckRegistration): void {
    const verdict = new CheckVerdict(registration.name, registration, registration.buffer);
    verdict.receiveText(registration);
    this.verdicts.set(registration.name, verdict);
  }

  /** Probe worker side: applies one message from the main thread. */
  receive(message: SnapshotMessage): void {
    if (message.type === 'check') this.adoptCheck(message.check);
    else if (message.type === 'warmup') this.warmupFailures.push(message.failure);
    else this.verdicts.get(message.text.name)?.receiveText(message.text);
  }

  /**
   * Every check registered so far, and from now on each new check and each change of error text,
   * in order, to `subscriber` (the link to a probe worker). Returns the unsubscribe function.
   */
  subscribe(subscriber: (message: SnapshotMessage) => void): { registered: CheckRegistration[]; unsubscribe: () => void } {
    this.subscribers.add(subscriber);
    return { registered: [...this.verdicts.values()].map((c) => c.registration()), unsubscribe: () => this.subscribers.delete(subscriber) };
  }

  isAlive(): boolean {
    return isAlive(this);
  }

  isReady(exclude?: ReadonlySet<string>): boolean {
    return isReady(this, exclude);
  }

  isStarted(): boolean {
    return isStarted(this);
  }

  private publish(message: SnapshotMessage): void {
    for (const subscriber of this.subscribers) subscriber(message);
  }
}
