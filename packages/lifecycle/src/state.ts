/**
 * The one source of truth the probes read: the lifecycle state, each check's verdict, the
 * in-flight count and the main loop's heartbeat.
 *
 * Every value readiness, liveness or startup depends on lives in SharedArrayBuffers written with
 * `Atomics`, so that the probe listener can answer from a worker thread without ever asking the
 * main loop: a SIGTERM's readiness 503 is one `Atomics.store` in the tick the signal arrives, and
 * a wedged main loop cannot delay an answer. The fields keep their plain names (`snapshot.state =
 * 'draining'`, `verdict.runs += 1`): the setters do the stores.
 *
 * Layout (all little-endian on every platform Node runs on; times are integers):
 *
 *   header (32 bytes, one per lifecycle)          check (56 bytes, one per check)
 *   Int32[0]  state (index in LIFECYCLE_STATES)   Int32[0]  status (0 pending, 1 ok, 2 failing)
 *   Int32[1]  warmedUp (0 or 1)                   Int32[1]  consecutive failures
 *   Int32[2]  requests in flight                  Int32[2]  consecutive successes
 *   Int32[3]  (reserved)                          Int32[3]  (reserved)
 *   Int64[2]  heartbeat: monotonic ns, 0 = off    Int64[2]  last duration, µs (-1: none yet)
 *   Int64[3]  (reserved)                          Int64[3]  last status change, epoch ms
 *                                                 Int64[4]  last run, epoch ms (-1: none yet)
 *                                                 Int64[5]  runs
 *                                                 Int64[6]  failed runs
 *
 * What never changes (a check's name, whether it is critical) reaches the worker once, when the
 * check is registered. The last error's kind and message are text, only shown in bodies and only
 * changed when a check fails differently: they travel as messages (see `onText`).
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

const CHECK_STATUSES: readonly CheckStatus[] = ['pending', 'ok', 'failing'];

/** What a probe may read about one check. Error text is kept twice: a safe kind, and a message with credentials stripped. */
export interface CheckVerdictReader {
  readonly name: string;
  readonly critical: boolean;
  readonly status: CheckStatus;
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
 * shared memory both implement it, and `probe-responses.ts` sees nothing else.
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

// --- shared memory -------------------------------------------------------------------------------

const HEADER_BYTES = 32;
const H_STATE = 0;
const H_WARMED_UP = 1;
const H_IN_FLIGHT = 2;
const H64_HEARTBEAT = 2;

export const CHECK_BYTES = 56;
const C_STATUS = 0;
const C_CONSECUTIVE_FAILURES = 1;
const C_CONSECUTIVE_SUCCESSES = 2;
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
export interface CheckRegistration extends CheckText {
  critical: boolean;
  buffer: SharedArrayBuffer;
}

export class CheckVerdict implements CheckVerdictReader {
  private readonly i32: Int32Array;
  private readonly i64: BigInt64Array;
  private errorKind: string | undefined;
  private errorMessage: string | undefined;

  /** Reads (and writes) a check kept in `buffer`. `onText` hears of each change of the error text. */
  constructor(
    readonly name: string,
    readonly critical: boolean,
    readonly buffer: SharedArrayBuffer,
    private readonly onText?: (text: CheckText) => void,
  ) {
    this.i32 = new Int32Array(buffer, 0, 4);
    this.i64 = new BigInt64Array(buffer, 0, CHECK_BYTES / 8);
  }

  /** A new check: pending, never run, changed now. */
  static create(name: string, critical: boolean, onText?: (text: CheckText) => void): CheckVerdict {
    const verdict = new CheckVerdict(name, critical, new SharedArrayBuffer(CHECK_BYTES), onText);
    verdict.lastChangeAt = Date.now();
    verdict.lastDurationMs = undefined;
    verdict.lastRunAt = undefined;
    return verdict;
  }

  get status(): CheckStatus {
    return CHECK_STATUSES[Atomics.load(this.i32, C_STATUS)] ?? 'pending';
  }
  set status(value: CheckStatus) {
    Atomics.store(this.i32, C_STATUS, CHECK_STATUSES.indexOf(value));
  }

  get consecutiveFailures(): number {
    return Atomics.load(this.i32, C_CONSECUTIVE_FAILURES);
  }
  set consecutiveFailures(value: number) {
    Atomics.store(this.i32, C_CONSECUTIVE_FAILURES, value);
  }

  get consecutiveSuccesses(): number {
    return Atomics.load(this.i32, C_CONSECUTIVE_SUCCESSES);
  }
  set consecutiveSuccesses(value: number) {
    Atomics.store(this.i32, C_CONSECUTIVE_SUCCESSES, value);
  }

  get lastDurationMs(): number | undefined {
    const us = Atomics.load(this.i64, C64_DURATION_US);
    return us === NONE ? undefined : Number(us) / 1000;
  }
  /** Kept to the microsecond (what the check runner rounds to), so both threads print the same number. */
  set lastDurationMs(value: number | undefined) {
    Atomics.store(this.i64, C64_DURATION_US, value === undefined ? NONE : BigInt(Math.round(value * 1000)));
  }

