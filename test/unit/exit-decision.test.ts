/**
 * How the process leaves, from source: the exit-code table and the shutdown's decision of the exit
 * kind and reason for every way it can end. Pure functions: no process, no timers, milliseconds.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../packages/lifecycle/src/defaults.js';
import { exitFor, failureAfterCrash, failureOnBegin, type Failure } from '../../packages/lifecycle/src/exit-decision.js';
import { exitCodeFor } from '../../packages/lifecycle/src/exit.js';

const codes = { ...DEFAULTS.exitCodes };
const warmupFailed: Failure = { kind: 'warmupFailed', reason: 'warmup "cache" failed: cache unreachable' };
const crash: Failure = { kind: 'crash', reason: 'uncaughtException: boom' };

describe('the exit-code table', () => {
  it('maps each kind to its code: 0, 70, 75, 124', () => {
    expect(exitCodeFor(codes, 'clean')).toBe(0);
    expect(exitCodeFor(codes, 'crash')).toBe(70);
    expect(exitCodeFor(codes, 'warmupFailed')).toBe(75);
    expect(exitCodeFor(codes, 'shutdownTimeout')).toBe(124);
  });

  it('adds the signal number to forcedBase for a forced exit: 143 for SIGTERM, 130 for SIGINT', () => {
    expect(exitCodeFor(codes, 'forced', 'SIGTERM')).toBe(143);
    expect(exitCodeFor(codes, 'forced', 'SIGINT')).toBe(130);
    expect(exitCodeFor(codes, 'forced')).toBe(128);
  });

  it('uses the configured codes', () => {
    const custom = { clean: 1, crash: 2, warmupFailed: 3, shutdownTimeout: 4, forcedBase: 100 };
    expect([exitCodeFor(custom, 'clean'), exitCodeFor(custom, 'crash'), exitCodeFor(custom, 'warmupFailed'), exitCodeFor(custom, 'shutdownTimeout')]).toEqual([1, 2, 3, 4]);
    expect(exitCodeFor(custom, 'forced', 'SIGTERM')).toBe(115);
  });
});

describe('what the pod is dying of', () => {
  it('is nothing for a graceful shutdown, and the cause for a failing one', () => {
    expect(failureOnBegin(undefined, 'stop', 'SIGTERM received')).toBeUndefined();
    expect(failureOnBegin(undefined, 'warmupFailed', warmupFailed.reason)).toEqual(warmupFailed);
    expect(failureOnBegin(undefined, 'crash', crash.reason)).toEqual(crash);
  });

  it('stays the first failure when another shutdown cause joins it', () => {
    expect(failureOnBegin(crash, 'warmupFailed', 'warmup "cache" failed: aborted')).toBe(crash);
    expect(failureOnBegin(warmupFailed, 'stop', 'SIGTERM received')).toBe(warmupFailed);
  });

  it('becomes a crash when a crash comes first or during a graceful shutdown', () => {
    expect(failureAfterCrash(undefined, 'uncaughtException: boom')).toEqual(crash);
  });

  it('stays a failed start when its fast drain crashes, with the crash added to the reason', () => {
    expect(failureAfterCrash(warmupFailed, 'uncaughtException: pool broke')).toEqual({
      kind: 'warmupFailed',
      reason: 'warmup "cache" failed: cache unreachable; then: uncaughtException: pool broke',
    });
  });

  it('stays the first crash when a second one comes during its fast drain', () => {
    expect(failureAfterCrash(crash, 'unhandledRejection: again')).toBe(crash);
  });
});

describe('the exit kind and reason, decided once', () => {
  it('is clean with the shutdown reason when every step is done and nothing failed', () => {
    expect(exitFor(undefined, { by: 'done', reason: 'SIGTERM received' })).toEqual({ kind: 'clean', reason: 'SIGTERM received' });
  });

  it("is the failure's, whoever ends the sequence", () => {
    for (const failure of [crash, warmupFailed]) {
      expect(exitFor(failure, { by: 'done', reason: 'x' })).toEqual({ kind: failure.kind, reason: failure.reason });
      expect(exitFor(failure, { by: 'deadline', what: 'fast shutdown', ms: 5000, cut: 2 })).toEqual({
        kind: failure.kind,
        reason: `${failure.reason}; fast shutdown exceeded 5000 ms; 2 connection(s) cut`,
      });
      expect(exitFor(failure, { by: 'second-signal', signal: 'SIGTERM' })).toEqual({
        kind: failure.kind,
        reason: `${failure.reason}; exit forced by a second signal (SIGTERM)`,
      });
      expect(exitFor(failure, { by: 'error', error: 'x broke' })).toEqual({ kind: failure.kind, reason: `${failure.reason}; then: x broke` });
    }
  });

  it('is a timeout at the deadline, forced (with its signal) by a second signal, and a crash when the sequence itself throws', () => {
    expect(exitFor(undefined, { by: 'deadline', what: 'shutdown', ms: 25000, cut: 3 })).toEqual({
      kind: 'shutdownTimeout',
      reason: 'shutdown exceeded 25000 ms; 3 connection(s) cut',
    });
    expect(exitFor(undefined, { by: 'second-signal', signal: 'SIGINT' })).toEqual({ kind: 'forced', reason: 'second SIGINT during shutdown', signal: 'SIGINT' });
    expect(exitFor(undefined, { by: 'error', error: 'x broke' })).toEqual({ kind: 'crash', reason: 'shutdown failed: x broke' });
  });

  it('gives 75 for a failed start whose fast drain crashed, in every ending', () => {
    const failure = failureAfterCrash(failureOnBegin(undefined, 'warmupFailed', warmupFailed.reason), 'uncaughtException: pool broke');
    for (const ending of [{ by: 'done', reason: '' }, { by: 'deadline', what: 'fast shutdown', ms: 1, cut: 0 }, { by: 'second-signal', signal: 'SIGTERM' }] as const) {
      expect(exitCodeFor(codes, exitFor(failure, ending).kind)).toBe(75);
    }
  });
});
