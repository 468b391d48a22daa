#!/usr/bin/env node
// One entry point for the README's commands on a fresh clone with only Node and npm:
//   node scripts/run.mjs test|demo|bench [args…]
// Installs pnpm (through npm) when it is missing, installs the workspace from the lockfile,
// builds every package, then runs the command.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const PNPM = 'pnpm@10.34.8';
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1', TURBO_NO_UPDATE_NOTIFIER: '1' };

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env, ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function pnpm(args) {
  const onPath = spawnSync('pnpm', ['--version'], { env, stdio: 'ignore' }).status === 0;
  return onPath ? run('pnpm', args) : run('npm', ['exec', '--yes', `--package=${PNPM}`, '--', 'pnpm', ...args]);
}

function setup() {
  const install = process.env.CI ? ['install', '--frozen-lockfile'] : ['install', '--prefer-offline'];
  if (pnpm(install) !== 0) process.exit(1);
  if (pnpm(['run', 'build']) !== 0) process.exit(1);
}

const [command = 'test', ...rest] = process.argv.slice(2);
// Ctrl-C reaches the whole process group: the child handles it (podkit drains and exits 0), so
// this launcher must not die first and report a failure the service did not have.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => {});
setup();
const bin = (pkg, file) => join(root, 'node_modules', pkg, file);
switch (command) {
  case 'test':
    process.exit(run(process.execPath, [bin('vitest', 'vitest.mjs'), 'run', ...rest]));
    break;
  case 'demo':
    process.exit(run(process.execPath, [join(root, 'scripts', 'demo.mjs'), ...rest]));
    break;
  case 'bench':
    process.exit(run(process.execPath, [join(root, 'bench', 'run.mjs'), ...rest]));
    break;
  case 'setup':
    break;
  default:
    console.error(`unknown command ${command}: use test, demo, bench or setup`);
    process.exit(2);
}