  get lastChangeAt(): number {
    return Number(Atomics.load(this.i64, C64_LAST_CHANGE_AT));
  }
  set lastChangeAt(value: number) {
    Atomics.store(this.i64, C64_LAST_CHANGE_AT, BigInt(Math.round(value)));
  }

  get lastRunAt(): number | undefined {
    const at = Atomics.load(this.i64, C64_LAST_RUN_AT);
    return at === NONE ? undefined : Number(at);
  }
  set lastRunAt(value: number | undefined) {
    Atomics.store(this.i64, C64_LAST_RUN_AT, value === undefined ? NONE : BigInt(Math.round(value)));
  }

  get runs(): number {
    return Number(Atomics.load(this.i64, C64_RUNS));
  }
  set runs(value: number) {
    Atomics.store(this.i64, C64_RUNS, BigInt(value));
  }

  get failures(): number {
    return Number(Atomics.load(this.i64, C64_FAILURES));
  }
  set failures(value: number) {
    Atomics.store(this.i64, C64_FAILURES, BigInt(value));
  }

  get lastErrorKind(): string | undefined {
    return this.errorKind;
  }
  set lastErrorKind(value: string | undefined) {
    if (value === this.errorKind) return;
    this.errorKind = value;
    this.onText?.(this.text());
  }

  get lastErrorMessage(): string | undefined {
    return this.errorMessage;
  }
  set lastErrorMessage(value: string | undefined) {
    if (value === this.errorMessage) return;
    this.errorMessage = value;
    this.onText?.(this.text());
  }

  /** Takes the text the main thread sent (probe worker side): no notification goes back. */
  receiveText(text: CheckText): void {
    this.errorKind = text.lastErrorKind;
    this.errorMessage = text.lastErrorMessage;
  }

  registration(): CheckRegistration {
    return { ...this.text(), critical: this.critical, buffer: this.buffer };
  }

  private text(): CheckText {
    return { name: this.name, lastErrorKind: this.errorKind, lastErrorMessage: this.errorMessage };
  }
}

/** Liveness settings the snapshot judges the heartbeat by. */
export interface SnapshotLiveness {
  heartbeatTimeoutMs: number;
}

/** A message for the probe worker: a check was registered, or a check's error text changed. */
export type SnapshotMessage = { type: 'check'; check: CheckRegistration } | { type: 'text'; text: CheckText };

export class HealthSnapshot implements SnapshotReader {
  readonly checks = new Map<string, CheckVerdict>();
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
    this.i32 = new Int32Array(buffer, 0, 4);
    this.i64 = new BigInt64Array(buffer, 0, HEADER_BYTES / 8);
  }

  get state(): LifecycleState {
    return LIFECYCLE_STATES[Atomics.load(this.i32, H_STATE)] ?? 'failed';
  }
  set state(value: LifecycleState) {
    Atomics.store(this.i32, H_STATE, LIFECYCLE_STATES.indexOf(value));
  }

  get warmedUp(): boolean {
    return Atomics.load(this.i32, H_WARMED_UP) === 1;
  }
  set warmedUp(value: boolean) {
    Atomics.store(this.i32, H_WARMED_UP, value ? 1 : 0);
  }

  get inFlight(): number {
    return Atomics.load(this.i32, H_IN_FLIGHT);
  }
  set inFlight(value: number) {
    Atomics.store(this.i32, H_IN_FLIGHT, value);
  }

  /** Records that the main loop turned (`now`), or, with 0, that no heartbeat runs (nothing to judge). */
  beat(now: bigint = monotonicNs()): void {
    Atomics.store(this.i64, H64_HEARTBEAT, now);
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

  addCheck(name: string, critical: boolean): CheckVerdict {
    const verdict = CheckVerdict.create(name, critical, (text) => this.publish({ type: 'text', text }));
    this.checks.set(name, verdict);
    this.publish({ type: 'check', check: verdict.registration() });
    return verdict;
  }

  /** Probe worker side: takes a check the main thread registered. */
  adoptCheck(registration: CheckRegistration): void {
    const verdict = new CheckVerdict(registration.name, registration.critical, registration.buffer);
    verdict.receiveText(registration);
    this.checks.set(registration.name, verdict);
  }

  /** Probe worker side: applies one message from the main thread. */
  receive(message: SnapshotMessage): void {
    if (message.type === 'check') this.adoptCheck(message.check);
    else this.checks.get(message.text.name)?.receiveText(message.text);
  }

  /**
   * Every check registered so far, and from now on each new check and each change of error text,
   * in order, to `subscriber` (the link to a probe worker). Returns the unsubscribe function.
   */
  subscribe(subscriber: (message: SnapshotMessage) => void): { registered: CheckRegistration[]; unsubscribe: () => void } {
    this.subscribers.add(subscriber);
    return { registered: [...this.checks.values()].map((c) => c.registration()), unsubscribe: () => this.subscribers.delete(subscriber) };
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
