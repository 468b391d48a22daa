/**
 * The peers, and how to start one as a child process and watch it leave. Every peer is a small
 * file in bench/services/ that prints {"bench":"ready",mainPort,probePort} once it is ready.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const servicesDir = fileURLToPath(new URL('../services/', import.meta.url));

/**
 * Where each peer answers readiness and liveness: on its separate probe listener ('probe') or on
 * the app's own port ('main'). `drains`: whether the peer has any drain delay of its own.
 */
export const PEERS = {
  'podkit-express': { framework: 'express', label: 'podkit (Express)', ready: ['probe', '/readyz'], live: ['probe', '/livez'], drains: true },
  'podkit-fastify': { framework: 'fastify', label: 'podkit (Fastify)', ready: ['probe', '/readyz'], live: ['probe', '/livez'], drains: true },
  terminus: { framework: 'express', label: '@godaddy/terminus', ready: ['main', '/readyz'], live: ['main', '/livez'], drains: true },
  lightship: { framework: 'express', label: 'lightship + http-terminator', ready: ['probe', '/ready'], live: ['probe', '/live'], drains: true },
  'close-with-grace': { framework: 'fastify', label: 'close-with-grace (Fastify)', ready: ['main', '/readyz'], live: ['main', '/readyz'], drains: true },
  'fastify-close': { framework: 'fastify', label: 'fastify.close() on SIGTERM', ready: ['main', '/readyz'], live: ['main', '/readyz'], drains: false },
  'none-express': { framework: 'express', label: 'no shutdown handling (Express)', ready: ['main', '/readyz'], live: ['main', '/readyz'], drains: false },
  'none-fastify': { framework: 'fastify', label: 'no shutdown handling (Fastify)', ready: ['main', '/readyz'], live: ['main', '/readyz'], drains: false },
  // References for the probe-latency section only (any path answers 200).
  'ref-main-thread-probe': { framework: 'express', label: 'reference: bare node:http probe listener, main thread (Express)', ready: ['probe', '/readyz'], live: ['probe', '/livez'], drains: false },
  'ref-worker-probe': { framework: 'express', label: 'reference: bare node:http probe listener in a worker thread (Express)', ready: ['probe', '/readyz'], live: ['probe', '/livez'], drains: false },
};

export function label(name) {
  return PEERS[name]?.label ?? name;
}

/**
 * Starts a peer. Resolves once it printed its ready line, with its ports and an `exited` promise
 * that carries the exit code/signal and the performance.now() of the exit.
 * `cpu`: pin it to one CPU with taskset (throughput runs). `nodeArgs`: flags for node (e.g. --cpu-prof).
 */
export async function startService(name, { env = {}, cpu, nodeArgs = [], timeoutMs = 15_000 } = {}) {
  const peer = PEERS[name];
  if (!peer) throw new Error(`unknown peer ${name}`);
  const node = [process.execPath, ...nodeArgs, `${servicesDir}${name}.mjs`];
  const [cmd, args] = cpu === undefined ? [node[0], node.slice(1)] : ['taskset', ['-c', String(cpu), ...node]];
  const spawnedAt = performance.now();
  const child = spawn(cmd, args, {
    env: { ...process.env, KUBERNETES_SERVICE_HOST: '', HOST: '127.0.0.1', PORT: '0', PROBE_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = [];
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })));
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready within ${timeoutMs} ms:\n${output.join('\n')}`)), timeoutMs);
    createInterface({ input: child.stdout }).on('line', (line) => {
      output.push(line);
      if (output.length > 200) output.shift();
      if (!line.startsWith('{"bench":"ready"')) return;
      clearTimeout(timer);
      resolve({ ...JSON.parse(line), readyAt: performance.now() });
    });
    createInterface({ input: child.stderr }).on('line', (line) => output.push(line));
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${output.join('\n')}`));
    });
  });
  const info = await ready;
  const portOf = (where) => (where === 'probe' ? info.probePort : info.mainPort);
  return {
    name,
    peer,
    child,
    pid: child.pid,
    spawnedAt,
    readyLine: info,
    mainPort: info.mainPort,
    probePort: info.probePort,
    ready: { port: portOf(peer.ready[0]), path: peer.ready[1] },
    live: { port: portOf(peer.live[0]), path: peer.live[1] },
    output,
    exited,
    signal(sig = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    },
    /** SIGKILL and wait: cleanup between measurements. */
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** "exit 0", or "killed by SIGTERM" for a process the signal itself ended. */
export function describeExit({ code, signal }) {
  if (signal) return `killed by ${signal}`;
  return `exit ${code}`;
}
