/**
 * Named steps with timeouts: warmups and shutdown hooks run through this one runner. Each step gets
 * its own timeout (its AbortSignal fires there), and its outcome is timed and emitted the same way.
 * What a failure means is the caller's: a failed warmup fails the start, a failed hook is logged
 * and the next one runs (the shutdown path never throws).
 */
import { errorMessage } from './redact.js';
import { runWithTimeout, type AbortableTask } from './timeout.js';

export interface NamedStep {
  name: string;
  fn: AbortableTask<unknown>;
  options: { timeoutMs: number };
}

/** A warmup: a step that may be optional (`required: false`: its failure is logged, not fatal). */
export interface WarmupStep extends NamedStep {
  options: { timeoutMs: number; required: boolean };
}

/** A step whose task has not settled yet (one that outlived its timeout included): what forensics reports as still running. */
export interface RunningStep {
  /** `warmup` or `shutdown hook`. */
  label: string;
  name: string;
  /** performance.now() when its task began. */
  startedAt: number;
}

export interface StepOutcome {
  name: string;
  ok: boolean;
  durationMs: number;
  error?: unknown;
}

/**
 * Runs one step within its timeout; never throws. `signal` aborts it early (a shutdown during
 * warmup). `running` holds the step from the moment its task begins until the task itself settles,
 * which for a task that ignores its AbortSignal is after its timeout, or never.
 */
export async function runStep(label: string, step: NamedStep, signal?: AbortSignal, running?: Set<RunningStep>): Promise<StepOutcome> {
  const begun = performance.now();
  const entry: RunningStep = { label, name: step.name, startedAt: begun };
  const done = () => running?.delete(entry);
  const task: AbortableTask<unknown> = (taskSignal) => {
    running?.add(entry);
    let result: unknown;
    try {
      result = step.fn(taskSignal);
    } catch (error) {
      done();
      throw error;
    }
    // Both outcomes handled here; runWithTimeout observes the same promise for the step's outcome.
    Promise.resolve(result).then(done, done);
    return result;
  };
  try {
    await runWithTimeout(`${label} "${step.name}"`, step.options.timeoutMs, task, signal ? { signal } : {});
    return { name: step.name, ok: true, durationMs: performance.now() - begun };
  } catch (error) {
    return { name: step.name, ok: false, durationMs: performance.now() - begun, error };
  }
}

/** The message a failed step is reported with. */
export function stepFailure(label: string, outcome: StepOutcome): string {
  return `${label} "${outcome.name}" failed: ${errorMessage(outcome.error)}`;
}
