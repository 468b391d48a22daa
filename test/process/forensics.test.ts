/**
 * "The process did not exit": when shutdownTimeoutMs expires, a hook times out or a warmup times
 * out, the log line and the termination message say what held it — requests in flight (method,
 * path without query string, age), holds, hooks and warmups still running, handles by type —
 * redacted, and within the kubelet's 4096 bytes however much there is to say.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createTracker, fetchOnce, isExit, isFixture, output } from './helpers.js';
import { spawnFixture, type Fixture } from '../support/process.js';

const CONNECTIONS_SERVICE = new URL('../fixtures/connections-service.ts', import.meta.url);

const t = createTracker();
afterEach(() => t.cleanup());

const SECRET = 'hunter2';

function messagePath(): string {
  return join(t.tempDir(), 'termination-log');
}

/** Everything podkit wrote (its log lines, stderr, the termination message), to look for a secret in. The fixture's own lines print raw paths. */
function everything(f: Fixture, message: string): string {
  return [...f.lines.filter((l) => l.name === 'podkit').map((l) => JSON.stringify(l)), ...f.text, message].join('\n');
}

/** A request that is never answered in time; settles (with the error) when the process cuts it. */
function stuck(port: number, path: string): Promise<string> {
  return fetchOnce(port, path, { timeoutMs: 60_000 }).then(
    () => 'answered',
    (error: NodeJS.ErrnoException) => error.code ?? error.message,
  );
}

