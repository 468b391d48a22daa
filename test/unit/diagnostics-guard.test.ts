/**
 * The pure parts of the guarded diagnostics, from source: who the guard lets through (addresses,
 * CIDR ranges, IPv4-mapped IPv6, the bearer token) and how the cgroup memory headroom is read
 * (v2, v1, no limit, reclaimable page cache), against directories made for each case; and the
 * refusal log, which a flood of refused requests cannot flood.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createRefusalLog, REFUSAL_LOG_WINDOW_MS } from '../../packages/lifecycle/src/diagnostics/artifacts.js';
import { createGuard } from '../../packages/lifecycle/src/diagnostics/guard.js';
import { heapSnapshotRefusal, readMemoryLimit } from '../../packages/lifecycle/src/diagnostics/headroom.js';
import { DEFAULTS } from '../../packages/lifecycle/src/defaults.js';

process.env.PODKIT_UNIT_DIAGNOSTICS_TOKEN = 'unit-token-value';
const options = (extra: Record<string, unknown> = {}) => ({ ...DEFAULTS.probes.diagnostics, allow: [...DEFAULTS.probes.diagnostics.allow], enabled: true, tokenEnv: 'PODKIT_UNIT_DIAGNOSTICS_TOKEN', ...extra });
const BEARER = 'Bearer unit-token-value';

const dirs: string[] = [];
function dir(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'podkit-cgroup-'));
  dirs.push(root);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), text);
  }
  return root;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('the diagnostics guard', () => {
  it('lets loopback in by default, IPv4-mapped IPv6 included, and refuses other addresses with 403', () => {
    const guard = createGuard(options());
    expect(guard('127.0.0.1', BEARER)).toBeUndefined();
    expect(guard('::ffff:127.0.0.1', BEARER)).toBeUndefined();
    expect(guard('::1', BEARER)).toBeUndefined();
    expect(guard('10.1.2.3', BEARER)).toMatchObject({ status: 403 });
    expect(guard(undefined, BEARER)).toMatchObject({ status: 403 });
  });

  it('matches CIDR ranges and single addresses given in allow', () => {
    const guard = createGuard(options({ allow: ['10.0.0.0/8', '192.168.1.7', 'fd00::/8'] }));
    expect(guard('10.200.0.1', BEARER)).toBeUndefined();
    expect(guard('::ffff:10.200.0.1', BEARER)).toBeUndefined();
    expect(guard('192.168.1.7', BEARER)).toBeUndefined();
    expect(guard('192.168.1.8', BEARER)).toMatchObject({ status: 403 });
    expect(guard('fd12::1', BEARER)).toBeUndefined();
    expect(guard('127.0.0.1', BEARER)).toMatchObject({ status: 403 });
  });

  it('asks for the bearer token (401) after the address, whatever its length or case of scheme', () => {
    const guard = createGuard(options());
    expect(guard('127.0.0.1', undefined)).toMatchObject({ status: 401, reason: 'a bearer token is required' });
    expect(guard('127.0.0.1', 'Basic dXNlcjpwYXNz')).toMatchObject({ status: 401 });
    expect(guard('127.0.0.1', 'Bearer unit-token-valu')).toMatchObject({ status: 401, reason: 'wrong bearer token' });
    expect(guard('127.0.0.1', 'Bearer unit-token-value-and-more')).toMatchObject({ status: 401 });
    expect(guard('127.0.0.1', 'bearer   unit-token-value ')).toBeUndefined();
    // An address not allowed is told 403 without the token being looked at.
    expect(guard('10.0.0.1', undefined)).toMatchObject({ status: 403 });
  });
});

describe('the memory headroom', () => {
  it('reads cgroup v2, less the inactive page cache the kernel reclaims first', () => {
    const root = dir({ 'memory.max': '1073741824\n', 'memory.current': '805306368\n', 'memory.stat': 'anon 1\ninactive_file 268435456\nactive_file 5\n' });
    expect(readMemoryLimit(root)).toEqual({ limitBytes: 2 ** 30, usageBytes: 512 * 2 ** 20, headroomBytes: 512 * 2 ** 20 });
  });

  it('has no limit for cgroup v2 "max", for cgroup v1 without a limit, and without any cgroup files', () => {
    expect(readMemoryLimit(dir({ 'memory.max': 'max\n', 'memory.current': '1000\n' }))).toBeUndefined();
    expect(readMemoryLimit(dir({ 'memory/memory.limit_in_bytes': '9223372036854771712\n', 'memory/memory.usage_in_bytes': '1000\n' }))).toBeUndefined();
    expect(readMemoryLimit(dir({}))).toBeUndefined();
  });

  it('falls back to cgroup v1', () => {
    const root = dir({ 'memory/memory.limit_in_bytes': '536870912\n', 'memory/memory.usage_in_bytes': '436207616\n', 'memory/memory.stat': 'total_inactive_file 0\n' });
    expect(readMemoryLimit(root)).toEqual({ limitBytes: 512 * 2 ** 20, usageBytes: 416 * 2 ** 20, headroomBytes: 96 * 2 ** 20 });
  });

  it('refuses a heap snapshot that needs more than twice the heap in use beyond the headroom, and allows one that fits', () => {
    const root = dir({ 'memory.max': String(1024 * 2 ** 20), 'memory.current': String(824 * 2 ** 20) });
    expect(heapSnapshotRefusal(root, 99 * 2 ** 20)).toBeUndefined();
    expect(heapSnapshotRefusal(root, 101 * 2 ** 20)?.reason).toBe('a heap snapshot needs about 202 MiB (2 x 101 MiB of heap in use), and the container has 200 MiB left of its 1024 MiB limit');
    expect(heapSnapshotRefusal(dir({ 'memory.max': 'max', 'memory.current': '1' }), 2 ** 40)).toBeUndefined();
  });
});

describe('the refusal log', () => {
  it('logs one refusal per window and counts the rest into the next line', () => {
    vi.useFakeTimers();
    try {
      const entries: Array<{ obj: object; msg: string | undefined }> = [];
      const warn = (obj: object, msg?: string) => entries.push({ obj, msg });
      const logger = { info: warn, warn, error: warn, fatal: warn };
      const refused = createRefusalLog(logger);
      const one = { status: 401, reason: 'a bearer token is required', path: '/debug/report', remoteAddress: '10.0.0.9' };
      for (let i = 0; i < 5; i += 1) refused(one);
      expect(entries).toHaveLength(1);
      expect(entries[0]!.obj).toEqual({ event: 'diagnostic', ...one });
      vi.advanceTimersByTime(REFUSAL_LOG_WINDOW_MS);
      refused({ ...one, status: 403 });
      expect(entries).toHaveLength(2);
      expect(entries[1]!.obj).toMatchObject({ status: 403, suppressedBefore: 4 });
      expect(entries[1]!.msg).toBe('diagnostic request for /debug/report refused (403): a bearer token is required');
    } finally {
      vi.useRealTimers();
    }
  });
});
