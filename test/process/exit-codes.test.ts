/**
 * Exit codes of a real, forked service, and the reason written to the termination message file
 * (`kubectl describe pod` shows it): 70 crash, 75 warmup failed, 128+n forced by a second signal.
 * (0 and 124 are covered with the drain in shutdown.test.ts.)
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { get, waitFor } from '../support/http.js';
import { createTracker, fetchOnce, isExit, isFixture, isState, ms, output } from './helpers.js';

const t = createTracker();
afterEach(() => t.cleanup());

function messageFile(): string {
  return join(t.tempDir(), 'termination-log');
}

describe('a second signal during shutdown', () => {
  it.each([
    { first: 'SIGTERM', second: 'SIGTERM', code: 143 },
    { first: 'SIGINT', second: 'SIGINT', code: 130 },
    { first: 'SIGTERM', second: 'SIGINT', code: 130 },
  ] as const)('$first then $second exits $code at once, without waiting for in-flight work', async ({ first, second, code }) => {
    const path = messageFile();
    const { f, mainPort } = await t.start({ TERMINATION_MESSAGE_PATH: path, SHUTDOWN_TIMEOUT_MS: '20000' });
    const stuck = fetchOnce(mainPort, '/slow?ms=15000').then(
      () => 'answered',
      (error: NodeJS.ErrnoException) => error.code ?? error.message,
    );
    await f.waitForLine((l) => l.fixture === 'request' && l.path === '/slow');
    f.kill(first);
    await f.waitForLine(isState('stopping'));
    const secondAt = performance.now();
    f.kill(second);
    const exit = await f.exited;
    console.log(`[measure] second ${second} → exit ${exit.code}: ${ms(exit.at - secondAt)}`);
    expect(exit.code, output(f)).toBe(code);
    expect(exit.at - secondAt).toBeLessThan(1000);
    expect(await stuck).toBe('ECONNRESET');
    expect(f.lines.find(isExit)).toMatchObject({ code, kind: 'forced' });
    expect(readFileSync(path, 'utf8')).toContain(`second ${second} during shutdown (exit ${code})`);
  });
});

describe('a crash', () => {
  it('exits 70 on an uncaught exception, with readiness and liveness 503 while the fast drain finishes in-flight work', async () => {
    const path = messageFile();
    const { f, mainPort, probePort } = await t.start({ TERMINATION_MESSAGE_PATH: path });
    const inFlight = fetchOnce(mainPort, '/slow?ms=1500');
    await f.waitForLine((l) => l.fixture === 'request' && l.path === '/slow');
    expect((await fetchOnce(mainPort, '/crash')).status).toBe(200);
    await f.waitForLine(isState('failed'));
    expect((await get(probePort, '/readyz')).status).toBe(503);
    expect((await get(probePort, '/livez')).status).toBe(503);
    const response = await inFlight;
    const exit = await f.exited;
    expect(response.status).toBe(200);
    expect(exit.code, output(f)).toBe(70);
    expect(exit.at).toBeGreaterThanOrEqual(response.at);
    expect(f.lines.find((l) => l.event === 'crash')).toMatchObject({ level: 'fatal', origin: 'uncaughtException' });
    expect(f.lines.find(isExit)).toMatchObject({ code: 70, kind: 'crash' });
    expect(readFileSync(path, 'utf8')).toBe('uncaughtException: boom (exit 70)\n');
  });

  it('exits 70 on an unhandled rejection', async () => {
    const path = messageFile();
    const { f, mainPort } = await t.start({ TERMINATION_MESSAGE_PATH: path });
    await fetchOnce(mainPort, '/reject');
    const exit = await f.exited;
    expect(exit.code, output(f)).toBe(70);
    expect(f.lines.find((l) => l.event === 'crash')).toMatchObject({ origin: 'unhandledRejection' });
    expect(readFileSync(path, 'utf8')).toBe('unhandledRejection: rejected boom (exit 70)\n');
  });

  it('still exits 70 (not 124) when a stuck request outlasts crashTimeoutMs', async () => {
    const path = messageFile();
    const { f, mainPort } = await t.start({ TERMINATION_MESSAGE_PATH: path, CRASH_TIMEOUT_MS: '500' });
    const stuck = fetchOnce(mainPort, '/slow?ms=60000').catch(() => 'cut');
    await f.waitForLine((l) => l.fixture === 'request' && l.path === '/slow');
    const crashAt = performance.now();
    await fetchOnce(mainPort, '/crash');
    const exit = await f.exited;
    console.log(`[measure] crash with a stuck request → exit 70 (crashTimeoutMs 500): ${ms(exit.at - crashAt)}`);
    expect(exit.code, output(f)).toBe(70);
    expect(exit.at - crashAt).toBeGreaterThanOrEqual(400);
    expect(exit.at - crashAt).toBeLessThan(2500);
    expect(await stuck).toBe('cut');
    expect(readFileSync(path, 'utf8')).toMatch(/^uncaughtException: boom; fast shutdown exceeded 500 ms; 1 connection\(s\) cut; held by: requests in flight \(1\): GET \/slow ≥\d+ ms; .* \(exit 70\)\n$/);
  });

  it('during a shutdown turns the exit code into 70', async () => {
    const { f, mainPort } = await t.start({ DRAIN_DELAY_MS: '1000' });
    f.kill('SIGTERM');
    await f.waitForLine(isState('draining'));
    // The main port still serves during the drain delay; this request crashes the process.
    await fetchOnce(mainPort, '/crash');
    const exit = await f.exited;
    expect(exit.code, output(f)).toBe(70);
    expect(f.lines.find(isExit)).toMatchObject({ code: 70, kind: 'crash' });
  });
});

describe('a warmup that does not succeed', () => {
  it('exits 75 when a warmup task throws, with the reason in the log and the termination message', async () => {
    const path = messageFile();
    const f = t.spawn({ WARMUP: 'fail', TERMINATION_MESSAGE_PATH: path });
    const exit = await f.exited;
    expect(exit.code, output(f)).toBe(75);
    const reason = 'warmup "cache" failed: cache unreachable';
    expect(f.lines.find(isExit)).toMatchObject({ level: 'error', code: 75, kind: 'warmupFailed', reason });
    expect(readFileSync(path, 'utf8')).toBe(`${reason} (exit 75)\n`);
    // It never claimed to be ready.
    expect(f.lines.some(isState('ready'))).toBe(false);
  });

  it('exits 75 when a warmup task outlasts its timeout, with the reason in the log and the termination message', async () => {
    const path = messageFile();
    const f = t.spawn({ WARMUP: 'hang', WARMUP_TIMEOUT_MS: '500', TERMINATION_MESSAGE_PATH: path });
    const exit = await f.exited;
    expect(exit.code, output(f)).toBe(75);
    const reason = 'warmup "cache" failed: warmup "cache" timed out after 500 ms';
    const exitLine = f.lines.find(isExit);
    expect(exitLine).toMatchObject({ code: 75, kind: 'warmupFailed' });
    // Followed by what held the start (test/process/forensics.test.ts).
    expect(String(exitLine!.reason)).toMatch(new RegExp(`^${reason}; held by: `));
    // Timed by the service's own clock (log times), so a busy test process cannot skew it.
    const took = Date.parse(exitLine!.time as string) - Date.parse(f.lines.find(isState('warming'))!.time as string);
    console.log(`[measure] warming → exit 75 with a hanging warmup (timeout 500 ms): ${ms(took)}`);
    expect(took).toBeGreaterThanOrEqual(450);
    expect(took).toBeLessThan(2500);
    expect(readFileSync(path, 'utf8')).toBe(`${String(exitLine!.reason)} (exit 75)\n`);
  });

  it('keeps 75 when its fast drain crashes, and a SIGTERM meanwhile changes nothing: the crash is added to the reason', async () => {
    const path = messageFile();
    const f = t.spawn({ WARMUP: 'fail', HOOKS: 'pool:crash', HOOK_TIMEOUT_MS: '3000', TERMINATION_MESSAGE_PATH: path });
    await f.waitForLine((l) => l.event === 'crash');
    f.kill('SIGTERM');
    const exit = await f.exited;
    expect(exit.code, output(f)).toBe(75);
    const reason = 'warmup "cache" failed: cache unreachable; then: uncaughtException: pool broke';
    expect(f.lines.find(isExit)).toMatchObject({ code: 75, kind: 'warmupFailed', reason });
    expect(readFileSync(path, 'utf8')).toBe(`${reason} (exit 75)\n`);
    // The fast drain went on around the crash and the signal: the hook ran to its end.
    expect(f.lines.find((l) => l.fixture === 'hook-done' && l.name === 'pool')).toMatchObject({ ok: true });
  });

  it('exits 75 at once on a second signal during that crashed fast drain, with both failures in the reason', async () => {
    const path = messageFile();
    const f = t.spawn({ WARMUP: 'fail', HOOKS: 'pool:crash', HOOK_TIMEOUT_MS: '3000', TERMINATION_MESSAGE_PATH: path });
    await f.waitForLine((l) => l.event === 'crash');
    f.kill('SIGTERM');
    await f.waitForLine((l) => l.event === 'signal' && l.signal === 'SIGTERM');
    const secondAt = performance.now();
    f.kill('SIGTERM');
    const exit = await f.exited;
    expect(exit.code, output(f)).toBe(75);
    expect(exit.at - secondAt).toBeLessThan(800);
    const reason = 'warmup "cache" failed: cache unreachable; then: uncaughtException: pool broke; exit forced by a second signal (SIGTERM)';
    expect(f.lines.find(isExit)).toMatchObject({ code: 75, kind: 'warmupFailed', reason });
    expect(readFileSync(path, 'utf8')).toBe(`${reason} (exit 75)\n`);
    expect(f.lines.some((l) => l.fixture === 'hook-done')).toBe(false);
  });

  it('is abandoned by a SIGTERM during warmup: exit 0 at once, without waiting for the warmup', async () => {
    const path = messageFile();
    const f = t.spawn({ WARMUP_MS: '20000', TERMINATION_MESSAGE_PATH: path, DRAIN_DELAY_MS: '3000' });
    await f.waitForLine(isFixture('probes'));
    await waitFor(() => f.lines.some((l) => l.event === 'warmup'));
    const killedAt = performance.now();
    f.kill('SIGTERM');
    const exit = await f.exited;
    expect(exit.code, output(f)).toBe(0);
    // Never ready, so never in anybody's endpoints: no drain delay to sit out.
    expect(exit.at - killedAt).toBeLessThan(2000);
    expect(f.lines.some(isState('ready'))).toBe(false);
    expect(existsSync(path)).toBe(false);
  });
});
