import { afterEach, describe, expect, it } from 'vitest';
import { delay, get } from '../support/http.js';
import { cleanup, spawnFixture, type Fixture } from '../support/process.js';

const fixtures: Fixture[] = [];
afterEach(() => cleanup(fixtures));

describe('event-loop liveness (eventLoop option)', () => {
  it('answers 503 on /livez once the loop stays blocked past its window, and 200 again when it recovers, while readiness is untouched', async () => {
    const f = spawnFixture(new URL('../fixtures/event-loop-service.ts', import.meta.url));
    fixtures.push(f);
    const { mainPort, probePort } = (await f.waitForLine((l) => l.fixture === 'listening')) as unknown as { mainPort: number; probePort: number };
    expect((await get(probePort, '/livez')).status).toBe(200);

    await get(mainPort, '/block?ms=4000');
    // Poll through the stall: answers come between the 250 ms chunks.
    const seen: Array<{ livez: number; readyz: number }> = [];
    const deadline = performance.now() + 4500;
    while (performance.now() < deadline && !seen.some((s) => s.livez === 503)) {
      const [livez, readyz] = await Promise.all([get(probePort, '/livez'), get(probePort, '/readyz')]);
      seen.push({ livez: livez.status, readyz: readyz.status });
      await delay(100);
    }
    expect(seen.some((s) => s.livez === 503), JSON.stringify(seen)).toBe(true);
    // A stalled loop is a liveness matter only: readiness does not flap with it.
    expect(seen.every((s) => s.readyz === 200), JSON.stringify(seen)).toBe(true);

    await f.waitForLine((l) => l.fixture === 'unblocked', 10_000);
    // One healthy one-second sample clears the stall.
    let livez = 0;
    for (let i = 0; i < 40 && livez !== 200; i += 1) {
      livez = (await get(probePort, '/livez')).status;
      if (livez !== 200) await delay(100);
    }
    expect(livez).toBe(200);
    f.kill('SIGTERM');
    expect((await f.exited).code).toBe(0);
  });

  it('keeps /livez at 200 through a blocking blip shorter than the window', async () => {
    const f = spawnFixture(new URL('../fixtures/event-loop-service.ts', import.meta.url));
    fixtures.push(f);
    const { mainPort, probePort } = (await f.waitForLine((l) => l.fixture === 'listening')) as unknown as { mainPort: number; probePort: number };
    await get(mainPort, '/block?ms=300');
    await f.waitForLine((l) => l.fixture === 'unblocked', 10_000);
    const statuses: number[] = [];
    for (let i = 0; i < 15; i += 1) {
      statuses.push((await get(probePort, '/livez')).status);
      await delay(100);
    }
    expect(statuses.every((s) => s === 200), JSON.stringify(statuses)).toBe(true);
    f.kill('SIGTERM');
    expect((await f.exited).code).toBe(0);
  });
});
