import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { get, waitFor } from '../support/http.js';
import { cleanup, spawnFixture, type Fixture } from '../support/process.js';
import { DATABASE_URL, REDIS_URL, target, via } from './helpers.js';

const FIXTURE = new URL('./fixtures/dependency-service.ts', import.meta.url);
const fixtures: Fixture[] = [];
const proxies: FaultProxy[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await cleanup(fixtures);
  for (const proxy of proxies.splice(0)) await proxy.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const dependencies = [
  { dep: 'redis', url: REDIS_URL, defaultPort: 6379 },
  { dep: 'postgres', url: DATABASE_URL, defaultPort: 5432 },
] as const;

describe.each(dependencies)('a forked service whose warmup needs $dep', ({ dep, url, defaultPort }) => {
  async function launch(mode: 'pass' | 'down'): Promise<{ fixture: Fixture; proxy: FaultProxy; messagePath: string }> {
    const proxy = await startFaultProxy({ ...target(url, defaultPort), mode });
    proxies.push(proxy);
    const dir = mkdtempSync(join(tmpdir(), 'podkit-deps-'));
    dirs.push(dir);
    const messagePath = join(dir, 'termination-log');
    const fixture = spawnFixture(FIXTURE, { DEP: dep, DEP_URL: via(url, proxy), TERMINATION_MESSAGE_PATH: messagePath });
    fixtures.push(fixture);
    return { fixture, proxy, messagePath };
  }

  it(`retries while ${dep} is down, stays alive but not ready meanwhile, then exits 75 with the reason`, async () => {
    const { fixture, proxy, messagePath } = await launch('down');
    const { probePort } = await fixture.waitForLine((l) => l.fixture === 'probes');
    await fixture.waitForLine((l) => l.fixture === 'retry');
    // Warmup is still retrying (about a second left): alive, not started, not ready.
    expect((await get(probePort as number, '/livez')).status).toBe(200);
    expect((await get(probePort as number, '/startupz')).status).toBe(503);
    expect((await get(probePort as number, '/readyz')).status).toBe(503);

    const { code } = await fixture.exited;
    expect(code).toBe(75);
    const retries = fixture.lines.filter((l) => l.fixture === 'retry');
    expect(retries.map((l) => l.attempt)).toEqual([1, 2, 3]);
    expect(proxy.accepted).toBeGreaterThanOrEqual(4); // every attempt reached the "server"
    const exit = fixture.lines.find((l) => l.event === 'exit');
    expect(exit).toMatchObject({ code: 75, kind: 'warmupFailed' });
    expect(String(exit?.reason)).toMatch(new RegExp(`warmup "${dep}" failed`));
    expect(readFileSync(messagePath, 'utf8')).toMatch(new RegExp(`warmup "${dep}" failed.*\\(exit 75\\)`));
  });

  it(`becomes ready when ${dep} is up and exits 0 on SIGTERM, closing the client in its shutdown hook`, async () => {
    const { fixture, proxy } = await launch('pass');
    const { probePort } = await fixture.waitForLine((l) => l.fixture === 'listening');
    // The check's first run happened during warmup, before the client was connected; readiness
    // follows at the check's next run (intervalMs, 2 s by default).
    await waitFor(async () => (await get(probePort as number, '/readyz')).status === 200, { timeoutMs: 8000, intervalMs: 100 });
    expect(proxy.open).toBeGreaterThan(0);
    fixture.kill('SIGTERM');
    expect((await fixture.exited).code).toBe(0);
    expect(fixture.lines.filter((l) => l.fixture === 'retry')).toHaveLength(0);
  });
});
