/**
 * Guarded diagnostics on the probe port, in both listener threads, against a real lifecycle: each
 * refusal (disabled 404, no token or a wrong one 401, an address not allowed 403, bad parameters
 * 400, busy 409, too little memory headroom 507) comes with nothing computed, and each diagnostic
 * is a valid artifact of the MAIN thread: a heap snapshot that parses with `snapshot`, a
 * .cpuprofile with `nodes`, a report with `header`. Memory limits come from fake cgroup directories.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createLifecycle, InvalidOptionError, type DiagnosticsOptions } from '@podkit/lifecycle';
import { get, waitFor } from '../support/http.js';
import { inThread, PROBE_THREADS, stopAll, type LogEntry } from './helpers.js';

const TOKEN_ENV = 'PODKIT_TEST_DIAGNOSTICS_TOKEN';
const TOKEN = 's3cr3t-diagnostics-token-0123456789';
process.env[TOKEN_ENV] = TOKEN;
const AUTH = { authorization: `Bearer ${TOKEN}` };

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'podkit-diagnostics-'));
  dirs.push(dir);
  return dir;
}
/** A cgroup v2 directory with this limit and usage, in bytes ('max': no limit). */
function cgroupV2(max: number | 'max', current: number): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'memory.max'), `${max}\n`);
  writeFileSync(join(dir, 'memory.current'), `${current}\n`);
  writeFileSync(join(dir, 'memory.stat'), 'anon 1000\ninactive_file 0\n');
  return dir;
}
/** A cgroup v1 hierarchy (memory controller under memory/). */
function cgroupV1(limit: number, usage: number): string {
  const dir = tempDir();
  mkdirSync(join(dir, 'memory'));
  writeFileSync(join(dir, 'memory', 'memory.limit_in_bytes'), `${limit}\n`);
  writeFileSync(join(dir, 'memory', 'memory.usage_in_bytes'), `${usage}\n`);
  return dir;
}
const GiB = 2 ** 30;
const MiB = 2 ** 20;

afterEach(stopAll);
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Log lines about diagnostics, and a check that none holds the token. */
function diagnosticLogs(logs: LogEntry[]): LogEntry[] {
  expect(JSON.stringify(logs)).not.toContain(TOKEN);
  return logs.filter((l) => l.obj.event === 'diagnostic');
}

// Kept alive on the main thread only: a heap snapshot of the main thread holds it, the worker's would not.
// Made from bytes so that it is one flat string (a template literal's result can be a cons string,
// which a snapshot lists in pieces).
const MAIN_THREAD_MARKER = Buffer.from(`podkit-main-thread-marker-${process.pid}-${Date.now()}`).toString();
(globalThis as Record<string, unknown>).__podkitMarker = MAIN_THREAD_MARKER;

