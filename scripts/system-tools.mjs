// The programs some test tiers spawn, and how `npm test` gets them: installed with apt-get when it
// can (root, apt-get on the PATH), otherwise one line naming what is missing and the command that
// installs it, before any test runs — instead of minutes of red `spawn haproxy ENOENT`.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readdirSync } from 'node:fs';
import { delimiter, join, relative, resolve, sep } from 'node:path';

/** Each program, the Debian package and Homebrew formula that provide it, and the tiers that spawn it. */
export const SYSTEM_TOOLS = [
  // The load balancer of the rolling-restart tests (the health-checked model).
  { bin: 'haproxy', apt: 'haproxy', brew: 'haproxy', tiers: ['e2e'] },
  // The kernel dataplane of the kube-proxy model (DNAT chains, conntrack), Linux only; the gRPC
  // rolling restart runs on it too.
  { bin: 'iptables', apt: 'iptables', brew: undefined, tiers: ['e2e', 'grpc'] },
  { bin: 'ip', apt: 'iproute2', brew: undefined, tiers: ['e2e', 'grpc'] },
  // Which replica each connection of the kube-proxy model reached (conntrack's event stream).
  { bin: 'conntrack', apt: 'conntrack', brew: undefined, tiers: ['e2e'] },
  // Private Redis instances and clusters for the fault tests (the shared one is never stopped).
  { bin: 'redis-server', apt: 'redis-server', brew: 'redis', tiers: ['deps'] },
  { bin: 'redis-cli', apt: 'redis-tools', brew: 'redis', tiers: ['deps'] },
  // A throwaway certificate for the HTTPS drain test.
  { bin: 'openssl', apt: 'openssl', brew: 'openssl', tiers: ['process'] },
];

/** Whether `bin` is an executable file in one of PATH's directories. */
export function onPath(bin, path) {
  return (path ?? '').split(delimiter).some((dir) => {
    if (!dir) return false;
    try {
      accessSync(join(dir, bin), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * The tiers (directories under test/) a vitest command line will run. Vitest's filters are words
 * contained in a test file's path; a word that is in no test file's path (an option's value, a
 * `-t` name) selects nothing, and with no word that selects a file every tier runs.
 */
export function selectedTiers(root, vitestArgs) {
  const testDir = join(root, 'test');
  const files = readdirSync(testDir, { recursive: true, withFileTypes: true })
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .filter((file) => file.endsWith('.test.ts') && !file.split(sep).includes('node_modules'));
  const words = vitestArgs.filter((arg) => !arg.startsWith('-')).map((arg) => relative(root, resolve(root, arg)));
  const chosen = files.filter((file) => words.some((word) => file.includes(word)));
  return new Set((chosen.length > 0 ? chosen : files).map((file) => file.split(sep)[1]));
}

/** The command a person would type to install `tools`, for this platform and user. */
export function installCommand(tools, { platform, isRoot }) {
  if (platform === 'darwin') {
    const formulas = [...new Set(tools.map((t) => t.brew).filter(Boolean))];
    const linuxOnly = tools.filter((t) => !t.brew).map((t) => t.bin);
    const parts = [formulas.length > 0 ? `brew install ${formulas.join(' ')}` : '', linuxOnly.length > 0 ? `(${linuxOnly.join(', ')}: Linux only)` : ''];
    return parts.filter(Boolean).join(' ');
  }
  const packages = [...new Set(tools.map((t) => t.apt))];
  return `${isRoot ? '' : 'sudo '}apt-get install -y ${packages.join(' ')}`;
}

/**
 * Makes sure the tools the selected tiers spawn are on `env.PATH`: installs the missing ones with
 * apt-get when running as root on a machine that has it. Returns undefined when everything is
 * there, else the one line to print before exiting non-zero.
 */
export function ensureSystemTools({ tiers, env, platform = process.platform, isRoot = process.getuid?.() === 0, log = (line) => console.error(line) }) {
  const needed = SYSTEM_TOOLS.filter((tool) => tool.tiers.some((tier) => tiers.has(tier)));
  let missing = needed.filter((tool) => !onPath(tool.bin, env.PATH));
  if (missing.length === 0) return undefined;

  if (platform === 'linux' && isRoot && onPath('apt-get', env.PATH)) {
    const packages = [...new Set(missing.map((t) => t.apt))];
    log(`run: installing ${packages.join(', ')} with apt-get (the tests spawn ${missing.map((t) => t.bin).join(', ')})`);
    const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
    const quiet = { env: aptEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] };
    const update = spawnSync('apt-get', ['update', '-qq'], quiet);
    const install = update.status === 0 ? spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], quiet) : update;
    if (install.status !== 0) log(`${install.stdout ?? ''}${install.stderr ?? ''}`.trim().split('\n').slice(-5).join('\n'));
    missing = missing.filter((tool) => !onPath(tool.bin, env.PATH));
    if (missing.length === 0) return undefined;
  }

  const names = missing.map((t) => `${t.bin} (${t.tiers.join(', ')})`).join(', ');
  return `npm test: missing ${names} on the PATH; install with: ${installCommand(missing, { platform, isRoot })}`;
}
