/**
 * Replicas: a replica is a command plus env that serves HTTP on `PORT` and, optionally, answers a
 * readiness URL. The manager picks its ports, starts it, waits until it is ready, and terminates it
 * the way the kubelet does: SIGTERM, then SIGKILL when the grace period runs out.
 *
 * Nothing here knows podkit: the same manager runs podkit services, services built on other
 * shutdown libraries, and bare ones.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { request as httpRequest } from 'node:http';
import { createInterface } from 'node:readline';
import { freePort } from './ports.js';

export interface ReplicaSpec {
  /** Shown in reports and in HAProxy's server names (letters, digits, `-`). */
  name: string;
  /** The executable, e.g. `process.execPath`. */
  command: string;
  args?: string[];
  cwd?: string;
  /** Added to the test's environment. `PORT`, `PROBE_PORT` and `HOST` are set by the manager. */
  env?: Record<string, string | undefined>;
  /**
   * Where readiness is read: a path on the probe port (`PROBE_PORT`) or on the main port. Ready means
   * a 2xx answer. Without it, the replica is ready once its main port accepts a TCP connection.
   */
  readiness?: { port: 'probe' | 'main'; path: string };
  /** The replica must be ready within this, in ms. @default 20000 */
  startTimeoutMs?: number;
}

/**
 * Where a replica runs and how it is reached: by default on the test's own loopback, on free
 * ports; in the kube-proxy model, inside a network namespace on its own pod IP, probed from there.
 */
export interface ReplicaPlacement {
  /** The replica's address (its pod IP), passed as `HOST`; the harness reaches it there. */
  host: string;
  port: number;
  probePort: number;
  /** Wraps the command, e.g. in `ip netns exec <ns>`; must exec in place so signals reach the replica itself. */
  wrap(command: string, args: string[]): { command: string; args: string[] };
  /** One probe the kubelet's way: HTTP status (0 for no answer); without `path`, a TCP connect (200 if it opened). */
  probe(host: string, port: number, path?: string): Promise<number>;
}

export interface ReplicaExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** performance.now() when it exited. */
  at: number;
}

export interface Termination {
  replica: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** From SIGTERM to exit, in ms. */
  elapsedMs: number;
  /** The grace period ran out and the replica was SIGKILLed. */
  killed: boolean;
}

export interface Replica {
  /** `<name>-<n>`, unique in this process. */
  readonly id: string;
  /** The address it serves on (`HOST`). */
  readonly host: string;
  readonly port: number;
  readonly probePort: number;
  readonly pid: number;
  readonly child: ChildProcess;
  /** The last lines of stdout and stderr, for failure messages. */
  readonly output: string[];
  readonly exited: Promise<ReplicaExit>;
  /** True once the process has exited. */
  readonly hasExited: boolean;
  /** SIGTERM now, SIGKILL after `graceMs` (the pod's terminationGracePeriodSeconds); resolves when it has exited. */
  terminate(options: { graceMs: number; signal?: NodeJS.Signals }): Promise<Termination>;
  /** SIGKILL (cleanup); resolves when it has exited. */
  kill(): Promise<void>;
}

const OUTPUT_LINES = 200;
let counter = 0;

/** A kubelet-like probe from this process: a new connection, 1 s timeout, the status (0 for no answer). */
export function probeFromHere(host: string, port: number, path?: string): Promise<number> {
  return new Promise((resolve) => {
    if (path === undefined) {
      const socket = connect({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(200);
      });
      socket.once('error', () => resolve(0));
      return;
    }
    const req = httpRequest({ host, port, path, agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** The test's loopback, on two free ports. */
export async function loopbackPlacement(): Promise<ReplicaPlacement> {
  return { host: '127.0.0.1', port: await freePort(), probePort: await freePort(), wrap: (command, args) => ({ command, args }), probe: probeFromHere };
}

/**
 * Starts a replica and resolves once it is ready — its readiness URL answered 2xx, polled every
 * 50 ms with a new connection each time, as the kubelet probes (rejects, with its output, if it
 * exits or times out first).
 */
export async function startReplica(spec: ReplicaSpec, placement?: ReplicaPlacement): Promise<Replica> {
  const { host, port, probePort, wrap, probe } = placement ?? (await loopbackPlacement());
  counter += 1;
  const id = `${spec.name}-${counter}`;
  const command = wrap(spec.command, spec.args ?? []);
  const child = spawn(command.command, command.args, {
    cwd: spec.cwd,
    env: { ...process.env, ...spec.env, HOST: host, PORT: String(port), PROBE_PORT: String(probePort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const keep = (line: string) => {
    output.push(line);
    if (output.length > OUTPUT_LINES) output.shift();
  };
  createInterface({ input: child.stdout! }).on('line', keep);
  createInterface({ input: child.stderr! }).on('line', keep);
  let hasExited = false;
  let spawnError: Error | undefined;
  const exited = new Promise<ReplicaExit>((resolve) => {
    child.once('exit', (code, signal) => {
      hasExited = true;
      resolve({ code, signal, at: performance.now() });
    });
    // A command that cannot be spawned emits 'error' and no 'exit'.
    child.once('error', (error) => {
      spawnError = error;
      hasExited = true;
      resolve({ code: null, signal: null, at: performance.now() });
    });
  });

  const replica: Replica = {
    id,
    host,
    port,
    probePort,
    pid: child.pid ?? -1,
    child,
    output,
    exited,
    get hasExited() {
      return hasExited;
    },
    async terminate({ graceMs, signal = 'SIGTERM' }) {
      const sentAt = performance.now();
      if (hasExited) {
        const exit = await exited;
        return { replica: id, code: exit.code, signal: exit.signal, elapsedMs: 0, killed: false };
      }
      child.kill(signal);
      let killed = false;
      const timer = setTimeout(() => {
        killed = true;
        child.kill('SIGKILL');
      }, graceMs);
      const exit = await exited;
      clearTimeout(timer);
      return { replica: id, code: exit.code, signal: exit.signal, elapsedMs: exit.at - sentAt, killed };
    },
    async kill() {
      if (!hasExited) child.kill('SIGKILL');
      await exited;
    },
  };

  const startTimeoutMs = spec.startTimeoutMs ?? 20_000;
  const deadline = performance.now() + startTimeoutMs;
  const fail = async (why: string): Promise<never> => {
    await replica.kill();
    throw new Error(`replica ${id} ${why}; its output:\n${output.join('\n')}`);
  };
  const readiness = spec.readiness;
  const isReady = async (): Promise<boolean> => {
    const status = readiness ? await probe(host, readiness.port === 'probe' ? probePort : port, readiness.path) : await probe(host, port);
    return status >= 200 && status < 300;
  };
  for (;;) {
    const ready = await Promise.race([isReady(), exited.then(() => 'exited' as const)]);
    if (ready === 'exited') {
      if (spawnError) return fail(`could not be started: ${spawnError.message}`);
      const exit = await exited;
      return fail(`exited (code ${exit.code}, signal ${exit.signal}) before it was ready`);
    }
    if (ready) return replica;
    if (performance.now() > deadline) return fail(`was not ready within ${startTimeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
