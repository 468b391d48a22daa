import { afterEach, describe, expect, it } from 'vitest';
import { get } from '../support/http.js';
import { cleanup, spawnFixture, type Fixture } from '../support/process.js';

const fixtures: Fixture[] = [];
afterEach(() => cleanup(fixtures));

describe('a forked service', () => {
  it('answers its probes and exits 0 on SIGTERM', async () => {
    const f = spawnFixture(new URL('../fixtures/basic-service.ts', import.meta.url));
    fixtures.push(f);
    const ready = await f.waitForLine((l) => l.fixture === 'listening');
    expect((await get(ready.probePort as number, '/readyz')).status).toBe(200);
    expect((await get(ready.mainPort as number, '/')).body).toBe('hello');
    f.kill('SIGTERM');
    expect((await f.exited).code).toBe(0);
  });
});
