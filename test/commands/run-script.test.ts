/**
 * scripts/run.mjs, behind `npm test` and `npm run demo`: which pnpm it runs, and what it does about
 * the system tools the tests spawn. Run as a process with a PATH of fake programs (scripts that
 * record how they were called), so nothing is installed and nothing leaves the machine.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const RUN = join(REPO, 'scripts', 'run.mjs');
const PINNED = /^pnpm@(\d+\.\d+\.\d+)/.exec((JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { packageManager: string }).packageManager)![1]!;
const isRoot = process.getuid?.() === 0;

interface Call {
  program: string;
  args: string[];
  /** The first directory of the PATH the program was started with. */
  firstOnPath: string;
  debianFrontend?: string;
}

let dir: string;
let bin: string;
let cache: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'podkit-run-script-'));
  bin = join(dir, 'bin');
  cache = join(dir, 'cache');
  mkdirSync(bin);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Writes an executable `name` into `where` that records its call in calls.log, then runs `body`
 * (JavaScript with `args` in scope) and exits 0 unless the body exits otherwise.
 */
function fake(where: string, name: string, body = ''): void {
  mkdirSync(where, { recursive: true });
  const file = join(where, name);
  writeFileSync(
    file,
    `#!${process.execPath}
const fs = require('node:fs');
const path = require('node:path');
const args = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(join(dir, 'calls.log'))}, JSON.stringify({ program: ${JSON.stringify(name)}, args, firstOnPath: process.env.PATH.split(${JSON.stringify(delimiter)})[0], debianFrontend: process.env.DEBIAN_FRONTEND }) + '\\n');
${body}
`,
  );
  chmodSync(file, 0o755);
}

function calls(): Call[] {
  const log = join(dir, 'calls.log');
  return existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Call) : [];
}

