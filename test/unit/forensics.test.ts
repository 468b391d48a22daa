/**
 * What held a slow shutdown, said in few bytes: the description keeps every section's count and
 * fills the rest most useful first; the termination message never passes the kubelet's 4096 bytes.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeTerminationMessage } from '../../packages/lifecycle/src/exit.js';
import { activeHandles, describeHeldBy, fitBytes, pathOf, withHeldBy, type HeldBy } from '../../packages/lifecycle/src/forensics.js';

const bytes = (text: string) => Buffer.byteLength(text);

function held(overrides: Partial<HeldBy> = {}): HeldBy {
  return { requests: [], requestCount: 0, longLived: {}, holds: [], running: [], handles: {}, ...overrides };
}

const manyRequests = Array.from({ length: 500 }, (_, i) => ({ method: 'POST', path: `/orders/${i}/ünïcödé-items`, ageMs: 5000 - i, atLeast: i % 2 === 0 }));

describe('describeHeldBy', () => {
  it('lists everything when it fits, oldest request first, with "≥" for ages counted from the drain', () => {
    const text = describeHeldBy(
      held({
        requests: [{ method: 'GET', path: '/slow', ageMs: 1012.4, atLeast: true }, { method: 'POST', path: '/orders', ageMs: 80, atLeast: false }],
        requestCount: 2,
        longLived: { websocket: 3, sse: 1 },
        holds: ['consumer'],
        running: [{ label: 'shutdown hook', name: 'postgres', runningMs: 799.6 }],
        handles: { TCPSocketWrap: 4, Timeout: 2 },
      }),
      4096,
    );
    expect(text).toBe(
      'held by: requests in flight (2): GET /slow ≥1012 ms, POST /orders 80 ms; long-lived: websocket 3, sse 1; holds (1): consumer; still running (1): shutdown hook "postgres" 800 ms; handles: TCPSocketWrap 4, Timeout 2',
    );
  });

  it('keeps every section and its count within the budget, however many requests there are, and says how many are not shown', () => {
    const text = describeHeldBy(held({ requests: manyRequests, requestCount: 2000, holds: ['consumer'], running: [{ label: 'shutdown hook', name: 'db', runningMs: 5 }], handles: { TCPSocketWrap: 2000 } }), 1000);
    expect(bytes(text)).toBeLessThanOrEqual(1000);
    expect(text).toMatch(/^held by: requests in flight \(2000\): POST \/orders\/0\/ünïcödé-items ≥5000 ms, .*, … \d+ more; holds \(1\): consumer; still running \(1\): shutdown hook "db" 5 ms; handles: TCPSocketWrap 2000$/);
  });

  it('says so when nothing is left that podkit can see', () => {
    expect(describeHeldBy(held(), 4096)).toBe('held by: nothing podkit can see');
  });

  it('cuts a very long path or name short, so one item cannot take the room of the others', () => {
    const text = describeHeldBy(held({ holds: ['x'.repeat(5000)] }), 4096);
    expect(bytes(text)).toBeLessThan(200);
    expect(text).toContain('…');
  });
});

describe('withHeldBy and the termination message', () => {
  const dir = mkdtempSync(join(tmpdir(), 'podkit-forensics-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes at most 4096 bytes, the "(exit n)" suffix whole, with a marker where it cut', () => {
    const path = join(dir, 'termination-log');
    const reason = withHeldBy('shutdown exceeded 25000 ms; 500 connection(s) cut', held({ requests: manyRequests, requestCount: 500, holds: ['consumer'] }), 4096);
    writeTerminationMessage(path, `${reason} ${'é'.repeat(3000)}`, ' (exit 124)');
    const message = readFileSync(path, 'utf8');
    expect(bytes(message)).toBeLessThanOrEqual(4096);
    expect(message).toMatch(/…\[truncated\] \(exit 124\)\n$/);
    expect(message).not.toContain('\uFFFD');
  });

  it('redacts before it cuts', () => {
    const path = join(dir, 'termination-log-2');
    writeTerminationMessage(path, 'held by: requests in flight (1): GET /reset/token=hunter2 ≥5 ms', ' (exit 124)');
    expect(readFileSync(path, 'utf8')).toBe('held by: requests in flight (1): GET /reset/token=*** ≥5 ms (exit 124)\n');
  });
});

describe('fitBytes', () => {
  it('never splits a character and never passes the limit', () => {
    for (let max = 20; max < 60; max += 1) {
      const cut = fitBytes('ü€😀'.repeat(30), max);
      expect(bytes(cut)).toBeLessThanOrEqual(max);
      expect(cut).not.toContain('\uFFFD');
      expect(cut.endsWith(' …[truncated]')).toBe(true);
    }
    expect(fitBytes('short', 100)).toBe('short');
  });
});

describe('pathOf', () => {
  it.each([
    ['/slow?ms=100&api_key=x', '/slow'],
    ['/a/b#frag', '/a/b'],
    ['http://user:pw@host:8080/orders?x=1', '/orders'],
    ['http://host', '/'],
    [undefined, '/'],
  ])('%s → %s', (url, path) => {
    expect(pathOf(url)).toBe(path);
  });
});

describe('activeHandles', () => {
  it('counts the active resources by type, most first', () => {
    const timers = [setTimeout(() => {}, 10_000), setTimeout(() => {}, 10_000)];
    const handles = activeHandles();
    for (const timer of timers) clearTimeout(timer);
    expect(handles.Timeout).toBeGreaterThanOrEqual(2);
    const counts = Object.values(handles);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
  });
});
