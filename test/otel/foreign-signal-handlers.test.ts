/**
 * Signal listeners podkit did not add (OpenTelemetry's SDK shutdown is the common one), in-process
 * with SIGUSR2 so the test runner's own SIGTERM/SIGINT handling is never involved: found at start(),
 * warned about, left alone, or taken and run after the shutdown hooks.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createLifecycle } from '@podkit/lifecycle';
import { stopAll, testLifecycle } from '../in-process/helpers.js';

const SIGNAL = 'SIGUSR2';
const added: Array<(...args: never[]) => unknown> = [];

/** A listener "someone else" adds, removed after the test whatever happened to it. */
function foreign(listener: (signal: NodeJS.Signals) => unknown): (signal: NodeJS.Signals) => unknown {
  added.push(listener);
  process.on(SIGNAL, listener);
  return listener;
}

afterEach(async () => {
  await stopAll();
  for (const listener of added.splice(0)) process.off(SIGNAL, listener as () => void);
});

const foreignLines = (logs: ReturnType<typeof testLifecycle>['logs']) => logs.filter((l) => l.obj.foreignSignalHandlers !== undefined);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('foreignSignalHandlers', () => {
  it("'warn' (the default) logs one line naming how many listeners and the option, and leaves them in place", async () => {
    const listener = foreign(() => {});
    foreign(() => {});
    const { lifecycle, logs } = testLifecycle({ probes: false, signals: [SIGNAL] });
    await lifecycle.start();
    const lines = foreignLines(logs);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', obj: { event: 'config', foreignSignalHandlers: 'warn', listeners: 2, signals: [SIGNAL] } });
    expect(lines[0]!.msg).toMatch(/^2 SIGUSR2 listener\(s\) that podkit did not add will run .* at the start of the drain.*foreignSignalHandlers: 'defer'/);
    expect(process.listeners(SIGNAL)).toContain(listener);
  });

  it("says nothing when every listener is podkit's own, another lifecycle's included", async () => {
    const one = testLifecycle({ probes: false, signals: [SIGNAL] });
    await one.lifecycle.start();
    const two = testLifecycle({ probes: false, signals: [SIGNAL] });
    await two.lifecycle.start();
    expect(foreignLines(one.logs)).toEqual([]);
    expect(foreignLines(two.logs)).toEqual([]);
  });

  it("'leave' leaves them and says nothing", async () => {
    const listener = foreign(() => {});
    const { lifecycle, logs } = testLifecycle({ probes: false, signals: [SIGNAL], foreignSignalHandlers: 'leave' });
    await lifecycle.start();
    expect(foreignLines(logs)).toEqual([]);
    expect(process.listeners(SIGNAL)).toContain(listener);
  });

  it("'defer' takes them at start() and, on the signal, awaits them after the hooks and before the exit", async () => {
    const order: string[] = [];
    const received: NodeJS.Signals[] = [];
    const listener = foreign(async (signal) => {
      received.push(signal);
      order.push('foreign began');
      await sleep(150);
      order.push('foreign flushed');
    });
    const { lifecycle, logs, exits } = testLifecycle({ probes: false, signals: [SIGNAL], foreignSignalHandlers: 'defer' });
    lifecycle.onShutdown('database', () => void order.push('hook'));
    lifecycle.on('exit', () => void order.push('exit'));
    await lifecycle.start();
    expect(process.listeners(SIGNAL)).not.toContain(listener);
    expect(foreignLines(logs)).toEqual([
      expect.objectContaining({ level: 'info', obj: expect.objectContaining({ foreignSignalHandlers: 'defer', listeners: 1 }) }),
    ]);

    process.kill(process.pid, SIGNAL);
    await expect.poll(() => exits.length, { timeout: 5000 }).toBe(1);
    expect(order).toEqual(['hook', 'foreign began', 'foreign flushed', 'exit']);
    expect(received).toEqual([SIGNAL]);
    expect(exits[0]!.code).toBe(0);
  });

  it("'defer' runs them after stop() too, with the first of `signals`, and puts them back at the exit", async () => {
    const received: NodeJS.Signals[] = [];
    const listener = foreign((signal) => void received.push(signal));
    const { lifecycle } = testLifecycle({ probes: false, signals: [SIGNAL, 'SIGUSR1'], foreignSignalHandlers: 'defer' });
    await lifecycle.start();
    expect(process.listeners(SIGNAL)).not.toContain(listener);
    const result = await lifecycle.stop('deploy');
    expect(result.code).toBe(0);
    expect(received).toEqual([SIGNAL]);
    expect(process.listeners(SIGNAL)).toContain(listener);
  });

  it("'defer' abandons a listener that hangs past hooks.timeoutMs and logs one that throws; the exit stays clean", async () => {
    foreign(() => new Promise(() => {}));
    foreign(() => {
      throw new Error('exporter gone');
    });
    const { lifecycle, logs } = testLifecycle({ probes: false, signals: [SIGNAL], foreignSignalHandlers: 'defer', hooks: { timeoutMs: 300 } });
    await lifecycle.start();
    const begun = performance.now();
    const result = await lifecycle.stop();
    expect(result).toMatchObject({ code: 0, kind: 'clean' });
    expect(performance.now() - begun).toBeGreaterThanOrEqual(250);
    expect(performance.now() - begun).toBeLessThan(5000);
    const failures = logs.filter((l) => l.obj.event === 'foreign-listener').map((l) => l.obj.error);
    expect(failures.sort()).toEqual(['a foreign SIGUSR2 listener timed out after 300 ms', 'exporter gone']);
  });

  it('rejects any other value, naming the option', () => {
    expect(() => createLifecycle({ foreignSignalHandlers: 'later' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_PODKIT_INVALID_OPTION', option: 'foreignSignalHandlers', value: 'later' }),
    );
  });
});
