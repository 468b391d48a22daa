/**
 * Background checks against a real lifecycle: hysteresis, timeouts, the cached verdict the probes
 * read, and the events they emit. Intervals are a few ms, so each test runs many checks quickly.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckEvent } from '@podkit/lifecycle';
import { delay, get, waitFor } from '../support/http.js';
import { nextEvent, stopAll, testLifecycle } from './helpers.js';

afterEach(stopAll);

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

/** A check that follows a script of outcomes (true = pass, false = throw), then passes forever. */
function scripted(script: boolean[]) {
  let run = 0;
  return () => {
    const ok = script[run++] ?? true;
    if (!ok) throw refused();
    return 'pong';
  };
}

describe('check hysteresis', () => {
  it('fails only after failureThreshold consecutive failures and recovers only after successThreshold successes', async () => {
    const { lifecycle } = testLifecycle();
    await lifecycle.start();
    //             1     2      3      4     5      6      7      8     9      10    11
    const script = [true, false, false, true, false, false, false, true, false, true, true];
    const seen: Array<{ ok: boolean; status: string; readyz: number }> = [];
    const done = new Promise<void>((resolve) => {
      lifecycle.on('check', (event) => {
        // Read in the same tick the verdict was written: exactly what a probe would answer now.
        seen.push({ ok: event.ok, status: event.status, readyz: lifecycle.answerProbe({ method: 'GET', url: '/readyz' }).status });
        if (seen.length === script.length) resolve();
      });
    });
    lifecycle.check('postgres', scripted(script), { intervalMs: 2, failureThreshold: 3, successThreshold: 2 });
    await done;

    expect(seen.map((s) => s.status)).toEqual([
      'ok', //      first result decides
      'ok', //      one failure does not flap readiness
      'ok', //      two neither
      'ok', //      a success resets the count
      'ok',
      'ok',
      'failing', // third failure in a row
      'failing', // one success is not enough (successThreshold 2)
      'failing', // a failure resets the success count
      'failing',
      'ok', //      second success in a row
    ]);
    expect(seen.map((s) => s.readyz)).toEqual(seen.map((s) => (s.status === 'ok' ? 200 : 503)));
    expect(seen.map((s) => s.ok)).toEqual(script);
  });

  it('lets the first result decide a pending check, whatever the thresholds', async () => {
    const { lifecycle } = testLifecycle();
    await lifecycle.start();
    expect(lifecycle.isReady()).toBe(true);

    const failing = nextEvent(lifecycle, 'check', (e) => e.name === 'down');
    lifecycle.check('down', scripted([false]), { failureThreshold: 5, intervalMs: 60_000 });
    // Registered, not run yet: a pending critical check is not a pass.
    expect(lifecycle.isReady()).toBe(false);
    expect((await failing).status).toBe('failing');
    expect((await failing).previous).toBe('pending');

    const passing = nextEvent(lifecycle, 'check', (e) => e.name === 'up');
    lifecycle.check('up', scripted([true]), { successThreshold: 5, intervalMs: 60_000 });
    expect((await passing).status).toBe('ok');
    expect(lifecycle.answerProbe({ method: 'GET', url: '/readyz/up' }).status).toBe(200);
    expect(lifecycle.answerProbe({ method: 'GET', url: '/readyz/down' }).status).toBe(503);
  });

  it('keeps /readyz at 200 with JSON status "warn" while a non-critical check fails', async () => {
    const t = testLifecycle();
    t.lifecycle.check('cache', scripted([false, false, false]), { critical: false, intervalMs: 60_000 });
    const failed = nextEvent(t.lifecycle, 'check', (e) => e.name === 'cache');
    await t.lifecycle.start();
    await failed;

    const json = await get(t.probePort(), '/readyz', { headers: { accept: 'application/json' } });
    expect(json.status).toBe(200);
    const body = JSON.parse(json.body) as { status: string; checks: Record<string, { status: string; critical: boolean; error?: string }> };
    expect(body.status).toBe('warn');
    expect(body.checks.cache).toMatchObject({ status: 'warn', critical: false, error: 'ECONNREFUSED' });

    const text = await get(t.probePort(), '/readyz?verbose');
    expect(text.status).toBe(200);
    expect(text.body).toContain('[-]cache failed (non-critical): ECONNREFUSED');
    expect(text.body).toContain('readyz check passed');
  });

  it('fails /readyz while a critical check fails, and answers again once it recovers', async () => {
    const t = testLifecycle();
    // Run 1 during warmup, run 2 the refresh when warmup ends (both fail), run 3 passes.
    t.lifecycle.check('postgres', scripted([false, false, true]), { intervalMs: 150, successThreshold: 1 });
    const failed = nextEvent(t.lifecycle, 'check', (e) => e.status === 'failing');
    await t.lifecycle.start();
    await failed;
    expect((await get(t.probePort(), '/readyz')).status).toBe(503);
    await nextEvent(t.lifecycle, 'check', (e) => e.status === 'ok');
    expect((await get(t.probePort(), '/readyz')).status).toBe(200);
  });
});

