/**
 * retry(): the backoff helper warmup tasks wrap themselves in. Short real delays (a few ms), so
 * the waits measured are the ones a service would see, scaled down.
 */
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, RETRY_DEFAULTS, retry, type RetryOptions } from '@podkit/lifecycle';

const refused = (n: number) => Object.assign(new Error(`ECONNREFUSED (attempt ${n})`), { code: 'ECONNREFUSED' });

/** A task that fails `failures` times, then returns "connected"; it records when each attempt began. */
function flaky(failures: number) {
  const startedAt: number[] = [];
  const task = async (_signal: AbortSignal) => {
    startedAt.push(performance.now());
    if (startedAt.length <= failures) throw refused(startedAt.length);
    return 'connected';
  };
  return { task, startedAt };
}

describe('retry()', () => {
  it('returns the first success, after as many attempts as it took', async () => {
    const { task, startedAt } = flaky(2);
    const result = await retry(task, { attempts: 5, initialDelayMs: 1 })(new AbortController().signal);
    expect(result).toBe('connected');
    expect(startedAt).toHaveLength(3);
  });

  it('gives up after `attempts` tries in all and surfaces the last error', async () => {
    const { task, startedAt } = flaky(100);
    await expect(retry(task, { attempts: 3, initialDelayMs: 1 })(new AbortController().signal)).rejects.toThrow('ECONNREFUSED (attempt 3)');
    expect(startedAt).toHaveLength(3);
  });

  it('does not retry at all with attempts: 1', async () => {
    const { task, startedAt } = flaky(100);
    await expect(retry(task, { attempts: 1 })(new AbortController().signal)).rejects.toThrow('attempt 1');
    expect(startedAt).toHaveLength(1);
  });

  it('waits longer each time, by `factor`, up to maxDelayMs, and tells onRetry each wait', async () => {
    const { task, startedAt } = flaky(5);
    const waits: Array<[number, number]> = [];
    const options: RetryOptions = {
      attempts: 6,
      initialDelayMs: 10,
      factor: 2,
      maxDelayMs: 50,
      onRetry: (error, attempt, delayMs) => {
        expect(String(error)).toContain(`attempt ${attempt}`);
        waits.push([attempt, delayMs]);
      },
    };
    await retry(task, options)(new AbortController().signal);
    expect(waits).toEqual([
      [1, 10],
      [2, 20],
      [3, 40],
      [4, 50],
      [5, 50],
    ]);
    // The waits really happened (timers may fire a little late, never early).
    for (let i = 1; i < startedAt.length; i += 1) {
      expect(startedAt[i]! - startedAt[i - 1]!).toBeGreaterThanOrEqual(waits[i - 1]![1] - 2);
    }
  });

  it('never waits longer than maxDelayMs, even when initialDelayMs is larger', async () => {
    const waits: number[] = [];
    const { task } = flaky(2);
    await retry(task, { initialDelayMs: 1000, maxDelayMs: 5, onRetry: (_e, _a, ms) => waits.push(ms) })(new AbortController().signal);
    expect(waits).toEqual([5, 5]);
  });

  it('stops at once when its signal aborts during a wait, with the abort reason', async () => {
    const { task, startedAt } = flaky(100);
    const controller = new AbortController();
    const run = retry(task, { attempts: 10, initialDelayMs: 10_000 })(controller.signal);
    await new Promise((r) => setTimeout(r, 20));
    const begun = performance.now();
    controller.abort(new Error('warmup timed out'));
    await expect(run).rejects.toThrow('warmup timed out');
    expect(performance.now() - begun).toBeLessThan(100);
    expect(startedAt).toHaveLength(1);
  });

  it('does not start another attempt once the signal has aborted', async () => {
    const controller = new AbortController();
    let attempts = 0;
    const task = async () => {
      attempts += 1;
      controller.abort(new Error('shutting down'));
      throw refused(attempts);
    };
    await expect(retry(task, { attempts: 5, initialDelayMs: 1 })(controller.signal)).rejects.toThrow('attempt 1');
    expect(attempts).toBe(1);
  });

  it('passes its signal through to the task', async () => {
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    await retry(async (signal) => {
      seen = signal;
    })(controller.signal);
    expect(seen).toBe(controller.signal);
  });

  it('defaults to 5 attempts, 200 ms first wait, doubling, capped at 5 s', () => {
    expect(RETRY_DEFAULTS).toEqual({ attempts: 5, initialDelayMs: 200, maxDelayMs: 5000, factor: 2 });
  });

  it.each([
    [{ attempts: 0 }, 'retry.attempts', '0'],
    [{ attempts: 2.5 }, 'retry.attempts', '2.5'],
    [{ initialDelayMs: -1 }, 'retry.initialDelayMs', '-1'],
    [{ maxDelayMs: 1.5 }, 'retry.maxDelayMs', '1.5'],
    [{ factor: 0.5 }, 'retry.factor', '0.5'],
    [{ factor: Number.NaN }, 'retry.factor', 'NaN'],
    [{ factor: Number.POSITIVE_INFINITY }, 'retry.factor', 'Infinity'],
    [{ onRetry: 'log' }, 'retry.onRetry', '"log"'],
    [{ tries: 3 }, 'retry.tries', '3'],
    [null, 'retry', 'null'],
  ] as Array<[unknown, string, string]>)('rejects %j when it is created, naming %s', (options, option, shown) => {
    let thrown: unknown;
    try {
      retry(async () => 1, options as RetryOptions);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidOptionError);
    const error = thrown as InvalidOptionError;
    expect(error.code).toBe('ERR_PODKIT_INVALID_OPTION');
    expect(error.option).toBe(option);
    expect(error.message).toContain(`received ${shown}`);
  });

  it('rejects a task that is not a function', () => {
    expect(() => retry('connect' as never)).toThrow(InvalidOptionError);
  });
});
