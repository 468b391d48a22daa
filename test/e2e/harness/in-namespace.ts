/**
 * The harness's side of its agent inside the namespace (see agent.ts): start it there, send it
 * commands, serve the Unix sockets its forwards lead to.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { AgentCommand, AgentReply, ClientsModule, PortableLoadOptions, StoppedLoad } from './agent-protocol.js';
import type { LoadTarget, RequestMix, RequestSpec } from './load.js';
import type { Netns } from './netns.js';
import { TSX } from './tsx.js';

type Command = AgentCommand extends infer C ? (C extends AgentCommand ? Omit<C, 'id'> : never) : never;

export interface NamespaceAgent {
  readonly pid: number;
  /** Its stderr and stray stdout, for failure messages. */
  readonly output: string[];
  /** One probe from inside the namespace: the HTTP status, 200 for a TCP connect that opened (`path` undefined), 0 for no answer. */
  probe(host: string, port: number, path?: string, timeoutMs?: number): Promise<number>;
  /** Makes 127.0.0.1:`port` inside the namespace lead to 127.0.0.1:`port` outside it. */
  forward(port: number): Promise<void>;
  /** Starts the load inside the namespace. `attribute`: record, through conntrack, the endpoint of every connection. */
  startLoad(target: LoadTarget, requests: RequestSpec[] | RequestMix, options: PortableLoadOptions, attribute: boolean): Promise<void>;
  stopLoad(): Promise<StoppedLoad>;
  /** Starts long-lived clients inside the namespace (see ClientsModule), given the Service's targets by port name. */
  startClients(clients: ClientsModule, targets: Record<string, LoadTarget>): Promise<void>;
  /** Stops them; resolves with their report. */
  stopClients(): Promise<unknown>;
  /** Stops the agent and the forwards. */
  stop(): Promise<void>;
}

const AGENT = fileURLToPath(new URL('./agent.ts', import.meta.url));

export async function startAgent(netns: Netns): Promise<NamespaceAgent> {
  const { command, args } = netns.wrap(process.execPath, ['--import', TSX, AGENT]);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const output: string[] = [];
  const keep = (line: string) => {
    output.push(line);
    if (output.length > 200) output.shift();
  };
  createInterface({ input: child.stdout! }).on('line', keep);
  createInterface({ input: child.stderr! }).on('line', keep);
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let gone: Error | undefined;
  let ready!: () => void;
  const started = new Promise<void>((resolve) => (ready = resolve));
  child.on('message', (reply: AgentReply) => {
    if (reply.id === 0) return ready();
    const waiter = pending.get(reply.id);
    pending.delete(reply.id);
    if (reply.ok) waiter?.resolve(reply.value);
    else waiter?.reject(new Error(`namespace agent: ${reply.error}`));
  });
  const exited = new Promise<void>((resolve) => {
    const onGone = (why: string) => {
      gone = new Error(`namespace agent ${why}:\n${output.join('\n')}`);
      for (const waiter of pending.values()) waiter.reject(gone);
      pending.clear();
      ready();
      resolve();
    };
    child.once('exit', (code, signal) => onGone(`exited (${code ?? signal})`));
    child.once('error', (error) => onGone(`could not be started: ${error.message}`));
  });
  const send = <T>(cmd: Command): Promise<T> => {
    if (gone) return Promise.reject(gone);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ ...cmd, id } as AgentCommand);
    });
  };

  await started;
  if (gone) throw gone;

  let socketDir: string | undefined;
  const relays: Server[] = [];
  const relayed = new Set<Socket>();
  return {
    pid: child.pid ?? -1,
    output,
    probe: (host, port, path, timeoutMs = 1000) => send<number>(path === undefined ? { op: 'probe', host, port, timeoutMs } : { op: 'probe', host, port, path, timeoutMs }),
    async forward(port) {
      socketDir ??= await mkdtemp(join(tmpdir(), 'podkit-forward-'));
      const socketPath = join(socketDir, `${port}.sock`);
      const relay = createServer((inbound) => {
        const outbound = connect({ host: '127.0.0.1', port });
        relayed.add(inbound).add(outbound);
        inbound.once('close', () => relayed.delete(inbound));
        outbound.once('close', () => relayed.delete(outbound));
        inbound.pipe(outbound).pipe(inbound);
        inbound.on('error', () => outbound.destroy());
        outbound.on('error', () => inbound.destroy());
      });
      await new Promise<void>((resolve, reject) => {
        relay.once('error', reject);
        relay.listen(socketPath, resolve);
      });
      relays.push(relay);
      await send({ op: 'forward', port, socketPath });
    },
    startLoad: (target, requests, options, attribute) => send({ op: 'start-load', host: target.host, port: target.port, requests, options, attribute }),
    stopLoad: () => send<StoppedLoad>({ op: 'stop-load' }),
    startClients: (clients, targets) => send({ op: 'start-clients', clients, targets }),
    stopClients: () => send<unknown>({ op: 'stop-clients' }),
    async stop() {
      if (!gone) {
        await send({ op: 'exit' }).catch(() => {});
        const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(timer);
      }
      for (const relay of relays) relay.close();
      // Connections a replica still held (a pool) would keep close() waiting.
      for (const socket of relayed) socket.destroy();
      if (socketDir) await rm(socketDir, { recursive: true, force: true });
    },
  };
}
