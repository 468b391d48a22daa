/**
 * The configurable parts of leaving: which signals start the shutdown, and which exit code each
 * way of leaving reports. Real signals, sent to this very process (the lifecycle's exit is
 * captured, so the test runner survives).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../support/http.js';
import { stopAll, testLifecycle } from './helpers.js';

afterEach(() => stopAll());

describe('configurable signals', () => {
  it('starts the shutdown on a signal named in `signals`, and on no other', async () => {
    const t = testLifecycle({ signals: ['SIGUSR2'] });
    await t.lifecycle.start();
    const sigtermBefore = process.listenerCount('SIGTERM');
    expect(process.listenerCount('SIGUSR2')).toBeGreaterThan(0);
    process.kill(process.pid, 'SIGUSR2');
    await waitFor(() => t.exits.length === 1);
    expect(t.exits[0]).toMatchObject({ code: 0 });
    expect(t.exits[0]?.reason).toContain('SIGUSR2');
    // Only the configured signal was ever listened to, and every listener is gone after the exit.
    expect(sigtermBefore).toBe(process.listenerCount('SIGTERM'));
    expect(process.listenerCount('SIGUSR2')).toBe(0);
  });

  it('exits with forcedBase + n when the configured signal comes twice', async () => {
    const t = testLifecycle({ signals: ['SIGUSR2'], drainDelayMs: 2000, shutdownTimeoutMs: 5000, exitCodes: { forcedBase: 100 } });
    await t.lifecycle.start();
    // The service is ready, so the first signal waits out the drain delay; the second cuts it short.
    process.kill(process.pid, 'SIGUSR2');
    await waitFor(() => t.lifecycle.state === 'draining');
    process.kill(process.pid, 'SIGUSR2');
    await waitFor(() => t.exits.length === 1);
    expect(t.exits[0]?.code).toBe(100 + constants.signals.SIGUSR2);
  });
});

describe('configurable exit codes', () => {
  it('reports the overridden shutdown-timeout code and writes it to the termination message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'podkit-codes-'));
    const path = join(dir, 'termination-log');
    const t = testLifecycle({ shutdownTimeoutMs: 300, exitCodes: { shutdownTimeout: 99 }, terminationMessagePath: path });
    t.lifecycle.onShutdown('stuck', () => new Promise(() => {}), { timeoutMs: 10_000 });
    await t.lifecycle.start();
    const result = await t.lifecycle.stop();
    expect(result).toMatchObject({ code: 99, kind: 'shutdownTimeout' });
    expect(readFileSync(path, 'utf8')).toContain('(exit 99)');
  });

  it('reports the overridden warmup code when a warmup fails', async () => {
    const t = testLifecycle({ exitCodes: { warmupFailed: 3 } });
    t.lifecycle.warmup('cache', () => Promise.reject(new Error('cache unreachable')));
    await expect(t.lifecycle.start()).rejects.toMatchObject({ code: 'ERR_PODKIT_WARMUP_FAILED' });
    expect(t.exits).toEqual([{ code: 3, reason: expect.stringContaining('cache unreachable') }]);
  });

  it('reports the overridden clean code', async () => {
    const t = testLifecycle({ exitCodes: { clean: 5 } });
    await t.lifecycle.start();
    expect(await t.lifecycle.stop()).toMatchObject({ code: 5, kind: 'clean' });
  });
});
