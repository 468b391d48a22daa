/**
 * HAProxy as a health-checked load balancer in front of replicas (an ingress controller, a cloud
 * LB): a generated config in a temp dir, `haproxy -f cfg -db` as a child process, and its runtime
 * API over a stats socket to add, drain and remove servers while it runs. HAProxy (HTTP mode)
 * checks every server's readiness URL on its probe port and learns of a termination only from that.
 * (The kube-proxy model is not HAProxy: it is the kernel's dataplane, see kube-proxy.ts.)
 *
 * Failed requests are never retried or redispatched (`retries 0`, no `option redispatch`): a
 * failure must reach the client, where the load generator counts it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from './ports.js';

export interface HealthCheckOptions {
  /** Readiness path checked on each server's check port. @default '/readyz' */
  path?: string;
  /** Time between checks, in ms. @default 250 */
  intervalMs?: number;
  /** A check not answered within this fails, in ms. @default 1000 */
  timeoutMs?: number;
  /** Consecutive failed checks that take a server out. @default 2 */
  fall?: number;
  /** Consecutive passed checks that put it back. @default 2 */
  rise?: number;
}

export interface HaproxyOptions {
  /**
   * `http` (the default) checks each server's readiness and balances requests. `tcp` only balances
   * connections and never looks inside them: for HTTP/2 and gRPC, whose streams share one connection.
   */
  mode?: 'http' | 'tcp';
  /** `http` mode: how servers are health-checked. */
  healthCheck?: HealthCheckOptions;
  /** @default 'haproxy' */
  binary?: string;
  /** Connect timeout to a server, in ms. @default 2000 */
  connectTimeoutMs?: number;
  /** Client and server inactivity timeouts, in ms. @default 30000 */
  idleTimeoutMs?: number;
}

export type ServerState = 'ready' | 'drain' | 'maint';

export interface ServerStat {
  name: string;
  /** HAProxy's status: UP, DOWN, DRAIN, MAINT, `no check`, `UP 1/2`… */
  status: string;
  /** Sessions open now. */
  current: number;
  /** Sessions since the server was added. */
  total: number;
  /** Last health check result (e.g. L7OK, L7STS, L4CON), if checked. */
  check: string;
}

export interface AddServerOptions {
  port: number;
  /** Port the health check connects to (the probe port). @default port */
  checkPort?: number;
  host?: string;
}

export interface Haproxy {
  /** The port clients connect to. */
  readonly port: number;
  /** The temp dir with the config and the stats socket. */
  readonly dir: string;
  readonly config: string;
  /** HAProxy's own stderr lines (server state changes, alerts). */
  readonly log: string[];
  readonly child: ChildProcess;
  /** Sends one runtime API command; resolves with the answer. */
  command(cmd: string): Promise<string>;
  /** Adds a server, turns its health checks on and puts it in rotation once they pass. */
  addServer(name: string, options: AddServerOptions): Promise<void>;
  setState(name: string, state: ServerState): Promise<void>;
  /** Takes a server out and deletes it once no connection uses it (within `timeoutMs`); false if it could not. */
  removeServer(name: string, timeoutMs?: number): Promise<boolean>;
  servers(): Promise<ServerStat[]>;
  /** Resolves once `predicate` holds for the server's stat (polls). */
  waitForServer(name: string, predicate: (stat: ServerStat) => boolean, timeoutMs?: number): Promise<ServerStat>;
  /** Stops HAProxy and removes its temp dir. */
  stop(): Promise<void>;
}

export const BACKEND = 'replicas';

const HEALTH_DEFAULTS = { path: '/readyz', intervalMs: 250, timeoutMs: 1000, fall: 2, rise: 2 } satisfies Required<HealthCheckOptions>;

export function haproxyConfig(options: HaproxyOptions, port: number, socketPath: string): string {
  const connectMs = options.connectTimeoutMs ?? 2000;
  const idleMs = options.idleTimeoutMs ?? 30_000;
  const check = { ...HEALTH_DEFAULTS, ...options.healthCheck };
  const lines = [
    'global',
    `  stats socket ${socketPath} mode 600 level admin`,
    '  maxconn 4096',
    '',
    'defaults',
    `  mode ${options.mode ?? 'http'}`,
    `  timeout connect ${connectMs}ms`,
    `  timeout client ${idleMs}ms`,
    `  timeout server ${idleMs}ms`,
    `  timeout check ${check.timeoutMs}ms`,
    // No second chance for a failed request: the client must see every failure.
    '  retries 0',
    '  no option redispatch',
    '',
    `frontend entry`,
    `  bind 127.0.0.1:${port}`,
    `  default_backend ${BACKEND}`,
    '',
    `backend ${BACKEND}`,
    // Dynamic servers (`add server`) need a dynamic algorithm.
    '  balance roundrobin',
  ];
  if ((options.mode ?? 'http') === 'http') lines.push(`  option httpchk GET ${check.path}`, '  http-check expect status 200');
  return `${lines.join('\n')}\n`;
}

