/**
 * Optional warmups in a real, forked service: `warmup(name, fn, { required: false })` that throws
 * or times out is logged (redacted) and shown on /startupz and /metrics, and the service becomes
 * ready anyway and leaves with exit 0; a required one still exits 75.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { get } from '../support/http.js';
import { createTracker, isExit, isState, output } from './helpers.js';

const t = createTracker();
afterEach(() => t.cleanup());

const SECRET_ERROR = 'cache unreachable at redis://admin:hunter2@cache:6379';

describe('a required warmup', () => {
  it('that throws still exits 75, never ready', async () => {
    const f = t.spawn({ WARMUP: 'fail', WARMUP_REQUIRED: 'true', WARMUP_ERROR: SECRET_ERROR });
    const exit = await f.exited;
    expect(exit.code, output(f)).toBe(75);
    expect(f.lines.find(isExit)).toMatchObject({ code: 75, kind: 'warmupFailed', reason: 'warmup "cache" failed: cache unreachable at redis://***@cache:6379' });
    expect(f.lines.some(isState('ready'))).toBe(false);
    expect(output(f)).not.toContain('hunter2');
  });
});

describe.each(['worker', 'main'] as const)('an optional warmup, probe listener on the %s thread', (thread) => {
  it('that throws is logged redacted, shown on /startupz and /metrics, and the service becomes ready and exits 0', async () => {
    const { f, probePort } = await t.start({ WARMUP: 'fail', WARMUP_REQUIRED: 'false', WARMUP_ERROR: SECRET_ERROR, METRICS: '1', PROBE_THREAD: thread });
    const warned = f.lines.find((l) => l.event === 'warmup' && l.ok === false);
    expect(warned, output(f)).toMatchObject({ level: 'warn', warmup: 'cache', required: false, kind: 'error' });
    expect(warned!.msg).toBe('optional warmup "cache" failed: cache unreachable at redis://***@cache:6379; becoming ready without it');
    expect(f.lines.some(isState('ready'))).toBe(true);

    expect((await get(probePort, '/readyz')).status).toBe(200);
    const startup = await get(probePort, '/startupz?verbose');
    expect(startup.status).toBe(200);
    expect(startup.body).toContain('[-]cache failed (optional warmup, ignored): error');
    const json = await get(probePort, '/startupz', { headers: { accept: 'application/health+json' } });
    expect(json.status).toBe(200);
    expect(JSON.parse(json.body)).toEqual({ status: 'warn', state: 'ready', warmedUp: true, warmups: { cache: { status: 'fail', required: false, error: 'error' } } });
    expect((await get(probePort, '/metrics')).body).toContain('podkit_warmup_optional_failed{warmup="cache",kind="error"} 1');

    f.kill('SIGTERM');
    const exit = await f.exited;
    expect(exit.code, output(f)).toBe(0);
    expect(output(f)).not.toContain('hunter2');
  });
});

describe('an optional warmup that times out', () => {
  it('is abandoned at its timeout with the kind "timeout", and the service becomes ready', async () => {
    const { f, probePort } = await t.start({ WARMUP: 'hang', WARMUP_REQUIRED: 'false', WARMUP_TIMEOUT_MS: '300' });
    expect(f.lines.find((l) => l.event === 'warmup' && l.ok === false), output(f)).toMatchObject({ level: 'warn', kind: 'timeout' });
    expect((await get(probePort, '/readyz')).status).toBe(200);
    expect((await get(probePort, '/startupz?verbose')).body).toContain('[-]cache failed (optional warmup, ignored): timeout');
    f.kill('SIGTERM');
    expect((await f.exited).code, output(f)).toBe(0);
  });
});