/** Runs `node scripts/run.mjs …args` with only the fake programs on the PATH. `asRoot` maps to root in a user namespace when the test is not root. */
function runScript(args: string[], { asRoot = false } = {}) {
  const env = { PATH: bin, HOME: dir, PODKIT_CACHE_DIR: cache };
  const [command, commandArgs] = asRoot && !isRoot ? ['unshare', ['--map-root-user', process.execPath, RUN, ...args]] : [process.execPath, [RUN, ...args]];
  // SIGKILL: run.mjs ignores SIGTERM (it leaves Ctrl-C to the service it runs).
  const result = spawnSync(command as string, commandArgs as string[], { cwd: REPO, env, encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  // Below the supported Node versions run.mjs says so on a line of its own; not what is tested here.
  const stderr = result.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('run: Node '));
  return { status: result.status, stdout: result.stdout, stderr };
}

const TOOLS_BUT_HAPROXY = ['iptables', 'ip', 'conntrack', 'redis-server', 'redis-cli', 'openssl'];

describe('npm test, when a system tool the tests spawn is missing', () => {
  it('stops before installing anything or starting vitest, with one line naming the tool and the command that installs it', () => {
    for (const tool of TOOLS_BUT_HAPROXY) fake(bin, tool);
    // Both fail, so a run.mjs that went on anyway would stop there instead of running the suite.
    fake(bin, 'pnpm', 'process.exit(1);');
    fake(bin, 'npm', 'process.exit(1);');
    const report = join(dir, 'report.json');

    const result = runScript(['test', '--reporter=json', `--outputFile.json=${report}`]);

    expect(result.status).toBe(1);
    expect(result.stderr).toEqual([`npm test: missing haproxy (e2e) on the PATH; install with: ${isRoot ? '' : 'sudo '}apt-get install -y haproxy`]);
    expect(result.stdout).toBe('');
    expect(calls(), 'neither pnpm nor npm was run').toEqual([]);
    expect(existsSync(report), 'vitest never started').toBe(false);
  });

  it('installs it with apt-get (update, then a quiet non-interactive install) when run as root, then carries on', () => {
    for (const tool of TOOLS_BUT_HAPROXY) fake(bin, tool);
    // apt-get "installs" haproxy by writing a fake one onto the PATH.
    fake(bin, 'apt-get', `if (args[0] === 'install') { fs.writeFileSync(path.join(${JSON.stringify(bin)}, 'haproxy'), '#!/bin/sh\\n'); fs.chmodSync(path.join(${JSON.stringify(bin)}, 'haproxy'), 0o755); }`);

    const result = runScript(['tools'], { asRoot: true });

    expect(result.status).toBe(0);
    expect(calls().map((c) => [c.program, ...c.args].join(' '))).toEqual(['apt-get update -qq', 'apt-get install -y -qq --no-install-recommends haproxy']);
    expect(calls().every((c) => c.debianFrontend === 'noninteractive')).toBe(true);
    expect(result.stderr).toEqual(['run: installing haproxy with apt-get (the tests spawn haproxy)']);
  });

  it('ends with the one line when apt-get cannot install it', () => {
    for (const tool of TOOLS_BUT_HAPROXY) fake(bin, tool);
    fake(bin, 'apt-get', `if (args[0] === 'install') { console.error('E: Unable to locate package haproxy'); process.exit(100); }`);

    const result = runScript(['tools'], { asRoot: true });

    expect(result.status).toBe(1);
    expect(result.stderr.at(-1)).toBe('npm test: missing haproxy (e2e) on the PATH; install with: apt-get install -y haproxy');
    expect(result.stderr).toContain('E: Unable to locate package haproxy');
  });

  it('asks only for the tools of the tiers it will run', () => {
    expect(runScript(['tools', 'test/unit'])).toEqual({ status: 0, stdout: '', stderr: [] });
    fake(bin, 'redis-server');
    fake(bin, 'redis-cli');
    const e2e = runScript(['tools', 'test/e2e/harness.test.ts', 'test/deps']);
    expect(e2e.status).toBe(1);
    expect(e2e.stderr).toEqual([`npm test: missing haproxy (e2e), iptables (e2e, grpc), ip (e2e, grpc), conntrack (e2e) on the PATH; install with: ${isRoot ? '' : 'sudo '}apt-get install -y haproxy iptables iproute2 conntrack`]);
  });
});

describe('the pnpm that installs and builds the workspace', () => {
  const pinnedBin = () => join(cache, `pnpm-${PINNED}`, 'node_modules', '.bin');

  it(`is the pinned pnpm ${PINNED}, not a pnpm of another major on the PATH, and comes first on the PATH of what it runs`, () => {
    fake(bin, 'pnpm', `if (args[0] === '--version') console.log('12.0.0'); else process.exit(1);`);
    fake(pinnedBin(), 'pnpm');

    const result = runScript(['setup']);

    expect(result.status).toBe(0);
    expect(calls().map((c) => [c.firstOnPath === bin ? 'PATH' : c.firstOnPath === pinnedBin() ? 'pinned' : c.firstOnPath, c.args.join(' ')])).toEqual([
      ['PATH', '--version'],
      ['pinned', 'install --prefer-offline'],
      ['pinned', 'run build'],
    ]);
  });

  it('is the PATH\'s pnpm when that reports the pinned version', () => {
    fake(bin, 'pnpm', `if (args[0] === '--version') console.log(${JSON.stringify(PINNED)});`);
    fake(bin, 'npm', 'process.exit(1);');

    const result = runScript(['setup']);

    expect(result.status).toBe(0);
    expect(calls().map((c) => [c.program, c.args.join(' ')])).toEqual([
      ['pnpm', '--version'],
      ['pnpm', 'install --prefer-offline'],
      ['pnpm', 'run build'],
    ]);
  });

  it('is installed with npm into the cache outside the repository when the PATH has no pnpm, once', () => {
    // npm "installs" by writing a fake pnpm where npm would link it.
    fake(bin, 'npm', `const prefix = args[args.indexOf('--prefix') + 1]; fs.mkdirSync(path.join(prefix, 'node_modules', '.bin'), { recursive: true }); fs.copyFileSync(${JSON.stringify(join(dir, 'pnpm-template'))}, path.join(prefix, 'node_modules', '.bin', 'pnpm')); fs.chmodSync(path.join(prefix, 'node_modules', '.bin', 'pnpm'), 0o755);`);
    fake(dir, 'pnpm-template');

    expect(runScript(['setup']).status).toBe(0);
    expect(runScript(['setup']).status).toBe(0);

    const installs = calls().filter((c) => c.program === 'npm');
    expect(installs).toHaveLength(1);
    expect(installs[0]!.args).toContain(`pnpm@${PINNED}`);
    expect(existsSync(join(pinnedBin(), 'pnpm'))).toBe(true);
    expect(calls().filter((c) => c.program === 'pnpm-template').map((c) => [c.firstOnPath, c.args.join(' ')])).toEqual([
      [pinnedBin(), 'install --prefer-offline'],
      [pinnedBin(), 'run build'],
      [pinnedBin(), 'install --prefer-offline'],
      [pinnedBin(), 'run build'],
    ]);
  });
});
