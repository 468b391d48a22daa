/**
 * What a consumer of the packages has: the tarballs `pnpm pack` makes (what `pnpm publish` uploads,
 * `workspace:` ranges rewritten), installed with npm into a fresh project outside the workspace,
 * next to the consumer's own framework and TypeScript from the npm registry.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const PACKAGES = ['lifecycle', 'express', 'fastify'] as const;

/** Packs the three packages into a new temporary directory; returns it and the tarball of each. */
export async function packPackages(): Promise<{ dir: string; tarballs: Record<(typeof PACKAGES)[number], string> }> {
  const dir = await mkdtemp(join(tmpdir(), 'podkit-tarballs-'));
  for (const pkg of PACKAGES) {
    // The pnpm the workspace pins (`npm test` puts it first on PATH): it rewrites `workspace:^`.
    await run('pnpm', ['pack', '--pack-destination', dir], { cwd: join(REPO, 'packages', pkg), timeout: 60_000 });
  }
  const files = await readdir(dir);
  const tarball = (pkg: string) => {
    const file = files.find((f) => f.startsWith(`podkit-${pkg}-`) && f.endsWith('.tgz'));
    if (!file) throw new Error(`pnpm pack made no tarball for @podkit/${pkg} in ${dir}: ${files.join(', ')}`);
    return join(dir, file);
  };
  return { dir, tarballs: { lifecycle: tarball('lifecycle'), express: tarball('express'), fastify: tarball('fastify') } };
}

/**
 * The environment for npm in the consumer's project: the test's own, minus what a surrounding
 * `npm test` / `pnpm exec` put there about the workspace (npm_package_*, npm_lifecycle_*, the
 * workspace's npm_config_* values). Registry, cache, proxy and TLS settings stay.
 */
export function consumerEnv(): NodeJS.ProcessEnv {
  const keep = /^npm_config_(registry|cache|userconfig|globalconfig|https?_proxy|proxy|no_?proxy|ca|cafile|strict_ssl|@.+:registry|\/\/.+)$/i;
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(npm_|pnpm_|INIT_CWD$)/i.test(key) || keep.test(key)));
}

export interface ConsumerProject {
  dir: string;
  env: NodeJS.ProcessEnv;
}

/**
 * Creates a project in a new temporary directory with `files` (path → content) and installs the
 * tarballs plus `dependencies` (name → range) with npm. `--prefer-offline`: npm's cache answers
 * what it already holds, so only a first run downloads.
 */
export async function createConsumerProject(
  tarballs: readonly string[],
  dependencies: Record<string, string>,
  files: Record<string, string>,
): Promise<ConsumerProject> {
  const dir = await mkdtemp(join(tmpdir(), 'podkit-consumer-'));
  const env = consumerEnv();
  await writeFile(join(dir, 'package.json'), `${JSON.stringify({ name: 'podkit-consumer', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  const specs = [...tarballs, ...Object.entries(dependencies).map(([name, range]) => `${name}@${range}`)];
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...specs], {
    cwd: dir,
    env,
    timeout: 240_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return { dir, env };
}

/** Runs `tsc -p <config>` in the project with the project's own TypeScript. */
export async function tsc(project: ConsumerProject, config: string): Promise<void> {
  try {
    await run(process.execPath, [join(project.dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', config], { cwd: project.dir, env: project.env, timeout: 120_000 });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`tsc -p ${config} failed:\n${stdout}${stderr}`);
  }
}
