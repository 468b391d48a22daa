/**
 * Slow is degraded, from source with fake timers: a check that passes but takes longer than its
 * `slowThresholdMs` reports `warn` in every output (JSON and `?verbose`, the per-check path,
 * `/metrics`), while readiness stays 200 and hysteresis counts the run as a success.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isSlowPass } from '../../packages/lifecycle/src/checks/hysteresis.js';
import { CheckRunner, type CheckEvent } from '../../packages/lifecycle/src/checks/runner.js';
import { silentLogger } from '../../packages/lifecycle/src/logger.js';
import { answerProbe } from '../../packages/lifecycle/src/probes/answers.js';
import { resolveCheckOptions } from '../../packages/lifecycle/src/resolve-option-groups.js';
import { DEFAULTS } from '../../packages/lifecycle/src/defaults.js';
import { HealthSnapshot } from '../../packages/lifecycle/src/state.js';

const probe = (snapshot: HealthSnapshot, url: string, accept?: string) =>
  answerProbe(snapshot, { method: 'GET', url, accept }, { exposeErrors: false, metrics: true });

/** A ready snapshot with one check whose runs take `durations[i]` ms each (fake time) and pass unless `fail` says so. */
function setUp(options: Record<string, unknown>, durations: number[], fail: boolean[] = []) {
  const snapshot = new HealthSnapshot({ heartbeatTimeoutMs: 5000 });
  snapshot.transition('warming');
  snapshot.transition('ready');
  const events: CheckEvent[] = [];
  let run = 0;
  const fn = async () => {
    const i = run++;
    await new Promise((resolve) => setTimeout(resolve, durations[i] ?? 1));
    if (fail[i]) throw Object.assign(new Error('down'), { code: 'ECONNREFUSED' });
  };
  const resolved = resolveCheckOptions('check "db" options', { intervalMs: 1000, timeoutMs: 5000, ...options }, { ...DEFAULTS.checks });
  const runner = new CheckRunner('db', fn, resolved, snapshot, silentLogger, (event) => events.push(event));
  return { snapshot, runner, events, verdict: runner.verdict };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('isSlowPass', () => {
  it('judges only passing runs, strictly over the threshold, and none without a threshold', () => {
    expect(isSlowPass(true, 501, 500)).toBe(true);
    expect(isSlowPass(true, 500, 500)).toBe(false);
    expect(isSlowPass(false, 5000, 500)).toBe(false);
    expect(isSlowPass(true, 60_000, undefined)).toBe(false);
  });
});

describe('a check with slowThresholdMs', () => {
  it('reports warn for a slow pass everywhere, while /readyz and /readyz/<check> stay 200', async () => {
    const { snapshot, runner, events, verdict } = setUp({ slowThresholdMs: 500 }, [800]);
    runner.start();
    await vi.advanceTimersByTimeAsync(800);
    runner.stop();
    expect(verdict.status).toBe('ok');
    expect(verdict.slow).toBe(true);
    expect(events.at(-1)).toMatchObject({ ok: true, slow: true, status: 'ok' });

    expect(probe(snapshot, '/readyz').status).toBe(200);
    expect(probe(snapshot, '/readyz').body).toBe('ok\n');
    const json = probe(snapshot, '/readyz', 'application/health+json');
    expect(json.status).toBe(200);
    expect(JSON.parse(json.body)).toMatchObject({ status: 'warn', checks: { db: { status: 'warn', slow: true, slowThresholdMs: 500, durationMs: 800 } } });
    const verbose = probe(snapshot, '/readyz?verbose');
    expect(verbose.status).toBe(200);
    expect(verbose.body).toContain('[+]db ok (slow: 800 ms, over 500 ms)');
    expect(verbose.body).toContain('readyz check passed');
    const one = probe(snapshot, '/readyz/db', 'application/json');
    expect(one.status).toBe(200);
    expect(JSON.parse(one.body)).toMatchObject({ status: 'warn', checks: { db: { status: 'warn' } } });
    const metrics = probe(snapshot, '/metrics').body;
    expect(metrics).toContain('podkit_check_status{check="db",status="warn"} 1');
    expect(metrics).toContain('podkit_check_status{check="db",status="pass"} 0');
    expect(metrics).toContain('podkit_check_up{check="db",critical="true"} 1');
    expect(metrics).toContain('podkit_ready 1');
  });

  it('goes back to pass when a run is fast again, judging each run alone', async () => {
    const { snapshot, runner, verdict } = setUp({ slowThresholdMs: 500 }, [800, 100]);
    runner.start();
    await vi.advanceTimersByTimeAsync(800);
    expect(verdict.slow).toBe(true);
    await vi.advanceTimersByTimeAsync(1000 + 100);
    runner.stop();
    expect(verdict.runs).toBe(2);
    expect(verdict.slow).toBe(false);
    expect(JSON.parse(probe(snapshot, '/readyz', 'application/json').body)).toMatchObject({ status: 'pass', checks: { db: { status: 'pass' } } });
    expect(JSON.parse(probe(snapshot, '/readyz', 'application/json').body).checks.db.slow).toBeUndefined();
    expect(probe(snapshot, '/metrics').body).toContain('podkit_check_status{check="db",status="pass"} 1');
  });

  it('counts a slow pass as a success for the thresholds: a failing check recovers on slow passes', async () => {
    const { runner, verdict } = setUp({ slowThresholdMs: 500, successThreshold: 2 }, [10, 800, 800], [true]);
    runner.start();
    await vi.advanceTimersByTimeAsync(10);
    expect(verdict.status).toBe('failing');
    await vi.advanceTimersByTimeAsync(1000 + 800);
    expect(verdict).toMatchObject({ status: 'failing', consecutiveSuccesses: 1, slow: true });
    await vi.advanceTimersByTimeAsync(1000 + 800);
    runner.stop();
    expect(verdict).toMatchObject({ status: 'ok', consecutiveSuccesses: 2, slow: true });
  });

  it('never calls a failed run slow, however long it took: it is a failure', async () => {
    const { snapshot, runner, verdict } = setUp({ slowThresholdMs: 500, failureThreshold: 1 }, [900], [true]);
    runner.start();
    await vi.advanceTimersByTimeAsync(900);
    runner.stop();
    expect(verdict).toMatchObject({ status: 'failing', slow: false });
    expect(probe(snapshot, '/readyz').status).toBe(503);
    expect(JSON.parse(probe(snapshot, '/readyz', 'application/json').body).checks.db.status).toBe('fail');
  });

  it('judges nothing slow without a threshold (the default)', async () => {
    expect(DEFAULTS.checks.slowThresholdMs).toBeUndefined();
    const { snapshot, runner, verdict } = setUp({}, [4000]);
    runner.start();
    await vi.advanceTimersByTimeAsync(4000);
    runner.stop();
    expect(verdict.slow).toBe(false);
    expect(JSON.parse(probe(snapshot, '/readyz', 'application/json').body).status).toBe('pass');
  });

  it('refuses a threshold that is not a whole number of ms from 1, naming the option', () => {
    expect(() => resolveCheckOptions('checks', { slowThresholdMs: 0 }, { ...DEFAULTS.checks })).toThrow(/checks\.slowThresholdMs.*received 0/);
    expect(() => resolveCheckOptions('checks', { slowThresholdMs: '500' }, { ...DEFAULTS.checks })).toThrow(/checks\.slowThresholdMs/);
  });
});
