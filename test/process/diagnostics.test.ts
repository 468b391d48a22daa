/**
 * Guarded diagnostics in a real, forked service, in both listener threads: a diagnostic never holds
 * the process (SIGTERM during a 30 s CPU profile still exits 0 at once), a heap snapshot of a real
 * process parses, and the token never reaches the output.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { get } from '../support/http.js';
import { createTracker, fetchOnce, isExit, ms, output } from './helpers.js';

const t = createTracker();
afterEach(() => t.cleanup());

const TOKEN = 'process-test-diagnostics-token-4f1c';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const env = (thread: string) => ({ DIAGNOSTICS_TOKEN_ENV: 'PODKIT_TEST_TOKEN', PODKIT_TEST_TOKEN: TOKEN, PROBE_THREAD: thread });

describe.each(['worker', 'main'] as const)('diagnostics in a forked service, probe listener on the %s thread', (thread) => {
  it('exits 0 at once on SIGTERM while a 30 s CPU profile runs: a diagnostic never holds the process', async () => {
    const { f, probePort } = await t.start(env(thread));
    const profile = get(probePort, '/debug/cpu-profile?seconds=30', { headers: AUTH, timeoutMs: 40_000 }).then(
      (r) => r.status,
      (error: NodeJS.ErrnoException) => error.code ?? error.message,
    );
    let settled = false;
    void profile.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 500));
    // Still profiling (enabled, authenticated, running) when the signal comes.
    expect(settled).toBe(false);
    const killedAt = performance.now();
    f.kill('SIGTERM');
    const exit = await f.exited;
    console.log(`[measure] SIGTERM during a 30 s CPU profile (${thread}) → exit: ${ms(exit.at - killedAt)}`);
    expect(exit.code, output(f)).toBe(0);
    expect(exit.at - killedAt).toBeLessThan(3000);
    expect(f.lines.find(isExit)).toMatchObject({ code: 0 });
    // Cut with the process, never answered with a half profile.
    expect(await profile).not.toBe(200);
    expect(output(f)).not.toContain(TOKEN);
  });

  it('serves a heap snapshot of the running service that parses, then leaves cleanly', async () => {
    const { f, probePort, mainPort } = await t.start(env(thread));
    expect((await fetchOnce(mainPort, '/')).status).toBe(200);
    const refused = await get(probePort, '/debug/heap-snapshot');
    expect(refused.status).toBe(401);
    const began = performance.now();
    const response = await get(probePort, '/debug/heap-snapshot', { headers: AUTH, timeoutMs: 60_000 });
    console.log(`[measure] heap snapshot of the basic service (${thread}): ${(Buffer.byteLength(response.body) / 2 ** 20).toFixed(1)} MiB in ${ms(performance.now() - began)}`);
    expect(response.status, response.body.slice(0, 200)).toBe(200);
    const snapshot = JSON.parse(response.body) as { snapshot: { node_count: number } };
    expect(snapshot.snapshot.node_count).toBeGreaterThan(1000);
    await f.waitForLine((l) => l.event === 'diagnostic' && l.status === 200);
    expect(f.lines.find((l) => l.event === 'diagnostic' && l.status === 401)).toMatchObject({ level: 'warn', path: '/debug/heap-snapshot' });
    f.kill('SIGTERM');
    expect((await f.exited).code, output(f)).toBe(0);
    expect(output(f)).not.toContain(TOKEN);
  });
});
