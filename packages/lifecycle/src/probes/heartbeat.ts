/**
 * The main loop's heartbeat: what makes `/livez` truthful. A timer on the main loop stores the
 * monotonic time into the snapshot's shared memory every HEARTBEAT_INTERVAL_MS; the probe answers
 * (in the worker thread or not) compare it with the time they answer at. A loop that is busy but
 * still turns runs its timers between callbacks and keeps beating; a loop stuck in one synchronous
 * call (an endless loop, a blocking native call, a catastrophic regex) stops beating.
 */
import type { HealthSnapshot } from '../state.js';

/**
 * How often the main loop beats, in ms. A quarter of the smallest heartbeat window allowed
 * (`liveness.heartbeatTimeoutMs` ≥ 1000): a loop that turns at all is never judged stale by the
 * beat's own granularity. One `Atomics.store` per beat: no measurable cost.
 */
export const HEARTBEAT_INTERVAL_MS = 250;

/** Starts beating now; the returned function stops and tells the readers no heartbeat runs any more. */
export function startHeartbeat(snapshot: HealthSnapshot): () => void {
  snapshot.beat();
  // unref: the heartbeat reports on the loop; it must never be what keeps the process alive.
  const timer = setInterval(() => snapshot.beat(), HEARTBEAT_INTERVAL_MS).unref();
  return () => {
    clearInterval(timer);
    // With no heartbeat left to judge, liveness no longer looks at it (a stopped lifecycle
    // that keeps answering `answerProbe()` must not turn "stalled" a few seconds later).
    snapshot.beat(0n);
  };
}
