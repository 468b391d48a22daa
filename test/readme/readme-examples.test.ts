/**
 * The README's examples are code users copy: each block marked `<!-- example: name -->` is
 * extracted, type-checked with the project's strict settings, and run as a real process that must
 * become ready, serve, and exit 0 on SIGTERM. Ports 3000 (HTTP), 50051 (gRPC) and 9000 (probes)
 * are swapped for free ones; an example that serves gRPC must answer Health/Check SERVING.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { credentials, makeGenericClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HEALTH_SERVICE } from '@podkit/grpc';
import { get, waitFor } from '../support/http.js';
import { cleanup, spawnFixture, type Fixture } from '../support/process.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const out = join(here, '.generated');
const READMES = ['README.md', 'packages/lifecycle/README.md', 'packages/express/README.md', 'packages/fastify/README.md', 'packages/grpc/README.md'];

interface Example {
  name: string;
  source: string;
  code: string;
}

function extractExamples(): Example[] {
  const examples: Example[] = [];
  for (const file of READMES) {
    let text: string;
    try {
      text = readFileSync(join(root, file), 'utf8');
    } catch {
      continue;
    }
    const marker = /<!-- example: ([a-z0-9-]+) -->\s*```ts\n([\s\S]*?)```/g;
    for (const match of text.matchAll(marker)) examples.push({ name: match[1]!, source: file, code: match[2]! });
  }
  return examples;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const HealthClient = makeGenericClientConstructor(HEALTH_SERVICE, 'Health');

/** One grpc.health.v1.Health/Check for the overall status. */
function grpcHealth(port: number): Promise<string> {
  const client = new HealthClient(`127.0.0.1:${port}`, credentials.createInsecure());
  return new Promise<string>((resolve, reject) => {
    const check = client.Check as (req: unknown, opts: unknown, cb: (e: ServiceError | null, r?: { status: string }) => void) => void;
    check.call(client, { service: '' }, { deadline: Date.now() + 3000 }, (error, response) => (error ? reject(error) : resolve(response!.status)));
  }).finally(() => client.close());
}

const examples = extractExamples();
const fixtures: Fixture[] = [];
afterEach(() => cleanup(fixtures));

describe('README examples', () => {
  beforeAll(() => {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    for (const example of examples) writeFileSync(join(out, `${example.name}.ts`), example.code);
    writeFileSync(
      join(out, 'tsconfig.json'),
      JSON.stringify({ extends: '../../../tsconfig.base.json', compilerOptions: { noEmit: true, composite: false, declaration: false, declarationMap: false }, include: ['*.ts'] }),
    );
  });

  it('has runnable examples in the README', () => {
    expect(examples.map((e) => e.name)).toContain('core-node-http');
  });

  it('type-checks every example under strict TypeScript', () => {
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    try {
      execFileSync(process.execPath, [tsc, '-p', join(out, 'tsconfig.json')], { encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      const { stdout } = error as { stdout?: string };
      throw new Error(`README examples do not type-check:\n${stdout ?? String(error)}`);
    }
  });

  for (const example of examples) {
    it(`runs "${example.name}" (${example.source}): ready, serves, exits 0 on SIGTERM`, async () => {
      const mainPort = await freePort();
      const probePort = await freePort();
      const grpcPort = await freePort();
      const code = example.code
        .replace(/\b3000\b/g, String(mainPort))
        .replace(/\b9000\b/g, String(probePort))
        .replace(/\b50051\b/g, String(grpcPort));
      const file = join(out, `${example.name}.run.ts`);
      writeFileSync(file, code);
      const f = spawnFixture(file, { PORT: String(mainPort), PROBE_PORT: String(probePort) });
      fixtures.push(f);
      await waitFor(async () => (await get(probePort, '/readyz')).status === 200, { timeoutMs: 20_000, intervalMs: 50 });
      const servesHttp = /\b3000\b/.test(example.code);
      const servesGrpc = /\b50051\b/.test(example.code);
      expect(servesHttp || servesGrpc, 'the example serves something on port 3000 or 50051').toBe(true);
      if (servesHttp) expect((await get(mainPort, '/')).status).toBeLessThan(500);
      if (servesGrpc) expect(await grpcHealth(grpcPort)).toBe('SERVING');
      // An example that mounts the probe routes on the app's port must answer them there too.
      const prefix = /prefix: '([^']+)'/.exec(example.code)?.[1];
      if (prefix) expect((await get(mainPort, `${prefix}/readyz`)).status).toBe(200);
      f.kill('SIGTERM');
      const { code: exitCode } = await f.exited;
      expect(exitCode, `output:\n${f.text.join('\n')}`).toBe(0);
    });
  }
});