export async function startHaproxy(options: HaproxyOptions): Promise<Haproxy> {
  const dir = await mkdtemp(join(tmpdir(), 'podkit-haproxy-'));
  const socketPath = join(dir, 'admin.sock');
  const configPath = join(dir, 'haproxy.cfg');
  const port = await freePort();
  const config = haproxyConfig(options, port, socketPath);
  await writeFile(configPath, config);
  const check = { ...HEALTH_DEFAULTS, ...options.healthCheck };

  // -db: stay in the foreground, log to stderr; the test owns the process.
  const child = spawn(options.binary ?? 'haproxy', ['-f', configPath, '-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => log.push(l));
  createInterface({ input: child.stderr! }).on('line', (l) => log.push(l));
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', (error) => {
      log.push(`spawn failed: ${error.message}`);
      exited = true;
      resolve();
    });
  });

  function command(cmd: string): Promise<string> {
    return new Promise((resolve, reject) => {
      // One command per connection: HAProxy answers and closes (non-interactive mode).
      const socket = connect(socketPath);
      const chunks: Buffer[] = [];
      socket.setTimeout(5000, () => socket.destroy(new Error(`haproxy: no answer to "${cmd}" within 5 s`)));
      socket.on('connect', () => socket.end(`${cmd}\n`));
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', reject);
      socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
    });
  }

  /** Commands that change state answer with an empty line or a short confirmation; anything else is an error. */
  async function expectOk(cmd: string, accepted: RegExp = /^$/): Promise<void> {
    const answer = (await command(cmd)).trim();
    if (!accepted.test(answer)) throw new Error(`haproxy: "${cmd}" answered: ${answer}`);
  }

  async function servers(): Promise<ServerStat[]> {
    // `show stat <proxy> 4 -1`: servers only, CSV with a `# pxname,svname,…` header.
    const csv = (await command(`show stat ${BACKEND} 4 -1`)).trim().split('\n');
    const header = (csv.shift() ?? '').replace(/^# /, '').split(',');
    const col = (row: string[], name: string) => row[header.indexOf(name)] ?? '';
    return csv
      .filter((line) => line.trim() !== '')
      .map((line) => line.split(','))
      .filter((row) => col(row, 'pxname') === BACKEND)
      .map((row) => ({
        name: col(row, 'svname'),
        status: col(row, 'status'),
        current: Number(col(row, 'scur')),
        total: Number(col(row, 'stot')),
        check: col(row, 'check_status'),
      }));
  }

  async function waitForServer(name: string, predicate: (stat: ServerStat) => boolean, timeoutMs = 10_000): Promise<ServerStat> {
    const deadline = performance.now() + timeoutMs;
    let last: ServerStat | undefined;
    for (;;) {
      last = (await servers()).find((s) => s.name === name);
      if (last && predicate(last)) return last;
      if (performance.now() > deadline) throw new Error(`haproxy: server ${name} did not reach the expected state within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  // Wait for the runtime API: it answers once HAProxy has parsed the config and bound its ports.
  const deadline = performance.now() + 10_000;
  for (;;) {
    if (exited) throw new Error(`haproxy exited at start-up:\n${log.join('\n')}\n--- config ---\n${config}`);
    try {
      if ((await command('show info')).includes('Name: HAProxy')) break;
    } catch {
      // Not listening yet.
    }
    if (performance.now() > deadline) throw new Error(`haproxy did not start within 10 s:\n${log.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    port,
    dir,
    config,
    log,
    child,
    command,
    async addServer(name, { port: serverPort, checkPort = serverPort, host = '127.0.0.1' }) {
      // Settings are spelled out here: dynamic servers do not inherit `default-server`.
      const http = (options.mode ?? 'http') === 'http';
      const checked = http ? ` check port ${checkPort} inter ${check.intervalMs}ms fall ${check.fall} rise ${check.rise}` : '';
      await expectOk(`add server ${BACKEND}/${name} ${host}:${serverPort}${checked}`, /New server registered/);
      // Dynamic servers start in maintenance with checks off.
      if (http) await expectOk(`enable health ${BACKEND}/${name}`);
      await expectOk(`set server ${BACKEND}/${name} state ready`);
    },
    async setState(name, state) {
      await expectOk(`set server ${BACKEND}/${name} state ${state}`);
    },
    async removeServer(name, timeoutMs = 5000) {
      await expectOk(`set server ${BACKEND}/${name} state maint`);
      const until = performance.now() + timeoutMs;
      for (;;) {
        // Refused while a connection still uses the server, idle pooled ones included.
        const answer = (await command(`del server ${BACKEND}/${name}`)).trim();
        if (/Server deleted/.test(answer)) return true;
        if (performance.now() > until) return false;
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    servers,
    waitForServer,
    async stop() {
      if (!exited) child.kill('SIGTERM');
      await exit;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
