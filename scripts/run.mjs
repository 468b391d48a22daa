#!/usr/bin/env node
// One entry point for the README's commands on a fresh clone with only Node and npm:
//   node scripts/run.mjs test|demo|bench|lint|setup|tools [args…]
// `test` first makes sure the system tools the selected tiers spawn are there (scripts/system-tools.mjs),
// then every command installs the workspace from the lockfile with the pinned pnpm
// (scripts/pnpm.mjs), builds every package and runs.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withPinnedPnpm } from './pnpm.mjs';
import { ensureSystemTools, selectedTiers } from './system-tools.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1', TURBO_NO_UPDATE_NOTIFIER: '1' };

function run(cmd, args) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function fail(line) {
  console.error(line);
  process.exit(1);
}

function setup() {
  try {
    ({ env } = withPinnedPnpm(root, env));
  } catch (error) {
    fail(`run: ${error.message}`);
  }
  const install = process.env.CI ? ['install', '--frozen-lockfile'] : ['install', '--prefer-offline'];
  if (run('pnpm', install) !== 0) process.exit(1);
  if (run('pnpm', ['run', 'build']) !== 0) process.exit(1);
}

function checkTools(vitestArgs) {
  const line = ensureSystemTools({ tiers: selectedTiers(root, vitestArgs), env });
  if (line) fail(line);
}

// Below the supported Node versions the tools may still run (CI also runs on the machine's own
// Node, whatever it is); say so once rather than refuse.
const { engines } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const [minMajor = 0, minMinor = 0] = /(\d+)\.(\d+)/.exec(engines.node)?.slice(1).map(Number) ?? [];
if (major < minMajor || (major === minMajor && minor < minMinor)) {
  console.error(`run: Node ${process.version} is older than the supported versions (${engines.node}); carrying on`);
}

const [command = 'test', ...rest] = process.argv.slice(2);
// Ctrl-C reaches the whole process group: the child handles it (podkit drains and exits 0), so
// this launcher must not die first and report a failure the service did not have.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => {});
const bin = (pkg, file) => join(root, 'node_modules', pkg, file);
switch (command) {
  case 'test':
    checkTools(rest);
    setup();
    process.exit(run(process.execPath, [bin('vitest', 'vitest.mjs'), 'run', ...rest]));
    break;
  case 'tools':
    checkTools(rest);
    break;
  case 'demo':
    setup();
    process.exit(run(process.execPath, [join(root, 'scripts', 'demo.mjs'), ...rest]));
    break;
  case 'bench':
    setup();
    process.exit(run(process.execPath, [join(root, 'bench', 'run.mjs'), ...rest]));
    break;
  case 'lint':
    setup();
    process.exit(run(process.execPath, [join(root, 'scripts', 'lint.mjs'), ...rest]));
    break;
  case 'setup':
    setup();
    break;
  default:
    console.error(`unknown command ${command}: use test, demo, bench, lint, setup or tools`);
    process.exit(2);
}