describe.each(PROBE_THREADS)('diagnostics, probe listener on the %s thread', (thread) => {
  async function started(diagnostics: DiagnosticsOptions | undefined) {
    // Idle limits shorter than a 1 s profile: a diagnostic must lift them for its own connection.
    const t = inThread(thread)({ probes: { requestTimeoutMs: 800, headersTimeoutMs: 400, ...(diagnostics ? { diagnostics } : {}) } });
    await t.lifecycle.start();
    return t;
  }
  const on = (extra: DiagnosticsOptions = {}): DiagnosticsOptions => ({ enabled: true, tokenEnv: TOKEN_ENV, cgroupRoot: cgroupV2('max', 0), ...extra });

  it('answers 404 on every diagnostic path when not enabled (the default), token or not', async () => {
    const { probePort } = await started(undefined);
    for (const path of ['/debug/heap-snapshot', '/debug/cpu-profile?seconds=1', '/debug/report']) {
      expect((await get(probePort(), path, { headers: AUTH })).status).toBe(404);
    }
  });

  it('answers 401 without a token and with a wrong one, and 403 from an address not allowed even with the token, computing nothing', async () => {
    const { probePort, logs } = await started(on());
    const none = await get(probePort(), '/debug/heap-snapshot');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="podkit-diagnostics"');
    expect((await get(probePort(), '/debug/report', { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
    expect((await get(probePort(), '/debug/report', { headers: { authorization: TOKEN } })).status).toBe(401);
    // Logged on the main thread (in worker mode the refusal is posted over), without the token, and
    // once per window however many come (the other two are counted into the next line).
    await waitFor(() => diagnosticLogs(logs).length === 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(diagnosticLogs(logs)).toHaveLength(1);

    await stopAll();
    const far = await started(on({ allow: ['10.0.0.0/8', 'fd00::/8'] }));
    expect((await get(far.probePort(), '/debug/heap-snapshot', { headers: AUTH })).status).toBe(403);
    await waitFor(() => diagnosticLogs(far.logs).length === 1);

    // Only refusals were logged: nothing was produced.
    for (const entry of [...diagnosticLogs(logs), ...diagnosticLogs(far.logs)]) {
      expect(entry.level).toBe('warn');
      expect(entry.msg).toMatch(/^diagnostic request for \/debug\/(heap-snapshot|report) refused \((401|403)\)/);
    }
    expect(diagnosticLogs(far.logs)[0]!.obj).toMatchObject({ status: 403, remoteAddress: '127.0.0.1' });
  });

  it('answers 405 to other methods and 400 to a CPU profile without valid seconds', async () => {
    const { probePort } = await started(on({ maxCpuProfileSeconds: 5 }));
    const post = await get(probePort(), '/debug/report', { method: 'POST', headers: AUTH });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET');
    for (const query of ['', '?seconds=0', '?seconds=6', '?seconds=1.5', '?seconds=x']) {
      expect((await get(probePort(), `/debug/cpu-profile${query}`, { headers: AUTH })).status).toBe(400);
    }
  });

  it('refuses a heap snapshot with 507 when the cgroup v2 headroom cannot hold it', async () => {
    const { probePort, logs } = await started(on({ cgroupRoot: cgroupV2(512 * MiB, 512 * MiB - 64 * 1024) }));
    const refused = await get(probePort(), '/debug/heap-snapshot', { headers: AUTH });
    expect(refused.status).toBe(507);
    expect(refused.body).toMatch(/^heap snapshot refused: a heap snapshot needs about \d+ MiB \(2 x \d+ MiB of heap in use\), and the container has 0 MiB left of its 512 MiB limit/);
    // Logged once the answer is out (in worker mode, after the worker took the last chunk).
    await waitFor(() => diagnosticLogs(logs).length > 0);
    expect(diagnosticLogs(logs).at(-1)).toMatchObject({ level: 'warn', obj: { kind: 'heap-snapshot', status: 507 } });
  });

  it('refuses a heap snapshot with 507 on cgroup v1 too', async () => {
    const { probePort } = await started(on({ cgroupRoot: cgroupV1(256 * MiB, 256 * MiB - 1024) }));
    expect((await get(probePort(), '/debug/heap-snapshot', { headers: AUTH })).status).toBe(507);
  });

  it('streams a heap snapshot of the main thread that parses, with `snapshot`, when the headroom holds it', async () => {
    const { probePort, logs } = await started(on({ cgroupRoot: cgroupV2(64 * GiB, 1 * GiB) }));
    const response = await get(probePort(), '/debug/heap-snapshot', { headers: AUTH, timeoutMs: 60_000 });
    expect(response.status).toBe(200);
    expect(response.headers['content-disposition']).toMatch(/^attachment; filename="heap-snapshot-\d+-.+\.heapsnapshot"$/);
    const snapshot = JSON.parse(response.body) as { snapshot: { node_count: number }; strings: string[] };
    expect(snapshot.snapshot.node_count).toBeGreaterThan(1000);
    expect(snapshot.strings).toContain(MAIN_THREAD_MARKER);
    await waitFor(() => diagnosticLogs(logs).length > 0);
    expect(diagnosticLogs(logs).at(-1)).toMatchObject({ level: 'info', obj: { kind: 'heap-snapshot', status: 200, remoteAddress: '127.0.0.1' } });
  });

  it("profiles the main thread's CPU for the seconds asked, as a .cpuprofile with `nodes`", async () => {
    const { probePort } = await started(on());
    // Work only the main thread does while it is profiled.
    const busy = setInterval(function podkitMainThreadBusyLoop() {
      const until = performance.now() + 5;
      while (performance.now() < until);
    }, 10);
    const began = performance.now();
    const response = await get(probePort(), '/debug/cpu-profile?seconds=1', { headers: AUTH, timeoutMs: 30_000 });
    clearInterval(busy);
    expect(response.status).toBe(200);
    expect(performance.now() - began).toBeGreaterThanOrEqual(950);
    const profile = JSON.parse(response.body) as { nodes: Array<{ callFrame: { functionName: string } }>; startTime: number; endTime: number };
    expect(profile.nodes.length).toBeGreaterThan(1);
    expect(profile.nodes.some((n) => n.callFrame.functionName === 'podkitMainThreadBusyLoop')).toBe(true);
    expect(profile.endTime - profile.startTime).toBeGreaterThanOrEqual(900_000);
  });

  it('writes a diagnostic report of the main thread with `header`, the network excluded, and puts the setting back', async () => {
    const { probePort } = await started(on());
    const api = process.report as NodeJS.ProcessReport & { excludeNetwork: boolean };
    const original = api.getReport.bind(api);
    const excludedWhileRunning: boolean[] = [];
    const spy = vi.spyOn(api, 'getReport').mockImplementation((error?: Error) => {
      excludedWhileRunning.push(api.excludeNetwork);
      return original(error);
    });
    const report = await get(probePort(), '/debug/report', { headers: AUTH });
    spy.mockRestore();
    expect(excludedWhileRunning).toEqual([true]);
    expect(report.status).toBe(200);
    const body = JSON.parse(report.body) as { header: { threadId: number | null; processId: number } };
    expect(body.header.processId).toBe(process.pid);
    expect(body.header.threadId).toBe(0);
    expect((process.report as { excludeNetwork?: boolean }).excludeNetwork).toBe(false);
  });

  it('runs one diagnostic at a time: 409 while a CPU profile runs, served again after', async () => {
    const { probePort } = await started(on());
    // Long enough a profile, and a generous wait for its request to have arrived, that a loaded
    // machine cannot let the report in first or after the profile is over.
    const profiling = get(probePort(), '/debug/cpu-profile?seconds=4', { headers: AUTH, timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 1000));
    const busy = await get(probePort(), '/debug/report', { headers: AUTH });
    expect(busy.status).toBe(409);
    expect((await profiling).status).toBe(200);
    expect((await get(probePort(), '/debug/report', { headers: AUTH })).status).toBe(200);
  });

  it('frees the slot when the caller leaves during a CPU profile: the profile stops and the next request is served', async () => {
    const { probePort, logs } = await started(on());
    const gone = get(probePort(), '/debug/cpu-profile?seconds=30', { headers: AUTH, timeoutMs: 300 }).catch((error: NodeJS.ErrnoException) => error.code);
    expect(await gone).toBe('ETIMEDOUT');
    const began = performance.now();
    await waitFor(async () => (await get(probePort(), '/debug/report', { headers: AUTH })).status === 200, { timeoutMs: 5000 });
    expect(performance.now() - began).toBeLessThan(5000);
    await waitFor(() => diagnosticLogs(logs).some((l) => l.obj.kind === 'cpu-profile'));
    expect(diagnosticLogs(logs).find((l) => l.obj.kind === 'cpu-profile')).toMatchObject({ level: 'warn', obj: { status: 499 } });
  });

  it('reads a token file at each request, so a rotated Secret takes effect', async () => {
    const file = join(tempDir(), 'token');
    writeFileSync(file, 'first-token-value\n');
    const { probePort } = await started(on({ tokenFile: file }));
    expect((await get(probePort(), '/debug/report', { headers: { authorization: 'Bearer first-token-value' } })).status).toBe(200);
    writeFileSync(file, 'second-token-value\n');
    expect((await get(probePort(), '/debug/report', { headers: { authorization: 'Bearer first-token-value' } })).status).toBe(401);
    expect((await get(probePort(), '/debug/report', { headers: { authorization: 'Bearer second-token-value' } })).status).toBe(200);
    rmSync(file);
    expect((await get(probePort(), '/debug/report', { headers: { authorization: 'Bearer second-token-value' } })).status).toBe(401);
  });
});

describe('diagnostics options', () => {
  it('refuses enabled diagnostics without a token, naming the variable but never a value', () => {
    expect(() => createLifecycle({ probes: { diagnostics: { enabled: true, tokenEnv: 'PODKIT_TEST_UNSET_TOKEN' } } })).toThrow(InvalidOptionError);
    expect(() => createLifecycle({ probes: { diagnostics: { enabled: true, tokenEnv: 'PODKIT_TEST_UNSET_TOKEN' } } })).toThrow(/probes\.diagnostics\.tokenEnv.*PODKIT_TEST_UNSET_TOKEN is unset or empty/);
  });

  it('refuses allow entries that are not addresses or CIDR ranges', () => {
    for (const allow of [[], ['localhost'], ['10.0.0.0/33'], ['::1/129'], ['10.0.0.1/8/1']]) {
      expect(() => createLifecycle({ probes: { diagnostics: { enabled: true, tokenEnv: TOKEN_ENV, allow } } })).toThrow(/probes\.diagnostics\.allow/);
    }
  });
});
