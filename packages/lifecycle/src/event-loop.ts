/**
 * Optional liveness from the event loop: when the loop's delay stays above a threshold for a whole
 * window, the process is alive in name only, and `/livez` says so. A blip (a GC pause, one slow
 * request) never trips it: it takes every one-second sample in the window to be over.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { EventLoopOptions } from './options.js';
import type { HealthSnapshot } from './state.js';

const SAMPLE_MS = 1000;

export function startEventLoopMonitor(options: Required<EventLoopOptions>, snapshot: HealthSnapshot): () => void {
  const histogram = monitorEventLoopDelay({ resolution: 20 });
  histogram.enable();
  let stalledSince: number | undefined;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    // A loop blocked outright delays this very timer: count that gap too.
    const late = now - last - SAMPLE_MS;
    last = now;
    const p99 = Math.max(histogram.percentile(99) / 1e6, late);
    histogram.reset();
    if (p99 > options.maxDelayMs) stalledSince ??= now - SAMPLE_MS;
    else stalledSince = undefined;
    snapshot.eventLoopStalled = stalledSince !== undefined && now - stalledSince >= options.windowMs;
  }, SAMPLE_MS).unref();
  return () => {
    clearInterval(timer);
    histogram.disable();
  };
}