describe('when shutdownTimeoutMs expires', () => {
  it('names each request in flight by method, path and age — without its query string, with a secret in its path redacted — in the log line and the termination message', async () => {
    const path = messagePath();
    const { f, mainPort } = await t.start({ SHUTDOWN_TIMEOUT_MS: '1500', DRAIN_DELAY_MS: '400', TERMINATION_MESSAGE_PATH: path });
    const before = stuck(mainPort, `/slow/password=${SECRET}?ms=60000&api_key=${SECRET}`);
    await f.waitForLine((l) => l.fixture === 'request' && String(l.path).startsWith('/slow/password'));
    f.kill('SIGTERM');
    // One more during the drain delay: counted when it arrives, so its age is exact.
    await f.waitForLine((l) => l.event === 'drain');
    const during = stuck(mainPort, '/slow/during?ms=60000');
    await f.waitForLine((l) => l.fixture === 'request' && l.path === '/slow/during');
    const exit = await f.exited;
    expect(exit.code, output(f)).toBe(124);
    await Promise.all([before, during]);

    const message = readFileSync(path, 'utf8');
    expect(message).toMatch(/^shutdown exceeded 1500 ms; 2 connection\(s\) cut; held by: requests in flight \(2\): /);
    // Oldest first; the one already in flight when the drain began is "at least" that old.
    expect(message).toMatch(/requests in flight \(2\): GET \/slow\/password=\*\*\* ≥1[45]\d\d ms, GET \/slow\/during \d+ ms;/);
    expect(message).toMatch(/handles: .*TCPSocketWrap \d/);
    expect(message).toMatch(/ \(exit 124\)\n$/);
    expect(message).not.toContain('ms=60000');
    expect(message).not.toContain('api_key');
    expect(everything(f, message)).not.toContain(SECRET);

    const line = f.lines.find(isExit)!;
    expect(line).toMatchObject({ code: 124, kind: 'shutdownTimeout' });
    expect(String(line.reason)).toContain('held by: requests in flight (2)');
    const heldBy = line.heldBy as { requests: Array<{ method: string; path: string; ageMs: number; atLeast: boolean }>; requestCount: number; handles: Record<string, number> };
    expect(heldBy.requestCount).toBe(2);
    expect(heldBy.requests[0]).toMatchObject({ method: 'GET', path: '/slow/password=***', atLeast: true });
    expect(heldBy.requests[0]!.ageMs).toBeGreaterThanOrEqual(1400);
    expect(heldBy.requests[1]).toMatchObject({ method: 'GET', path: '/slow/during', atLeast: false });
    expect(heldBy.handles.TCPSocketWrap).toBeGreaterThanOrEqual(2);
  });

  it('names an open hold', async () => {
    const path = messagePath();
    const { f } = await t.start({ SHUTDOWN_TIMEOUT_MS: '800', HOLD: 'queue-consumer', TERMINATION_MESSAGE_PATH: path });
    f.kill('SIGTERM');
    const exit = await f.exited;
    expect(exit.code, output(f)).toBe(124);
    const message = readFileSync(path, 'utf8');
    expect(message).toMatch(/^shutdown exceeded 800 ms; 0 connection\(s\) cut; held by: holds \(1\): queue-consumer; handles: /);
    expect(f.lines.find(isExit)).toMatchObject({ heldBy: { holds: ['queue-consumer'], requestCount: 0 } });
  });

  it('names a shutdown hook still running at the deadline, and how long it has run', async () => {
    const path = messagePath();
    const { f } = await t.start({ SHUTDOWN_TIMEOUT_MS: '800', HOOKS: 'postgres:hang', HOOK_TIMEOUT_MS: '5000', TERMINATION_MESSAGE_PATH: path });
    f.kill('SIGTERM');
    const exit = await f.exited;
    expect(exit.code, output(f)).toBe(124);
    expect(readFileSync(path, 'utf8')).toMatch(/held by: still running \(1\): shutdown hook "postgres" [5-8]\d\d ms; handles: /);
  });

  it('counts long-lived connections by kind: a WebSocket left to the app, open through a hold that outlasts the budget', async () => {
    const path = messagePath();
    const f = spawnFixture(CONNECTIONS_SERVICE, { WEBSOCKET: '1', WS_GOODBYE: 'app', HOLD_MS: '60000', SHUTDOWN_TIMEOUT_MS: '1000', TERMINATION_MESSAGE_PATH: path });
    const { mainPort } = (await f.waitForLine(isFixture('listening'))) as unknown as { mainPort: number };
    const ws = new WebSocket(`ws://127.0.0.1:${mainPort}/`);
    ws.on('error', () => {});
    try {
      await new Promise<void>((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      await f.waitForLine(isFixture('ws-open'));
      f.kill('SIGTERM');
      const exit = await f.exited;
      expect(exit.code, output(f)).toBe(124);
      expect(readFileSync(path, 'utf8')).toMatch(/held by: long-lived: websocket 1; holds \(1\): ws-work; handles: /);
      expect(f.lines.find(isExit)).toMatchObject({ heldBy: { longLived: { websocket: 1 }, holds: ['ws-work'] } });
    } finally {
      ws.terminate();
      f.kill('SIGKILL');
      await f.exited;
    }
  });

  it('stays within 4096 bytes with hundreds of requests in flight, listing the oldest and counting the rest, and keeps every section', async () => {
    const path = messagePath();
    const { f, mainPort } = await t.start({ SHUTDOWN_TIMEOUT_MS: '2000', HOLD: 'queue-consumer', TERMINATION_MESSAGE_PATH: path });
    const count = 300;
    // Long paths: the 50 oldest alone would take about 6 KiB.
    const requests = Array.from({ length: count }, (_, i) => stuck(mainPort, `/slow/order-${String(i).padStart(4, '0')}/${'line-items/'.repeat(12)}?ms=60000`));
    await waitForRequests(f, count);
    f.kill('SIGTERM');
    const exit = await f.exited;
    expect(exit.code, output(f)).toBe(124);
    await Promise.all(requests);
    const message = readFileSync(path, 'utf8');
    const bytes = Buffer.byteLength(message);
    console.log(`[measure] termination message with ${count} requests in flight: ${bytes} bytes`);
    expect(bytes).toBeLessThanOrEqual(4096);
    // Cut to fit, not short by chance: the room was used.
    expect(bytes).toBeGreaterThan(3500);
    expect(message).toContain(`requests in flight (${count}): GET /slow/order-`);
    expect(message).toMatch(/, … \d+ more; holds \(1\): queue-consumer; handles: /);
    expect(message).toMatch(/ \(exit 124\)\n$/);
    // The log line lists the oldest 50 and counts them all.
    const heldBy = f.lines.find(isExit)!.heldBy as { requests: unknown[]; requestCount: number };
    expect(heldBy.requestCount).toBe(count);
    expect(heldBy.requests).toHaveLength(50);
  });
});

describe('when a shutdown hook times out', () => {
  it('logs what else still held the shutdown, the hook itself among what still runs; a clean exit writes no termination message', async () => {
    const path = messagePath();
    const { f } = await t.start({ HOOKS: 'postgres:hang', HOOK_TIMEOUT_MS: '400', SHUTDOWN_TIMEOUT_MS: '10000', TERMINATION_MESSAGE_PATH: path });
    f.kill('SIGTERM');
    const line = await f.waitForLine((l) => l.event === 'hook' && l.hook === 'postgres');
    expect(String(line.msg)).toMatch(/^shutdown hook "postgres" failed: shutdown hook "postgres" timed out after 400 ms; held by: still running \(1\): shutdown hook "postgres" [34]\d\d ms; handles: /);
    expect(line.heldBy).toMatchObject({ running: [{ label: 'shutdown hook', name: 'postgres' }] });
    expect((await f.exited).code, output(f)).toBe(0);
    expect(existsSync(path)).toBe(false);
  });
});

describe('when a warmup times out', () => {
  it('exits 75 naming the warmup still running and the handles, in the log line and the termination message', async () => {
    const path = messagePath();
    const f = t.spawn({ WARMUP: 'hang', WARMUP_TIMEOUT_MS: '500', TERMINATION_MESSAGE_PATH: path });
    const exit = await f.exited;
    expect(exit.code, output(f)).toBe(75);
    const message = readFileSync(path, 'utf8');
    expect(message).toMatch(/^warmup "cache" failed: warmup "cache" timed out after 500 ms; held by: still running \(1\): warmup "cache" [45]\d\d ms; handles: /);
    expect(message).toMatch(/ \(exit 75\)\n$/);
    expect(String(f.lines.find(isExit)!.reason)).toContain('held by: still running (1): warmup "cache"');
  });
});

async function waitForRequests(f: Fixture, count: number): Promise<void> {
  const deadline = performance.now() + 20_000;
  while (f.lines.filter(isFixture('request')).length < count) {
    if (performance.now() > deadline) throw new Error(`only ${f.lines.filter(isFixture('request')).length} of ${count} requests arrived`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
