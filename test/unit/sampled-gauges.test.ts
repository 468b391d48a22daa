/**
 * The sampled gauges, from source with fake timers: while ready the in-flight count and the
 * long-lived connections open are sampled once a second into the snapshot (what /metrics reads);
 * once the drain begins the in-flight count is exact and the long-lived gauge is sampled every
 * 100 ms, so a scrape during the shutdown sees connections go.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SampledGauges } from '../../packages/lifecycle/src/sampled-gauges.js';
import { HealthSnapshot } from '../../packages/lifecycle/src/state.js';

afterEach(() => {
  vi.useRealTimers();
});

function gauges() {
  const snapshot = new HealthSnapshot({ heartbeatTimeoutMs: 5000 });
  const live = { inFlight: 2, websocket: 3, sse: 1, http2: 0 };
  const sampled = new SampledGauges(snapshot, () => live.inFlight, () => ({ websocket: live.websocket, sse: live.sse, http2: live.http2 }));
  const open = () => [snapshot.longLivedOpen('websocket'), snapshot.longLivedOpen('sse'), snapshot.longLivedOpen('http2')];
  return { snapshot, live, sampled, open };
}

describe('the sampled gauges', () => {
  it('sample in flight and long-lived connections at once, then once a second while ready', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const { snapshot, live, sampled, open } = gauges();
    const stop = sampled.sample();
    expect([snapshot.inFlight, ...open()]).toEqual([2, 3, 1, 0]);
    live.inFlight = 5;
    live.websocket = 1;
    vi.advanceTimersByTime(999);
    expect([snapshot.inFlight, ...open()]).toEqual([2, 3, 1, 0]);
    vi.advanceTimersByTime(1);
    expect([snapshot.inFlight, ...open()]).toEqual([5, 1, 1, 0]);
    // Read directly, they are counted now, not sampled.
    live.inFlight = 7;
    expect([sampled.inFlight, sampled.longLivedOpen.websocket]).toEqual([7, 1]);
    stop();
    live.websocket = 9;
    vi.advanceTimersByTime(5000);
    expect(open()[0]).toBe(1);
  });

  it('once the drain begins, leave in flight to the exact count and sample long-lived connections every 100 ms', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const { snapshot, live, sampled, open } = gauges();
    sampled.sample();
    sampled.countExactly();
    expect(snapshot.inFlight).toBe(0);
    snapshot.addInFlight(1);
    live.inFlight = 40;
    live.websocket = 2;
    vi.advanceTimersByTime(100);
    expect([snapshot.inFlight, sampled.inFlight, ...open()]).toEqual([1, 1, 2, 1, 0]);
    live.websocket = 0;
    live.sse = 0;
    vi.advanceTimersByTime(100);
    expect(open()).toEqual([0, 0, 0]);
  });

  it('sample nothing unless metrics are served (sample() never called)', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const { snapshot, sampled, open } = gauges();
    sampled.countExactly();
    vi.advanceTimersByTime(10_000);
    expect([snapshot.inFlight, ...open()]).toEqual([0, 0, 0, 0]);
  });
});
