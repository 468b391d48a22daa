/**
 * How long a graceful shutdown serves before it stops accepting, by what began it: the drain delay,
 * a keep-alive window after a preStop sleep, nothing for a service that never got traffic; and how
 * long a preStop call waits for its SIGTERM.
 */
import { describe, expect, it } from 'vitest';
import { drainDelayFor, KEEP_ALIVE_WINDOW_MS, PRESTOP_SIGNAL_WAIT_MS, preStopWaitMs } from '../../packages/lifecycle/src/drain-delay.js';

describe('drainDelayFor', () => {
  const config = { drainDelayMs: 5000, preStopSleepSeconds: 0 };

  it('is the drain delay for a signal, stop() and a preStop call', () => {
    expect(drainDelayFor(config, 'signal', true)).toBe(5000);
    expect(drainDelayFor(config, 'call', true)).toBe(5000);
    expect(drainDelayFor(config, 'preStop', true)).toBe(5000);
  });

  it('is only the keep-alive window for a signal after a preStop sleep, never more than the drain delay', () => {
    const slept = { drainDelayMs: 5000, preStopSleepSeconds: 5 };
    expect(drainDelayFor(slept, 'signal', true)).toBe(KEEP_ALIVE_WINDOW_MS);
    expect(drainDelayFor({ drainDelayMs: 300, preStopSleepSeconds: 5 }, 'signal', true)).toBe(300);
    expect(drainDelayFor({ drainDelayMs: 0, preStopSleepSeconds: 5 }, 'signal', true)).toBe(0);
    // stop() from code and a preStop call had no sleep before them.
    expect(drainDelayFor(slept, 'call', true)).toBe(5000);
    expect(drainDelayFor(slept, 'preStop', true)).toBe(5000);
  });

  it('is nothing for a service that never became ready', () => {
    for (const trigger of ['signal', 'call', 'preStop'] as const) expect(drainDelayFor(config, trigger, false)).toBe(0);
  });
});

describe('preStopWaitMs', () => {
  it('waits PRESTOP_SIGNAL_WAIT_MS, or half of the budget left when that is less', () => {
    expect(preStopWaitMs(20_000)).toBe(PRESTOP_SIGNAL_WAIT_MS);
    expect(preStopWaitMs(4000)).toBe(2000);
    expect(preStopWaitMs(-5)).toBe(0);
  });
});
