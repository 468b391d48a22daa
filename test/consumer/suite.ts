/**
 * The packages as a consumer meets them, for one generation of the frameworks (Express 4 with
 * Fastify 4, or Express 5 with Fastify 5, as the consumer's own dependencies): the packed tarballs
 * installed with npm into a fresh project outside the workspace, type-checked and compiled with
 * moduleResolution NodeNext and Bundler, then every program — compiled TypeScript, plain ESM,
 * CommonJS `require()` — started with plain Node: it answers /readyz and exits 0 on SIGTERM.
 */
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { get } from '../support/http.js';
import { cleanup, spawnNode, type Fixture } from '../support/process.js';
import { createConsumerProject, packPackages, REPO, tsc, type ConsumerProject } from './project.js';
import { commonjsProgram, esmProgram, TSCONFIGS, typescriptProgram, type Framework } from './programs.js';

export interface Generation {
  /** "Express 4 and Fastify 4". */
  name: string;
  /** The major version of both frameworks. */
  major: number;
  /** The consumer's dependencies from the npm registry, name → range. */
  dependencies: Record<string, string>;
}

// The TypeScript and Node types a consumer on the oldest supported Node would have; ioredis (its
// own types) and @types/pg for the /redis and /postgres helpers' client types.
const TOOLING = { typescript: '~5.9.3', '@types/node': '^22.13.0', ioredis: '^5.4.0', '@types/pg': '^8.11.0' };

export const GENERATIONS = {
  4: { name: 'Express 4 and Fastify 4', major: 4, dependencies: { express: '^4.21.2', '@types/express': '^4.17.21', fastify: '^4.29.0', ...TOOLING } },
  5: { name: 'Express 5 and Fastify 5', major: 5, dependencies: { express: '^5.1.0', '@types/express': '^5.0.0', fastify: '^5.2.0', ...TOOLING } },
} satisfies Record<number, Generation>;

const FRAMEWORKS: Framework[] = ['express', 'fastify'];
const LIFECYCLE = JSON.parse(readFileSync(join(REPO, 'packages', 'lifecycle', 'package.json'), 'utf8')) as { version: string; description: string };

export function describeConsumer(generation: Generation): void {
  describe(`a consumer of the packed packages with ${generation.name}`, () => {
    let project: ConsumerProject;
    const temporary: string[] = [];
    const running: Fixture[] = [];

    beforeAll(async () => {
      const packed = await packPackages();
      temporary.push(packed.dir);
      const files: Record<string, string> = {};
      for (const [name, config] of Object.entries(TSCONFIGS)) files[name] = `${JSON.stringify(config, null, 2)}\n`;
      for (const framework of FRAMEWORKS) {
        files[`src/${framework}.ts`] = typescriptProgram(framework);
        files[`esm/${framework}.js`] = esmProgram(framework);
        files[`cjs/${framework}.cjs`] = commonjsProgram(framework);
      }
      project = await createConsumerProject(Object.values(packed.tarballs), generation.dependencies, files);
      temporary.push(project.dir);
    }, 300_000);
    afterEach(() => cleanup(running));
    afterAll(async () => {
      await Promise.all(temporary.map((dir) => rm(dir, { recursive: true, force: true })));
    });

    it('installs the framework the consumer chose, and one copy of @podkit/lifecycle: the packed one', () => {
      const require = createRequire(join(project.dir, 'package.json'));
      const major = (name: string) => Number((require(`${name}/package.json`) as { version: string }).version.split('.')[0]);
      expect([major('express'), major('fastify')]).toEqual([generation.major, generation.major]);
      // The adapters' `@podkit/lifecycle` range (a `workspace:^` that pnpm pack rewrote) is met by
      // the tarball at the top: no second copy under an adapter, none fetched from the registry.
      for (const adapter of ['express', 'fastify']) {
        expect(existsSync(join(project.dir, 'node_modules', '@podkit', adapter, 'node_modules', '@podkit', 'lifecycle'))).toBe(false);
      }
      const installed = require('@podkit/lifecycle/package.json') as { version: string; description: string };
      expect(installed).toMatchObject({ version: LIFECYCLE.version, description: LIFECYCLE.description });
    });

    for (const [config, { compilerOptions }] of Object.entries(TSCONFIGS)) {
      const resolution = compilerOptions.moduleResolution === 'bundler' ? 'Bundler' : 'NodeNext';
      const libCheck = compilerOptions.skipLibCheck ? 'with skipLibCheck' : 'checking every declaration file';
      it(`type-checks and compiles a program using every entry point with moduleResolution ${resolution}, ${libCheck}`, async () => {
        await tsc(project, config);
      }, 180_000);
    }

    const programs = FRAMEWORKS.flatMap((framework) => [
      { what: `${framework}: TypeScript compiled for NodeNext`, file: `out/nodenext/${framework}.js`, framework },
      { what: `${framework}: TypeScript compiled for Bundler`, file: `out/bundler/${framework}.js`, framework },
      { what: `${framework}: plain ESM JavaScript`, file: `esm/${framework}.js`, framework },
      { what: `${framework}: CommonJS require()`, file: `cjs/${framework}.cjs`, framework },
    ]);
    for (const program of programs) {
      it(`runs ${program.what}: ready on /readyz, probes on the app's port too, exit 0 on SIGTERM`, async () => {
        const service = spawnNode(join(project.dir, program.file), { cwd: project.dir, env: project.env });
        running.push(service);
        const line = await service.waitForLine((l) => l.consumer === 'listening', 20_000);
        expect(line.framework).toBe(program.framework);
        const port = line.port as number;
        const probePort = line.probePort as number;

        expect((await get(probePort, '/readyz')).status).toBe(200);
        expect((await get(port, '/health/readyz')).status).toBe(200);
        const hello = await get(port, '/');
        expect(hello.status).toBe(200);
        expect(hello.body).toBe('hello');

        service.kill('SIGTERM');
        const exit = await service.exited;
        expect({ code: exit.code, signal: exit.signal }, service.text.join('\n')).toEqual({ code: 0, signal: null });
        expect(service.lines.some((l) => l.event === 'state' && l.to === 'draining')).toBe(true);
        // Nothing on stderr: no ExperimentalWarning for require(esm), no deprecation, no stack.
        expect(service.text).toEqual([]);
      }, 60_000);
    }
  });
}
