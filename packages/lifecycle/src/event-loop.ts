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
  const timer = setInterval(() => {
    const now = performance.now();
    // The mean delay of the sample, not its p99: one 300 ms blip (a GC pause, one slow request)
    // is the p99 of its second but barely moves the mean, while a loop that stays busy keeps it
    // high. A loop blocked outright shows up too: the monitor records the whole block as one delay.
    const meanMs = histogram.count > 0 ? histogram.mean / 1e6 : 0;
    histogram.reset();
    if (meanMs > options.maxDelayMs) stalledSince ??= now - SAMPLE_MS;
    else stalledSince = undefined;
    snapshot.eventLoopStalled = stalledSince !== undefined && now - stalledSince >= options.windowMs;
  }, SAMPLE_MS).unref();
  return () => {
    clearInterval(timer);
    histogram.disable();
  };
}
