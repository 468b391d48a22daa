/**
 * Which signal forces the exit, and how a start that cannot open the main port ends, in real forked
 * services with real signals. The first SIGTERM during a shutdown that a crash, a failed start or
 * stop() began is the kubelet asking for what is already happening: it must not replace the code
 * and the reason the pod died with (70, 75) by 143. A server that never listens must fail the
 * start (exit 75, with the reason) instead of keeping the pod starting forever.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnFixture, type Fixture } from '../support/process.js';
import { createTracker, fetchOnce, isExit, isFixture, isState, ms, output } from './helpers.js';

const START_SERVICE = new URL('../fixtures/start-service.ts', import.meta.url);

const t = createTracker();
const extra: Fixture[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const f of extra.splice(0)) f.kill('SIGKILL');
  for (const server of servers.splice(0)) server.close();
  await t.cleanup();
});

function messageFile(): string {
  return join(t.tempDir(), 'termination-log');
}

/** Resolves with the exit, or rejects when the process is still running after `ms` (the bug this file is about: waiting forever). */
async function exitWithin(f: Fixture, ms: number): Promise<{ code: number | null; at: number }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running after ${ms} ms; output:\n${output(f)}`)), ms);
  });
  try {
    return await Promise.race([f.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

function startService(env: Record<string, string>): Fixture {
  const f = spawnFixture(START_SERVICE, env);
  extra.push(f);
  return f;
}

// A shutdown hook that hangs until its 3 s timeout keeps the fast drain going long enough to signal into it.
const SLOW_HOOK = { HOOKS: 'slow:hang', HOOK_TIMEOUT_MS: '3000', CRASH_TIMEOUT_MS: '10000' };

describe('a first signal during a shutdown that no signal began', () => {
  it('keeps exit 75 and the warmup reason when SIGTERM arrives during the fast drain of a failed warmup', async () => {
    const path = messageFile();
    const f = t.spawn({ ...SLOW_HOOK, WARMUP: 'fail', TERMINATION_MESSAGE_PATH: path });
    await f.waitForLine(isState('failed'));
    await f.waitForLine(isFixture('hook'));
    f.kill('SIGTERM');
    const exit = await f.exited;
    expect(exit.code, output(f)).toBe(75);
    const reason = 'warmup "cache" failed: cache unreachable';
    expect(f.lines.find(isExit)).toMatchObject({ code: 75, kind: 'warmupFailed', reason });
    expect(readFileSync(path, 'utf8')).toBe(`${reason} (exit 75)\n`);
    // The signal is noted, and the hook was let finish (its timeout), not cut.
    expect(f.lines.some((l) => l.event === 'signal' && l.signal === 'SIGTERM')).toBe(true);
    expect(f.lines.find((l) => l.fixture === 'hook-done')).toMatchObject({ name: 'slow', ok: false });
  });

  it('keeps exit 70 and the crash reason when SIGTERM arrives during the fast drain after a crash', async () => {
    const path = messageFile();
    const { f, mainPort } = await t.start({ ...SLOW_HOOK, TERMINATION_MESSAGE_PATH: path });
    await fetchOnce(mainPort, '/crash');
    await f.waitForLine(isFixture('hook'));
    f.kill('SIGTERM');
    const exit = await f.exited;
    expect(exit.code, output(f)).toBe(70);
    expect(f.lines.find(isExit)).toMatchObject({ code: 70, kind: 'crash' });
    expect(readFileSync(path, 'utf8')).toBe('uncaughtException: boom (exit 70)\n');
    expect(f.lines.find((l) => l.fixture === 'hook-done')).toMatchObject({ name: 'slow', ok: false });
  });

  it('lets a shutdown that stop() began finish (exit 0) when the first SIGTERM arrives during it', async () => {
    const { f, mainPort } = await t.start(SLOW_HOOK);
    await fetchOnce(mainPort, '/stop');
    await f.waitForLine(isFixture('hook'));
    f.kill('SIGTERM');
    const exit = await f.exited;
    expect(exit.code, output(f)).toBe(0);
    expect(f.lines.find(isExit)).toMatchObject({ code: 0, kind: 'clean', reason: 'stop() called by the app' });
  });
});

describe('a second signal', () => {
  it('after stop() and a first SIGTERM forces the exit with 143', async () => {
    const { f, mainPort } = await t.start({ ...SLOW_HOOK, HOOK_TIMEOUT_MS: '20000', SHUTDOWN_TIMEOUT_MS: '30000' });
    await fetchOnce(mainPort, '/stop');
    await f.waitForLine(isFixture('hook'));
    f.kill('SIGTERM');
    await f.waitForLine((l) => l.event === 'signal' && l.signal === 'SIGTERM');
    const secondAt = performance.now();
    f.kill('SIGTERM');
    const exit = await f.exited;
    expect(exit.code, output(f)).toBe(143);
    expect(exit.at - secondAt).toBeLessThan(2000);
    expect(f.lines.find(isExit)).toMatchObject({ code: 143, kind: 'forced' });
  });

  it('during a crash\'s fast drain exits at once, still with 70 and the crash reason', async () => {
    const path = messageFile();
    const { f, mainPort } = await t.start({ ...SLOW_HOOK, HOOK_TIMEOUT_MS: '20000', TERMINATION_MESSAGE_PATH: path });
    await fetchOnce(mainPort, '/crash');
    await f.waitForLine(isFixture('hook'));
    f.kill('SIGTERM');
    await f.waitForLine((l) => l.event === 'signal' && l.signal === 'SIGTERM');
    const secondAt = performance.now();
    f.kill('SIGINT');
    const exit = await f.exited;
    expect(exit.code, output(f)).toBe(70);
    expect(exit.at - secondAt).toBeLessThan(2000);
    expect(readFileSync(path, 'utf8')).toBe('uncaughtException: boom; exit forced by a second signal (SIGINT) (exit 70)\n');
  });
});

describe('start() with a main server that does not listen', () => {
  it('fails after listenTimeoutMs with ERR_PODKIT_LISTEN_TIMEOUT, exit 75 and the option named in the termination message', async () => {
    const path = messageFile();
    const f = startService({ START: 'silent', LISTEN_TIMEOUT_MS: '500', TERMINATION_MESSAGE_PATH: path });
    await f.waitForLine(isState('warming'));
    const exit = await exitWithin(f, 8000);
    expect(exit.code, output(f)).toBe(75);
    const exitLine = f.lines.find(isExit);
    expect(exitLine).toMatchObject({ code: 75, kind: 'warmupFailed' });
    expect(exitLine?.reason).toContain('not listening within 500 ms (listenTimeoutMs)');
    // Timed by the service's own clock (log times), so a busy test process cannot skew it.
    const took = Date.parse(exitLine!.time as string) - Date.parse(f.lines.find(isState('warming'))!.time as string);
    console.log(`[measure] warming → exit 75 with a server that never listens (listenTimeoutMs 500): ${ms(took)}`);
    expect(took).toBeGreaterThanOrEqual(450);
    expect(readFileSync(path, 'utf8')).toMatch(/^the main server was not listening within 500 ms \(listenTimeoutMs\).* \(exit 75\)\n$/);
    expect(f.lines.some(isState('ready'))).toBe(false);
  });

  it('fails with ERR_PODKIT_LISTEN_FAILED and exit 75 when the port is taken', async () => {
    const holder = createServer();
    servers.push(holder);
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as AddressInfo).port;
    const path = messageFile();
    const f = startService({ START: 'taken', MAIN_PORT: String(port), TERMINATION_MESSAGE_PATH: path });
    const exit = await exitWithin(f, 8000);
    expect(exit.code, output(f)).toBe(75);
    expect(readFileSync(path, 'utf8')).toMatch(/^the main server could not listen: .*EADDRINUSE.* \(exit 75\)\n$/);
  });
});

describe('signals: false', () => {
  it('warns at start-up, installs no handler, and leaves SIGTERM to the app, whose stop() exits 0', async () => {
    const f = startService({ SIGNALS: 'false' });
    await f.waitForLine(isFixture('listening'));
    const warning = f.lines.find((l) => l.event === 'config' && l.signals === false);
    expect(warning, output(f)).toMatchObject({ level: 'warn' });
    expect(warning?.msg).toContain('Call lifecycle.stop() when SIGTERM arrives');
    f.kill('SIGTERM');
    const exit = await exitWithin(f, 8000);
    expect(exit.code, output(f)).toBe(0);
    expect(f.lines.find(isExit)).toMatchObject({ code: 0, reason: 'SIGTERM handled by the app' });
    // podkit never saw the signal: the app's handler was the only one.
    expect(f.lines.some((l) => l.event === 'signal')).toBe(false);
  });
});