describe('checks when warmup ends', () => {
  it('re-runs a check that failed during warmup as soon as warmup ends, not an interval later', async () => {
    const t = testLifecycle();
    let connected = false;
    t.lifecycle.check('redis', () => {
      if (!connected) throw refused();
    }, { intervalMs: 60_000 });
    t.lifecycle.warmup('redis-connect', async () => {
      await delay(50);
      connected = true;
    });
    await t.lifecycle.start();
    await waitFor(() => t.lifecycle.answerProbe({ method: 'GET', url: '/readyz' }).status === 200, { timeoutMs: 1000 });
  });
});

describe('check outcomes', () => {
  it('counts a `false` return, a rejection and a synchronous throw as failures, and any other value as a pass', async () => {
    const { lifecycle } = testLifecycle();
    await lifecycle.start();
    const outcomes: Record<string, CheckEvent> = {};
    const all = new Promise<void>((resolve) => {
      lifecycle.on('check', (event) => {
        outcomes[event.name] ??= event;
        if (Object.keys(outcomes).length === 6) resolve();
      });
    });
    const slow = { intervalMs: 60_000 };
    lifecycle.check('returns-false', () => false, slow);
    lifecycle.check('rejects', () => Promise.reject(refused()), slow);
    lifecycle.check('throws', () => {
      throw new TypeError('bad');
    }, slow);
    lifecycle.check('returns-undefined', () => undefined, slow);
    lifecycle.check('returns-zero', async () => 0, slow);
    lifecycle.check('returns-true', () => true, slow);
    await all;

    expect(outcomes['returns-false']).toMatchObject({ ok: false, status: 'failing' });
    expect(String(outcomes['returns-false']?.error)).toContain('returned false');
    expect(outcomes.rejects).toMatchObject({ ok: false, status: 'failing' });
    expect((outcomes.rejects?.error as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    expect(outcomes.throws).toMatchObject({ ok: false, status: 'failing' });
    expect(outcomes['returns-undefined']).toMatchObject({ ok: true, status: 'ok' });
    expect(outcomes['returns-zero']).toMatchObject({ ok: true, status: 'ok' });
    expect(outcomes['returns-true']).toMatchObject({ ok: true, status: 'ok' });

    const verbose = lifecycle.answerProbe({ method: 'GET', url: '/readyz?verbose' }).body;
    expect(verbose).toContain('[-]returns-false failed: error');
    expect(verbose).toContain('[-]rejects failed: ECONNREFUSED');
    expect(verbose).toContain('[-]throws failed: TypeError');
    expect(verbose).toContain('[+]returns-true ok');
  });

  it('emits a "check" event for every run, with its outcome, the status before and after, duration and criticality', async () => {
    const { lifecycle } = testLifecycle();
    await lifecycle.start();
    const events: CheckEvent[] = [];
    const three = new Promise<void>((resolve) => {
      lifecycle.on('check', (event) => {
        events.push(event);
        if (events.length === 3) resolve();
      });
    });
    lifecycle.check('redis', scripted([true, false, true]), { intervalMs: 2, critical: false });
    await three;
    expect(events.map((e) => [e.name, e.ok, e.previous, e.status, e.critical])).toEqual([
      ['redis', true, 'pending', 'ok', false],
      ['redis', false, 'ok', 'ok', false],
      ['redis', true, 'ok', 'ok', false],
    ]);
    for (const e of events) expect(e.durationMs).toBeGreaterThanOrEqual(0);
    expect(events[1]?.error).toBeInstanceOf(Error);
    expect(events[0]).not.toHaveProperty('error');
  });

  it('logs one line when a check changes status, not one per run', async () => {
    const t = testLifecycle();
    await t.lifecycle.start();
    const done = nextEvent(t.lifecycle, 'check', (e) => e.status === 'ok' && e.previous === 'failing');
    t.lifecycle.check('db', scripted([true, false, false, true, true, true]), { intervalMs: 2, failureThreshold: 2 });
    await done;
    const lines = t.logs.filter((l) => l.obj.check === 'db');
    expect(lines.map((l) => [l.level, l.obj.from, l.obj.to])).toEqual([
      ['info', 'pending', 'ok'],
      ['warn', 'ok', 'failing'],
      ['info', 'failing', 'ok'],
    ]);
    expect(lines[1]?.obj).toMatchObject({ kind: 'ECONNREFUSED', critical: true });
  });

  it('runs each check again only after the previous run settled and its interval passed', async () => {
    const { lifecycle } = testLifecycle();
    await lifecycle.start();
    const starts: number[] = [];
    const ends: number[] = [];
    let running = 0;
    let overlapped = false;
    const five = nextEvent(lifecycle, 'check', () => ends.length === 5);
    lifecycle.check(
      'paced',
      async () => {
        overlapped ||= running > 0;
        running += 1;
        starts.push(performance.now());
        await new Promise((r) => setTimeout(r, 20));
        running -= 1;
        ends.push(performance.now());
      },
      { intervalMs: 30 },
    );
    await five;
    expect(overlapped).toBe(false);
    for (let i = 1; i < 5; i += 1) expect(starts[i]! - ends[i - 1]!).toBeGreaterThanOrEqual(25);
  });
});

describe('a check that hangs', () => {
  it('is counted failed at its timeout, with its AbortSignal aborted then', async () => {
    const { lifecycle } = testLifecycle();
    await lifecycle.start();
    let signal: AbortSignal | undefined;
    let abortedAfterMs: number | undefined;
    const begun = performance.now();
    const failed = nextEvent(lifecycle, 'check', (e) => e.name === 'stuck');
    lifecycle.check(
      'stuck',
      (s) => {
        signal ??= s;
        s.addEventListener('abort', () => (abortedAfterMs ??= performance.now() - begun));
        return new Promise(() => {}); // ignores its signal and never settles
      },
      { timeoutMs: 150, intervalMs: 60_000 },
    );
    const event = await failed;
    expect(event).toMatchObject({ ok: false, status: 'failing' });
    expect(event.durationMs).toBeGreaterThanOrEqual(140);
    expect(event.durationMs).toBeLessThan(2000);
    expect((event.error as { code?: string }).code).toBe('ERR_PODKIT_TIMEOUT');
    expect(signal?.aborted).toBe(true);
    expect((signal?.reason as { code?: string }).code).toBe('ERR_PODKIT_TIMEOUT');
    expect(abortedAfterMs).toBeGreaterThanOrEqual(140);
    expect(lifecycle.answerProbe({ method: 'GET', url: '/readyz?verbose' }).body).toContain('[-]stuck failed: timeout');
  });

  it('never blocks a probe: /readyz and /livez answer in a few ms while the check hangs', async () => {
    const t = testLifecycle();
    await t.lifecycle.start();
    t.lifecycle.check('stuck', () => new Promise(() => {}), { timeoutMs: 5000, intervalMs: 10 });
    for (const path of ['/readyz', '/readyz?verbose', '/livez', '/readyz/stuck']) {
      const begun = performance.now();
      const res = await get(t.probePort(), path, { timeoutMs: 1000 });
      const tookMs = performance.now() - begun;
      expect(tookMs).toBeLessThan(250);
      // Not decided yet (its first run is still hanging): pending, so not ready; alive regardless.
      expect(res.status).toBe(path === '/livez' ? 200 : 503);
    }
  });

  it('holds start() for at most about a second when warmup ends, then becomes ready without its verdict', async () => {
    const t = testLifecycle();
    t.lifecycle.check('stuck', () => new Promise(() => {}), { timeoutMs: 30_000, critical: false });
    const begun = performance.now();
    await t.lifecycle.start();
    expect(performance.now() - begun).toBeLessThan(2500);
    expect(t.lifecycle.state).toBe('ready');
    expect((await get(t.probePort(), '/startupz')).status).toBe(200);
    // Non-critical and still pending: ready, with a concern.
    expect((await get(t.probePort(), '/readyz')).status).toBe(200);
  });

  it('never blocks shutdown: stop() resolves promptly while a check hangs', async () => {
    const t = testLifecycle();
    await t.lifecycle.start();
    t.lifecycle.check('stuck', () => new Promise(() => {}), { timeoutMs: 30_000 });
    await delay(20);
    const begun = performance.now();
    const result = await t.lifecycle.stop();
    expect(performance.now() - begun).toBeLessThan(1000);
    expect(result).toMatchObject({ code: 0, kind: 'clean' });
    expect(t.lifecycle.state).toBe('stopped');
  });
});
