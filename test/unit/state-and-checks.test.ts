/**
 * The pure parts of the state, from source: the transitions the state machine allows, the one
 * writer's refusals, and check hysteresis. No timers, no sockets: milliseconds.
 */
import { describe, expect, it } from 'vitest';
import { nextCheckCounts, type CheckCounts } from '../../packages/lifecycle/src/checks/hysteresis.js';
import { canTransition, HealthSnapshot, LIFECYCLE_STATES } from '../../packages/lifecycle/src/state.js';

describe('transitions', () => {
  it('lets a signal reach draining from every state before stopping, and nothing leave stopped or failed', () => {
    for (const from of ['starting', 'warming', 'ready'] as const) expect(canTransition(from, 'draining')).toBe(true);
    for (const to of LIFECYCLE_STATES) {
      expect(canTransition('stopped', to)).toBe(false);
      expect(canTransition('failed', to)).toBe(false);
    }
    expect(canTransition('starting', 'ready')).toBe(false);
    expect(canTransition('draining', 'ready')).toBe(false);
  });

  it('allows exactly the moves of the lifecycle, and failed from every state that is not final', () => {
    const allowed = LIFECYCLE_STATES.flatMap((from) => LIFECYCLE_STATES.filter((to) => canTransition(from, to)).map((to) => `${from}→${to}`));
    expect(allowed.sort()).toEqual(
      [
        'starting→warming', 'starting→draining', 'starting→failed',
        'warming→ready', 'warming→draining', 'warming→failed',
        'ready→draining', 'ready→failed',
        'draining→stopping', 'draining→failed',
        'stopping→stopped', 'stopping→failed',
      ].sort(),
    );
  });

  it('has the snapshot refuse a move the state machine does not allow, and keep its state', () => {
    const snapshot = new HealthSnapshot({ heartbeatTimeoutMs: 1000 });
    expect(snapshot.transition('ready')).toBe(false);
    expect(snapshot.state).toBe('starting');
    expect(snapshot.transition('warming')).toBe(true);
    expect(snapshot.transition('ready')).toBe(true);
    expect(snapshot.state).toBe('ready');
  });

  it('counts requests in and out of flight through the writer', () => {
    const snapshot = new HealthSnapshot({ heartbeatTimeoutMs: 1000 });
    snapshot.addInFlight(3);
    snapshot.addInFlight(-2);
    expect(snapshot.inFlight).toBe(1);
  });
});

describe('check hysteresis', () => {
  const thresholds = { failureThreshold: 3, successThreshold: 2 };
  const run = (outcomes: boolean[], start: CheckCounts = { status: 'pending', consecutiveFailures: 0, consecutiveSuccesses: 0 }) =>
    outcomes.reduce<CheckCounts[]>((seen, ok) => [...seen, nextCheckCounts(seen.at(-1) ?? start, ok, thresholds)], []).map((c) => c.status);

  it('lets the first result decide a pending check', () => {
    expect(run([true])).toEqual(['ok']);
    expect(run([false])).toEqual(['failing']);
  });

  it('fails a passing check only after failureThreshold failures in a row', () => {
    expect(run([true, false, false, true, false, false, false])).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'failing']);
  });

  it('recovers a failing check only after successThreshold successes in a row', () => {
    expect(run([false, true, false, true, true])).toEqual(['failing', 'failing', 'failing', 'failing', 'ok']);
  });

  it('with thresholds of 1, follows every outcome', () => {
    const one = { failureThreshold: 1, successThreshold: 1 };
    let counts: CheckCounts = { status: 'ok', consecutiveFailures: 0, consecutiveSuccesses: 5 };
    counts = nextCheckCounts(counts, false, one);
    expect(counts).toEqual({ status: 'failing', consecutiveFailures: 1, consecutiveSuccesses: 0 });
    expect(nextCheckCounts(counts, true, one).status).toBe('ok');
  });
});
