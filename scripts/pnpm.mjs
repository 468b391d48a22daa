// The pnpm that installs and builds this workspace: the version `packageManager` pins, whatever
// pnpm (if any) the PATH holds.
//
// Why not the PATH's pnpm: another major reads the workspace differently (pnpm 12 replaced
// `onlyBuiltDependencies`, writes another lockfile), and pnpm ≥ 11 tries to switch to the pinned
// version by fetching `@pnpm/exe@<version>`, which is not published for every release (10.34.8
// has none): `ERR_PNPM_BAD_CONFIG_DEP`, and nothing runs. So the PATH's pnpm is used only when it
// reports exactly the pinned version (a corepack shim does); otherwise npm installs the pinned
// one once into a cache outside the repository, and that directory goes first on the PATH of
// every command run from here — so turbo, the tests and the lint find the same pnpm.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/** Where downloads shared by every clone live (pnpm here; the CI's Node builds too). */
export function cacheDir(env) {
  if (env.PODKIT_CACHE_DIR) return env.PODKIT_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'podkit');
}

/** `pnpm@10.34.8` (or `pnpm@10.34.8+sha512.…`) in the root package.json → `10.34.8`. */
export function pinnedPnpmVersion(root) {
  const { packageManager = '' } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const match = /^pnpm@(\d+\.\d+\.\d+)/.exec(packageManager);
  if (!match) throw new Error(`package.json: packageManager must pin pnpm (pnpm@x.y.z), found ${JSON.stringify(packageManager)}`);
  return match[1];
}

/** The version the PATH's `pnpm` reports in the workspace, or undefined when there is none. */
function versionOnPath(root, env) {
  const probe = spawnSync('pnpm', ['--version'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    // Asked for its own version only: no switching to the pinned one (pnpm ≥ 10 would try to fetch
    // it), and a corepack shim downloads the pinned version without a prompt on stdin.
    env: { ...env, npm_config_manage_package_manager_versions: 'false', COREPACK_ENABLE_DOWNLOAD_PROMPT: '0' },
  });
  if (probe.error || probe.status !== 0) return undefined;
  // pnpm may print a warning line before the version.
  return probe.stdout.trim().split('\n').pop()?.trim();
}

/**
 * Returns the environment to run pnpm (and everything that may call it) with: `env` itself when
 * the PATH's pnpm is the pinned one, else `env` with the pinned pnpm's directory first on PATH.
 * Installs the pinned pnpm with npm on first use. `log` gets one line when it does.
 */
export function withPinnedPnpm(root, env, log = (line) => console.error(line)) {
  const version = pinnedPnpmVersion(root);
  if (versionOnPath(root, env) === version) return { env, version, source: 'PATH' };

  const prefix = join(cacheDir(env), `pnpm-${version}`);
  const bin = join(prefix, 'node_modules', '.bin');
  if (!existsSync(join(bin, 'pnpm'))) {
    log(`run: installing pnpm@${version} (the version package.json pins) into ${prefix}`);
    // Into a directory of its own, renamed at the end: a run interrupted half-way, or a second
    // run at the same time, never leaves a half-installed pnpm behind under the final name.
    const staging = `${prefix}.${process.pid}.tmp`;
    mkdirSync(staging, { recursive: true });
    const install = spawnSync('npm', ['install', '--prefix', staging, '--no-save', '--no-audit', '--no-fund', '--loglevel=error', `pnpm@${version}`], {
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (install.error || install.status !== 0 || !existsSync(join(staging, 'node_modules', '.bin', 'pnpm'))) {
      rmSync(staging, { recursive: true, force: true });
      throw new Error(`could not install pnpm@${version} with npm (${install.error?.message ?? `exit ${install.status}`}); install it yourself: npm install -g pnpm@${version}`);
    }
    try {
      renameSync(staging, prefix);
    } catch {
      // Another run got there first: its copy is as good as this one.
      rmSync(staging, { recursive: true, force: true });
    }
  }
  const PATH = [bin, env.PATH].filter(Boolean).join(delimiter);
  return { env: { ...env, PATH }, version, source: prefix };
}
