/**
 * The harness's hands inside the namespace (a program, started by `startAgent` with `ip netns
 * exec`): pod IPs and the Service VIP exist only in there, so whatever has to reach them runs here.
 *   - readiness probes, the kubelet's way: a new connection per probe, a timeout, the status code;
 *   - the load generator, sending to the VIP, with conntrack's record of where each connection went;
 *   - forwards: 127.0.0.1:<port> inside the namespace → a Unix socket the harness serves outside it,
 *     so replicas reach the host's Postgres and Redis at their usual addresses;
 *   - long-lived clients (WebSocket, SSE, HTTP/2 sessions) a module starts, sending to the VIP.
 * Commands and answers travel over the IPC channel as JSON.
 */
import { request as httpRequest } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { AgentCommand, AgentReply, ClientsModule, RunningClients, StartClients } from './agent-protocol.js';
import { watchConntrack, type ConntrackWatch } from './conntrack.js';
import { loadRequestMix, startLoad, type Load } from './load.js';

function probe(host: string, port: number, path: string | undefined, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    if (path === undefined) {
      // tcpSocket probe: success when the connection opens.
      const socket = connect({ host, port });
      const timer = setTimeout(() => socket.destroy(), timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.destroy();
        resolve(200);
      });
      socket.once('error', () => resolve(0));
      socket.once('close', () => resolve(0));
      return;
    }
    const req = httpRequest({ host, port, path, agent: false, timeout: timeoutMs, headers: { 'user-agent': 'kube-probe/1.34' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
    req.end();
  });
}

const forwards: Server[] = [];
let clients: RunningClients | undefined;

/** Starts the long-lived clients a module describes (see ClientsModule). */
async function startClients(spec: ClientsModule, targets: Record<string, { host: string; port: number }>): Promise<RunningClients> {
  const url = spec.module.startsWith('file:') ? spec.module : pathToFileURL(spec.module).href;
  const start = ((await import(url)) as Record<string, unknown>)[spec.export ?? 'default'];
  if (typeof start !== 'function') throw new Error(`clients: ${spec.module} exports no ${spec.export ?? 'default'} function`);
  return (start as StartClients)(targets, spec.options);
}
let load: { load: Load; watch: ConntrackWatch | undefined } | undefined;

async function handle(command: AgentCommand): Promise<unknown> {
  switch (command.op) {
    case 'probe':
      return probe(command.host, command.port, command.path, command.timeoutMs);
    case 'forward': {
      const server = createServer((inbound) => {
        const outbound = connect(command.socketPath);
        inbound.pipe(outbound).pipe(inbound);
        inbound.on('error', () => outbound.destroy());
        outbound.on('error', () => inbound.destroy());
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(command.port, '127.0.0.1', resolve);
      });
      forwards.push(server);
      return null;
    }
    case 'start-load': {
      if (load) throw new Error('a load is already running');
      const target = { host: command.host, port: command.port };
      const requests = Array.isArray(command.requests) ? command.requests : await loadRequestMix(command.requests, target);
      const watch = command.attribute ? await watchConntrack(command.host, command.port) : undefined;
      load = { load: startLoad({ ...command.options, ...target, requests }), watch };
      return null;
    }
    case 'stop-load': {
      if (!load) throw new Error('no load is running');
      const summary = await load.load.stop();
      await load.watch?.stop();
      const endpoints = load.watch ? Object.fromEntries(load.watch.endpointByClientPort) : {};
      load = undefined;
      return { summary, endpointByClientPort: endpoints };
    }
    case 'start-clients':
      if (clients) throw new Error('clients are already running');
      clients = await startClients(command.clients, command.targets);
      return null;
    case 'stop-clients': {
      if (!clients) throw new Error('no clients are running');
      const report = await clients.stop();
      clients = undefined;
      return report;
    }
    case 'exit':
      for (const server of forwards) server.close();
      setImmediate(() => process.exit(0));
      return null;
  }
}

process.on('message', (message: AgentCommand) => {
  handle(message).then(
    (value) => process.send?.({ id: message.id, ok: true, value } satisfies AgentReply),
    (error: unknown) => process.send?.({ id: message.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies AgentReply),
  );
});
// The harness going away takes the agent with it.
process.on('disconnect', () => process.exit(0));
process.send?.({ id: 0, ok: true, value: 'ready' } satisfies AgentReply);
