/**
 * Background readiness checks. Each runs on its own interval with its own timeout and writes its
 * verdict into the snapshot; probes only read that verdict, so a probe never waits on a dependency.
 */
import type { Logger } from '../logger.js';
import type { ResolvedCheckOptions } from '../options-resolved.js';
import { errorKind, errorMessage, redactSecrets } from '../redact.js';
import type { CheckStatus, CheckVerdictReader, HealthSnapshot } from '../state.js';
import { runWithTimeout, type AbortableTask } from '../timeout.js';
import { isSlowPass, nextCheckCounts } from './hysteresis.js';

/**
 * A check passes when it resolves (to anything but `false`) and fails when it throws, rejects,
 * resolves `false` or outlives its timeout. It receives an AbortSignal that fires at the timeout.
 */
export type CheckFunction = AbortableTask<unknown>;

export interface CheckEvent {
  name: string;
  /** This run's outcome. */
  ok: boolean;
  /** The check's status after this run (hysteresis applied). */
  status: CheckStatus;
  /** The status before this run. */
  previous: CheckStatus;
  durationMs: number;
  critical: boolean;
  /** This run passed, but took longer than the check's `slowThresholdMs` (reported as `warn`). */
  slow: boolean;
  error?: unknown;
}

export class CheckRunner {
  readonly verdict: CheckVerdictReader;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private current: Promise<void> | undefined;

  constructor(
    readonly name: string,
    private readonly fn: CheckFunction,
    readonly options: ResolvedCheckOptions,
    private readonly snapshot: HealthSnapshot,
    private readonly logger: Logger,
    private readonly emit: (event: CheckEvent) => void,
  ) {
    this.verdict = snapshot.addCheck(name, options.critical, options.slowThresholdMs);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /**
   * Brings a verdict up to date before it matters (the moment warmup ends): waits for a run in
   * flight, then, unless the check passes, runs it again now instead of at the next interval.
   * A check whose first run failed because warmup had not yet connected its client would
   * otherwise hold readiness at 503 for up to `intervalMs` after the service is warm.
   */
  async refresh(): Promise<void> {
    if (this.current) await this.current;
    if (this.verdict.status === 'ok' || this.stopped) return;
    clearTimeout(this.timer);
    await this.run();
  }

  /** Runs the check once (or joins the run in flight); the next run is scheduled after it settles, so runs never pile up. */
  run(): Promise<void> {
    this.current ??= this.execute().finally(() => {
      this.current = undefined;
    });
    return this.current;
  }

  private async execute(): Promise<void> {
    const started = performance.now();
    let error: unknown;
    let ok: boolean;
    try {
      const result = await runWithTimeout(`check "${this.name}"`, this.options.timeoutMs, this.fn, { keepAlive: false });
      ok = result !== false;
      if (!ok) error = new Error(`check "${this.name}" returned false`);
    } catch (caught) {
      ok = false;
      error = caught;
    }
    this.record(ok, performance.now() - started, error);
    if (!this.stopped) {
      clearTimeout(this.timer);
      // Checks are background work: their timers never hold the process open.
      this.timer = setTimeout(() => void this.run(), this.options.intervalMs).unref();
    }
  }

  private record(ok: boolean, durationMs: number, error: unknown): void {
    const v = this.verdict;
    const previous = v.status;
    const counts = nextCheckCounts(v, ok, this.options);
    const changed = counts.status !== previous;
    const rounded = Math.round(durationMs * 1000) / 1000;
    const slow = isSlowPass(ok, rounded, this.options.slowThresholdMs);
    const wasSlow = v.slow;
    this.snapshot.setCheckVerdict(this.name, {
      ...counts,
      slow,
      runs: v.runs + 1,
      failures: v.failures + (ok ? 0 : 1),
      lastRunAt: Date.now(),
      lastDurationMs: rounded,
      ...(ok ? {} : { lastErrorKind: errorKind(error), lastErrorMessage: redactSecrets(errorMessage(error)) }),
      ...(changed ? { lastChangeAt: Date.now() } : {}),
    });
    if (changed) {
      const fields = { check: this.name, from: previous, to: counts.status, critical: v.critical, durationMs: rounded };
      if (counts.status === 'ok') this.logger.info(fields, `check "${this.name}" passing`);
      else this.logger.warn({ ...fields, error: v.lastErrorMessage, kind: v.lastErrorKind }, `check "${this.name}" failing`);
    }
    // Said when it starts and when it ends, not on every slow run.
    if (slow && !wasSlow) {
      this.logger.warn({ check: this.name, slow: true, durationMs: rounded, slowThresholdMs: this.options.slowThresholdMs }, `check "${this.name}" slow: ${rounded} ms`);
    } else if (!slow && wasSlow && ok) {
      this.logger.info({ check: this.name, slow: false, durationMs: rounded }, `check "${this.name}" no longer slow`);
    }
    this.emit({ name: this.name, ok, status: v.status, previous, durationMs: rounded, critical: v.critical, slow, ...(ok ? {} : { error }) });
  }
}
