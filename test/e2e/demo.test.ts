/**
 * `pnpm demo` (scripts/demo.mjs): the Express example in the foreground of a terminal, until Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { get, waitFor } from '../support/http.js';
import { freePort } from './harness/index.js';

const demo = fileURLToPath(new URL('../../scripts/demo.mjs', import.meta.url));
const groups: number[] = [];
afterEach(() => {
  for (const pgid of groups.splice(0)) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

describe('the demo', () => {
  it('prints the probe curl commands once ready, keeps serving, and on Ctrl-C lets podkit finish a request in flight and exit 0', async () => {
    const port = await freePort();
    const probePort = await freePort();
    // Its own process group, like a terminal's foreground job: Ctrl-C signals the whole group.
    const child = spawn(process.execPath, [demo], { env: { ...process.env, PORT: String(port), PROBE_PORT: String(probePort) }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    groups.push(child.pid!);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

    await waitFor(() => stdout.includes('is ready'), { timeoutMs: 20_000 });
    expect(stdout).toContain(`curl -i localhost:${probePort}/readyz`);
    expect(stdout).toContain(`curl -i localhost:${probePort}/livez`);
    expect(stdout).toContain(`curl -i localhost:${probePort}/startupz`);
    expect((await get(probePort, '/readyz')).status).toBe(200);

    const inFlight = get(port, '/work?ms=800');
    await new Promise((r) => setTimeout(r, 200));
    process.kill(-child.pid!, 'SIGINT');

    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(response.headers.connection).toBe('close');
    expect(await exited).toBe(0);
    // One signal reached the service (a second would have forced exit 130).
    expect(stdout).toMatch(/"msg":"podkit exit 0"/);
    expect(stderr).toContain('the service exited with code 0 (clean shutdown)');
  });
});
