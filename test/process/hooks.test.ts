/**
 * Shutdown hooks in a real, forked service: after traffic is drained, in reverse order of
 * registration, each bounded by its own timeout; a failing or hanging hook never stops the rest.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTracker, fetchOnce, indexOf, isExit, isState, lastIndexOf, output } from './helpers.js';

const t = createTracker();
afterEach(() => t.cleanup());

const hookStarted = (name: string) => (l: Record<string, unknown>) => l.fixture === 'hook' && l.name === name;

describe('shutdown hooks', () => {
  it('run in reverse order of registration, after the last in-flight response, then the process exits 0', async () => {
    const { f, mainPort } = await t.start({ HOOKS: 'database,cache,queue' });
    const inFlight = fetchOnce(mainPort, '/slow?ms=600');
    await f.waitForLine((l) => l.fixture === 'request' && l.path === '/slow');
    f.kill('SIGTERM');
    expect((await inFlight).status).toBe(200);
    const exit = await f.exited;
    expect(exit.code, output(f)).toBe(0);

    const started = f.lines.filter((l) => l.fixture === 'hook').map((l) => l.name);
    expect(started).toEqual(['queue', 'cache', 'database']);
    const done = f.lines.filter((l) => l.fixture === 'hook-done').map((l) => [l.name, l.ok]);
    expect(done).toEqual([['queue', true], ['cache', true], ['database', true]]);

    const stopping = indexOf(f.lines, isState('stopping'));
    const lastResponse = lastIndexOf(f.lines, (l) => l.fixture === 'response');
    const firstHook = indexOf(f.lines, hookStarted('queue'));
    const lastHook = indexOf(f.lines, hookStarted('database'));
    expect(stopping).toBeGreaterThanOrEqual(0);
    expect(stopping).toBeLessThan(lastResponse);
    expect(lastResponse).toBeLessThan(firstHook);
    expect(lastHook).toBeLessThan(indexOf(f.lines, isState('stopped')));
    expect(indexOf(f.lines, isState('stopped'))).toBeLessThan(indexOf(f.lines, isExit));
  });

  it('a throwing hook is logged and the later hooks still run; the exit is still 0', async () => {
    const { f } = await t.start({ HOOKS: 'first,broken:throw,last' });
    f.kill('SIGTERM');
    const exit = await f.exited;
    expect(exit.code, output(f)).toBe(0);
    expect(f.lines.filter((l) => l.fixture === 'hook').map((l) => l.name)).toEqual(['last', 'broken', 'first']);
    const failure = f.lines.find((l) => l.event === 'hook' && l.hook === 'broken');
    expect(failure).toMatchObject({ level: 'error', error: 'broken broke' });
    expect(indexOf(f.lines, (l) => l === failure)).toBeLessThan(indexOf(f.lines, hookStarted('first')));
    expect(f.lines.find(isExit)).toMatchObject({ code: 0, kind: 'clean' });
  });

  it('a hanging hook is abandoned at its timeout and the rest run; the exit is still 0', async () => {
    const { f } = await t.start({ HOOKS: 'first,stuck:hang,last', HOOK_TIMEOUT_MS: '400' });
    f.kill('SIGTERM');
    const exit = await f.exited;
    expect(exit.code, output(f)).toBe(0);
    expect(f.lines.filter((l) => l.fixture === 'hook').map((l) => l.name)).toEqual(['last', 'stuck', 'first']);
    const abandoned = f.lines.find((l) => l.event === 'hook' && l.hook === 'stuck');
    expect(abandoned).toMatchObject({ level: 'error', error: 'shutdown hook "stuck" timed out after 400 ms' });
    const stuckDone = f.lines.find((l) => l.fixture === 'hook-done' && l.name === 'stuck');
    expect(stuckDone).toMatchObject({ ok: false });
    expect(stuckDone!.durationMs as number).toBeGreaterThanOrEqual(350);
    expect(stuckDone!.durationMs as number).toBeLessThan(2000);
    // "first" began only once "stuck" was given up on, not in parallel with it.
    expect(indexOf(f.lines, (l) => l === stuckDone)).toBeLessThan(indexOf(f.lines, hookStarted('first')));
  });

  it('a hook that outlasts shutdownTimeoutMs ends the shutdown with exit 124', async () => {
    const { f } = await t.start({ HOOKS: 'stuck:hang', HOOK_TIMEOUT_MS: '5000', SHUTDOWN_TIMEOUT_MS: '800' });
    const killedAt = performance.now();
    f.kill('SIGTERM');
    const exit = await f.exited;
    expect(exit.code, output(f)).toBe(124);
    expect(exit.at - killedAt).toBeGreaterThanOrEqual(700);
    expect(exit.at - killedAt).toBeLessThan(2400);
  });
});
