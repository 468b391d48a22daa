/**
 * A network namespace of the test's own: the "node" the kube-proxy model runs on. Everything the
 * model's traffic can reach is inside it — the Service VIP, the pod IPs (addresses on its `lo`), the
 * replicas, the load generator — and it has no other interface, so nothing in it is routable from
 * or to the rest of the machine.
 *
 * Names are `podkit-<pid of the creating process>-<random>`. A namespace whose creator is gone is
 * left over from a run that crashed (SIGKILL, a killed test worker): it is removed, with any process
 * still inside, before a new one is made. Namespaces of live runs (another test file in parallel)
 * are never touched.
 *
 * Needs root, `ip` (iproute2) and iptables. When something is missing the harness throws
 * `DataplaneUnavailableError` naming it and the command that installs it: a test on this model
 * fails, it never skips.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** Tools the kube-proxy model runs, and the Debian package each comes from. */
export const DATAPLANE_TOOLS = {
  ip: 'iproute2',
  iptables: 'iptables',
  'iptables-restore': 'iptables',
  'iptables-save': 'iptables',
  conntrack: 'conntrack',
} as const;
export type DataplaneTool = keyof typeof DATAPLANE_TOOLS;

export class DataplaneUnavailableError extends Error {
  override readonly name = 'DataplaneUnavailableError';
  constructor(readonly missing: string[], detail?: string) {
    super(
      `the kube-proxy model needs a network namespace and iptables, and cannot run here: ${missing.join('; ')}` +
        (detail ? `\n${detail}` : ''),
    );
  }
}

export interface DataplaneCheckOptions {
  /** Tools needed. @default every tool but `conntrack` (only per-connection attribution needs it) */
  tools?: DataplaneTool[];
  /** PATH to look the tools up in. @default process.env.PATH */
  path?: string;
}

function hasTool(tool: string, path: string | undefined): boolean {
  const result = spawnSync('sh', ['-c', `command -v ${tool}`], { env: { ...process.env, PATH: path ?? process.env.PATH ?? '' }, stdio: 'ignore' });
  return result.status === 0;
}

/** What is missing for the kube-proxy model, each with the command that installs it; empty when all is there. */
export function missingDataplaneTools(options: DataplaneCheckOptions = {}): string[] {
  const tools = options.tools ?? (Object.keys(DATAPLANE_TOOLS).filter((t) => t !== 'conntrack') as DataplaneTool[]);
  const missing: string[] = [];
  if (process.platform !== 'linux') missing.push(`Linux network namespaces (this is ${process.platform})`);
  if (typeof process.getuid === 'function' && process.getuid() !== 0) missing.push('root (ip netns and iptables need CAP_NET_ADMIN and CAP_SYS_ADMIN)');
  const absent = tools.filter((tool) => !hasTool(tool, options.path));
  if (absent.length > 0) {
    const packages = [...new Set(absent.map((t) => DATAPLANE_TOOLS[t]))];
    missing.push(`${absent.join(', ')} not found on the PATH (apt-get install -y ${packages.join(' ')})`);
  }
  return missing;
}

/** Throws DataplaneUnavailableError unless everything the kube-proxy model needs is there. */
export function requireDataplane(options: DataplaneCheckOptions = {}): void {
  const missing = missingDataplaneTools(options);
  if (missing.length > 0) throw new DataplaneUnavailableError(missing);
}

/** Runs a command; resolves with stdout, rejects with its stderr. */
export function run(command: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')}: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

const NAME = /^podkit-(\d+)-[0-9a-f]+$/;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function listNetns(): Promise<string[]> {
  // `ip netns list` prints "name" or "name (id: N)", one a line.
  return (await run('ip', ['netns', 'list'])).split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '').filter(Boolean);
}

/**
 * Removes `podkit-<pid>-…` namespaces whose creating process is gone (runs that crashed), first
 * killing any process still inside. Returns their names.
 */
export async function removeStaleNetns(): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await listNetns()) {
    const match = NAME.exec(name);
    if (!match || isAlive(Number(match[1]))) continue;
    const pids = (await run('ip', ['netns', 'pids', name]).catch(() => '')).split('\n').map(Number).filter((p) => p > 0);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await run('ip', ['netns', 'delete', name]).catch(() => {});
    removed.push(name);
  }
  return removed;
}

export interface Netns {
  readonly name: string;
  /** Runs a command inside the namespace; resolves with stdout. */
  run(command: string, args: string[], input?: string): Promise<string>;
  /**
   * How to start `command` inside the namespace. `ip netns exec` execs the command in place (no
   * fork), so the spawned pid is the command's own and signals reach it, as the kubelet's reach a
   * container's PID 1.
   */
  wrap(command: string, args: string[]): { command: string; args: string[] };
  /** Assigns an address (a /32 on the namespace's `lo`), e.g. a pod IP. */
  addAddress(address: string): Promise<void>;
  /** The addresses assigned with `addAddress` (nothing else assigns any in the namespace). */
  readonly assigned: ReadonlySet<string>;
  /** The IPv4 addresses assigned inside, `lo`'s 127.0.0.1 included. */
  addresses(): Promise<string[]>;
  /** The network interfaces inside (only `lo`, by construction). */
  interfaces(): Promise<string[]>;
  /** Deletes the namespace (its processes must be gone: the caller kills what it started). */
  delete(): Promise<void>;
}

const live = new Set<string>();
let exitHookInstalled = false;

/** A fresh namespace with only `lo`, up. Removes stale namespaces of crashed runs first. */
export async function createNetns(): Promise<Netns> {
  requireDataplane();
  await removeStaleNetns();
  const name = `podkit-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await run('ip', ['netns', 'add', name]);
  } catch (error) {
    throw new DataplaneUnavailableError(['`ip netns add` failed (network namespaces unavailable or not permitted)'], String((error as Error).message));
  }
  live.add(name);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // A run that ends without reaching its own cleanup (process.exit in a test worker) still leaves nothing.
    process.once('exit', () => {
      for (const n of live) spawnSync('ip', ['netns', 'delete', n], { stdio: 'ignore' });
    });
  }
  const inside = (command: string, args: string[], input?: string) => run('ip', ['netns', 'exec', name, command, ...args], input);
  const assigned = new Set<string>();
  const netns: Netns = {
    name,
    run: inside,
    wrap: (command, args) => ({ command: 'ip', args: ['netns', 'exec', name, command, ...args] }),
    async addAddress(address) {
      await inside('ip', ['addr', 'add', `${address}/32`, 'dev', 'lo']);
      assigned.add(address);
    },
    assigned,
    async addresses() {
      const out = await inside('ip', ['-o', '-4', 'addr', 'show']);
      return [...out.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1]!);
    },
    async interfaces() {
      const out = await inside('ip', ['-o', 'link', 'show']);
      return [...out.matchAll(/^\d+: ([^:@]+)/gm)].map((m) => m[1]!);
    },
    async delete() {
      live.delete(name);
      await run('ip', ['netns', 'delete', name]);
    },
  };
  try {
    await inside('ip', ['link', 'set', 'lo', 'up']);
  } catch (error) {
    await netns.delete().catch(() => {});
    throw error;
  }
  return netns;
}

/** Names of the namespaces this process created and has not deleted (for tests of the cleanup). */
export function liveNetns(): string[] {
  return [...live];
}

/** `ip netns list`, synchronously: for assertions that a namespace is gone. */
export function netnsExists(name: string): boolean {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').some((l) => l.trim().split(/\s+/)[0] === name);
}
