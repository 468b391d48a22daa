/**
 * The proof for `foreignSignalHandlers: 'defer'`, in a real process traced the way OpenTelemetry's
 * auto-instrumentation does it (HTTP instrumentation plus a SIGTERM listener that shuts the SDK
 * down): every request served during the drain delay has its span exported. The control, with the
 * listener left in place, loses them, because the SDK is shut down at the start of the drain.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTracker, fetchOnce, indexOf, isExit, isFixture, isState, output } from '../process/helpers.js';
import { spawnFixture } from '../support/process.js';

const TRACED_SERVICE = new URL('./fixtures/traced-service.ts', import.meta.url);
const DRAIN_DELAY_MS = 1500;

const t = createTracker();
const fixtures: ReturnType<typeof spawnFixture>[] = [];
afterEach(async () => {
  for (const f of fixtures.splice(0)) if (f.child.exitCode === null) f.kill('SIGKILL');
  await t.cleanup();
});

interface SpanLine {
  name: string;
  kind: number;
  path?: string;
}

/** Runs the traced service, sends requests before and during the drain, and returns what was served and exported. */
async function drainUnder(mode: 'defer' | 'leave') {
  const spansFile = join(t.tempDir(), 'spans.jsonl');
  const f = spawnFixture(TRACED_SERVICE, { SPANS_FILE: spansFile, DRAIN_DELAY_MS: String(DRAIN_DELAY_MS), FOREIGN: mode });
  fixtures.push(f);
  const { mainPort } = await f.waitForLine(isFixture('listening'));
  for (let i = 0; i < 3; i += 1) expect((await fetchOnce(mainPort as number, `/before/${i}`)).status).toBe(200);

  f.kill('SIGTERM');
  await f.waitForLine(isState('draining'));
  // One request after another on fresh connections, for most of the drain delay: each is served
  // (200, with Connection: close) by a service that is draining.
  const served: string[] = [];
  const until = performance.now() + DRAIN_DELAY_MS - 500;
  for (let i = 0; performance.now() < until; i += 1) {
    const response = await fetchOnce(mainPort as number, `/drain/${i}`);
    expect(response.status).toBe(200);
    expect(response.headers.connection).toBe('close');
    served.push(`/drain/${i}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  const exit = await f.exited;
  expect(exit.code, output(f)).toBe(0);
  const spans: SpanLine[] = existsSync(spansFile)
    ? readFileSync(spansFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as SpanLine)
    : [];
  // SpanKind.SERVER is 1: the spans of the requests the service answered.
  const serverPaths = (prefix: string) => spans.filter((s) => s.kind === 1 && s.path?.startsWith(prefix)).map((s) => s.path);
  const during = serverPaths('/drain/');
  console.log(`[measure] foreignSignalHandlers '${mode}': ${served.length} requests served during the drain delay, ${during.length} of their spans exported`);
  return { f, served, before: serverPaths('/before/'), during };
}

describe('OpenTelemetry spans of requests served during the drain', () => {
  it("with foreignSignalHandlers: 'defer', every request served during the drain delay has its span exported; the SDK shuts down after the hooks", async () => {
    const { f, served, before, during } = await drainUnder('defer');
    expect(served.length).toBeGreaterThanOrEqual(5);
    expect(before).toHaveLength(3);
    expect(during.sort()).toEqual([...served].sort());
    const taken = f.lines.find((l) => l.foreignSignalHandlers === 'defer');
    expect(taken, output(f)).toMatchObject({ level: 'info', listeners: 1, signals: ['SIGTERM'] });
    // The order the README documents: hooks, then the SDK's shutdown (telemetry flushed), then the exit.
    const hook = indexOf(f.lines, isFixture('hook'));
    const otel = indexOf(f.lines, isFixture('otel-shutdown'));
    expect(hook).toBeGreaterThan(indexOf(f.lines, isState('stopping')));
    expect(otel).toBeGreaterThan(hook);
    expect(indexOf(f.lines, isExit)).toBeGreaterThan(otel);
  });

  it("with foreignSignalHandlers: 'leave' (the control), the SDK shuts down as the drain begins and those spans are lost", async () => {
    const { f, served, before, during } = await drainUnder('leave');
    expect(served.length).toBeGreaterThanOrEqual(5);
    expect(before).toHaveLength(3);
    expect(during.length).toBeLessThan(served.length);
    expect(indexOf(f.lines, isFixture('otel-shutdown'))).toBeLessThan(indexOf(f.lines, isState('stopping')));
  });
});
