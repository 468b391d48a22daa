/**
 * The gRPC example as a real process with real signals: SIGTERM tells Watch clients NOT_SERVING at
 * once, in-flight RPCs (unary and a server stream) finish through the drain, and the exit is 0; an
 * unreachable upstream fails the client warmup with exit 75 and the reason in the termination
 * message file.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { get } from '../support/http.js';
import { cleanup, spawnFixture, type Fixture } from '../support/process.js';
import { EXAMPLE_SOURCE, greeterClient, sayHello, streamHellos } from './greeter.js';
import { check, healthClient, watch } from './helpers.js';

const fixtures: Fixture[] = [];
const closers: Array<() => void> = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) close();
  await cleanup(fixtures);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function start(env: Record<string, string>): Fixture {
  const f = spawnFixture(EXAMPLE_SOURCE, { PORT: '0', PROBE_PORT: '0', ...env });
  fixtures.push(f);
  return f;
}

const output = (f: Fixture) => [...f.lines.map((l) => JSON.stringify(l)), ...f.text].join('\n');

describe('the gRPC example on SIGTERM', () => {
  it('tells Watch clients NOT_SERVING at once, finishes an in-flight unary call and server stream, and exits 0', async () => {
    const f = start({ DRAIN_DELAY_MS: '1000', SHUTDOWN_TIMEOUT_MS: '8000' });
    const listening = await f.waitForLine((l) => l.event === 'listening', 20_000);
    const target = `127.0.0.1:${listening.grpcPort as number}`;
    const probePort = listening.probePort as number;
    const health = healthClient(target);
    const greeter = greeterClient(target);
    closers.push(() => health.close(), () => greeter.close());

    expect(await check(health, '')).toEqual({ status: 'SERVING' });
    expect(await check(health, 'greeter.v1.Greeter')).toEqual({ status: 'SERVING' });
    expect((await get(probePort, '/readyz')).status).toBe(200);
    const watcher = watch(health, '');
    expect(await watcher.next()).toBe('SERVING');

    // In flight at SIGTERM, and still in flight when the drain delay ends (at +1 s).
    const unary = sayHello(greeter, 1800);
    const stream = streamHellos(greeter, 20, 100);
    await new Promise((r) => setTimeout(r, 100));

    const sigterm = performance.now();
    f.kill('SIGTERM');
    expect(await watcher.next()).toBe('NOT_SERVING');
    const toldAfterMs = watcher.received[1]!.at - sigterm;
    console.log(`[measure] SIGTERM → Watch client has NOT_SERVING: ${toldAfterMs.toFixed(1)} ms`);
    expect(toldAfterMs).toBeLessThan(500);
    // The drain delay is still running: new calls are still served, and health is truthful.
    expect((await sayHello(greeter, 0)).ok).toBe(true);
    expect(await check(health, '')).toEqual({ status: 'NOT_SERVING' });

    const [u, s, exit] = await Promise.all([unary, stream, f.exited]);
    expect(u, output(f)).toMatchObject({ ok: true });
    expect(s, output(f)).toMatchObject({ ok: true, items: 20, code: 'OK' });
    expect(exit.code, output(f)).toBe(0);
    // The Watch stream was ended cleanly at "stop accepting", not cut.
    expect((await watcher.ended).codeName).toBe('OK');
    // Drain delay first, then GOAWAY: the process left after the last RPC, not before.
    expect(exit.at - sigterm).toBeGreaterThanOrEqual(1000);
    expect(exit.at).toBeGreaterThanOrEqual(Math.max(u.at, s.at) - 50);
    const states = f.lines.filter((l) => l.event === 'state').map((l) => l.to);
    expect(states).toEqual(['warming', 'ready', 'draining', 'stopping', 'stopped']);
  });
});

describe('the gRPC example with an unreachable upstream', () => {
  it('fails its client warmup: exit 75, the reason in the termination message file', async () => {
    const closed = createServer();
    const port = await new Promise<number>((resolve) => closed.listen(0, '127.0.0.1', () => resolve((closed.address() as { port: number }).port)));
    await new Promise((r) => closed.close(r));
    const dir = mkdtempSync(join(tmpdir(), 'podkit-grpc-'));
    dirs.push(dir);
    const messageFile = join(dir, 'termination-log');

    const f = start({ UPSTREAM_ADDRESS: `127.0.0.1:${port}`, TERMINATION_MESSAGE_PATH: messageFile });
    const exit = await f.exited;
    expect(exit.code, output(f)).toBe(75);
    const message = readFileSync(messageFile, 'utf8');
    expect(message).toContain('warmup "upstream" failed: Health/Check to');
    expect(message).toContain(`127.0.0.1:${port}`);
    expect(message).toContain('UNAVAILABLE');
    expect(message).toContain('ECONNREFUSED');
    expect(message.trim()).toMatch(/\(exit 75\)$/);
    // It never became ready, and said why in its log too.
    const states = f.lines.filter((l) => l.event === 'state').map((l) => l.to);
    expect(states).toEqual(['warming', 'failed']);
  });
});
