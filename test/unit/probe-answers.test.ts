/**
 * The probe answers, from source: what /livez, /readyz and /startupz answer in each state, for each
 * check verdict, method, path and prefix, and how the heartbeat turns liveness, with fake timers
 * (the monotonic clock included), so a wedged loop of seconds is judged in milliseconds.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { answerProbe, type ProbeAnswerOptions } from '../../packages/lifecycle/src/probes/answers.js';
import { HEARTBEAT_INTERVAL_MS, startHeartbeat } from '../../packages/lifecycle/src/probes/heartbeat.js';
import { HealthSnapshot, LIFECYCLE_STATES, type LifecycleState } from '../../packages/lifecycle/src/state.js';

const options: ProbeAnswerOptions = { exposeErrors: false, metrics: false };
const status = (snapshot: HealthSnapshot, url: string, method = 'GET', extra: Partial<ProbeAnswerOptions> = {}) =>
  answerProbe(snapshot, { method, url }, { ...options, ...extra }).status;

/** A snapshot in `state`, reached by the moves the state machine allows, warmed up once it was ready. */
function inState(state: LifecycleState, heartbeatTimeoutMs = 5000): HealthSnapshot {
  const snapshot = new HealthSnapshot({ heartbeatTimeoutMs });
  const path: Record<LifecycleState, LifecycleState[]> = {
    starting: [],
    warming: ['warming'],
    ready: ['warming', 'ready'],
    draining: ['warming', 'ready', 'draining'],
    stopping: ['warming', 'ready', 'draining', 'stopping'],
    stopped: ['warming', 'ready', 'draining', 'stopping', 'stopped'],
    failed: ['warming', 'failed'],
  };
  for (const to of path[state]) {
    expect(snapshot.transition(to)).toBe(true);
    if (to === 'ready') snapshot.markWarmedUp();
  }
  return snapshot;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('the answer in each state', () => {
  const expected: Record<LifecycleState, [livez: number, readyz: number, startupz: number]> = {
    starting: [200, 503, 503],
    warming: [200, 503, 503],
    ready: [200, 200, 200],
    draining: [200, 503, 200],
    stopping: [200, 503, 200],
    stopped: [200, 503, 200],
    failed: [503, 503, 503],
  };
  it.each(LIFECYCLE_STATES)('%s', (state) => {
    const snapshot = inState(state);
    expect([status(snapshot, '/livez'), status(snapshot, '/readyz'), status(snapshot, '/startupz')]).toEqual(expected[state]);
  });
});

describe('checks', () => {
  function ready(verdicts: Record<string, { critical: boolean; status: 'ok' | 'failing' | 'pending' }>): HealthSnapshot {
    const snapshot = inState('ready');
    for (const [name, { critical, status: s }] of Object.entries(verdicts)) {
      snapshot.addCheck(name, critical);
      snapshot.setCheckVerdict(name, { status: s });
    }
    return snapshot;
  }

  it('fails readiness on a failing or pending critical check, never liveness', () => {
    expect(status(ready({ db: { critical: true, status: 'failing' } }), '/readyz')).toBe(503);
    expect(status(ready({ db: { critical: true, status: 'pending' } }), '/readyz')).toBe(503);
    expect(status(ready({ db: { critical: true, status: 'failing' } }), '/livez')).toBe(200);
  });

  it('only reports a failing non-critical check', () => {
    const snapshot = ready({ search: { critical: false, status: 'failing' } });
    expect(status(snapshot, '/readyz')).toBe(200);
    expect(answerProbe(snapshot, { method: 'GET', url: '/readyz?verbose' }, options).body).toContain('[-]search failed (non-critical)');
  });

  it('ignores an excluded check for that call only, and answers for one check on /readyz/<check>', () => {
    const snapshot = ready({ db: { critical: true, status: 'failing' }, cache: { critical: true, status: 'ok' } });
    expect(status(snapshot, '/readyz?exclude=db')).toBe(200);
    expect(status(snapshot, '/readyz')).toBe(503);
    expect([status(snapshot, '/readyz/db'), status(snapshot, '/readyz/cache'), status(snapshot, '/readyz/nope')]).toEqual([503, 200, 404]);
  });
});

describe('methods, paths and prefix', () => {
  it('answers HEAD like GET without a body, and 405 with Allow to anything else', () => {
    const snapshot = inState('ready');
    const get = answerProbe(snapshot, { method: 'GET', url: '/readyz' }, options);
    const head = answerProbe(snapshot, { method: 'HEAD', url: '/readyz' }, options);
    expect([head.status, head.body, head.headers['content-length']]).toEqual([get.status, '', get.headers['content-length']]);
    const post = answerProbe(snapshot, { method: 'POST', url: '/readyz' }, options);
    expect([post.status, post.headers.allow]).toEqual([405, 'GET, HEAD']);
  });

  it('answers 404 to unknown paths, and to /metrics unless metrics are served', () => {
    const snapshot = inState('ready');
    expect(status(snapshot, '/healthz')).toBe(404);
    expect(status(snapshot, '/metrics')).toBe(404);
    expect(status(snapshot, '/metrics', 'GET', { metrics: true })).toBe(200);
  });

  it('treats a trailing slash as the same path, and under a prefix only the prefixed paths as probes', () => {
    const snapshot = inState('ready');
    expect(status(snapshot, '/readyz/')).toBe(200);
    expect(status(snapshot, '/health/readyz', 'GET', { prefix: '/health' })).toBe(200);
    expect(status(snapshot, '/readyz', 'GET', { prefix: '/health' })).toBe(404);
  });
});

describe('the heartbeat, with fake timers', () => {
  it('keeps a turning loop alive however long it runs, and a stopped heartbeat is never judged stale', () => {
    vi.useFakeTimers({ toFake: ['hrtime', 'Date', 'setInterval', 'clearInterval'] });
    const snapshot = inState('ready', 1000);
    const stop = startHeartbeat(snapshot);
    vi.advanceTimersByTime(60_000);
    expect([status(snapshot, '/livez'), status(snapshot, '/readyz')]).toEqual([200, 200]);
    stop();
    vi.advanceTimersByTime(60_000);
    expect(status(snapshot, '/livez')).toBe(200);
  });

  it('fails liveness and readiness once the last beat is older than heartbeatTimeoutMs, startup stays, and one beat brings them back', () => {
    vi.useFakeTimers({ toFake: ['hrtime', 'Date'] });
    const snapshot = inState('ready', 1000);
    // The fake monotonic clock starts at 0, which the snapshot reads as "no heartbeat runs".
    vi.advanceTimersByTime(1);
    // One beat, then a wedged loop: no timer of the main loop runs any more, only the clock moves.
    snapshot.beat();
    vi.advanceTimersByTime(1000);
    expect(status(snapshot, '/livez')).toBe(200);
    vi.advanceTimersByTime(HEARTBEAT_INTERVAL_MS);
    expect([status(snapshot, '/livez'), status(snapshot, '/readyz'), status(snapshot, '/startupz')]).toEqual([503, 503, 200]);
    expect(answerProbe(snapshot, { method: 'GET', url: '/livez?verbose' }, options).body).toContain('[-]event-loop stalled: no heartbeat for 1250 ms');
    snapshot.beat();
    expect([status(snapshot, '/livez'), status(snapshot, '/readyz')]).toEqual([200, 200]);
  });
});
