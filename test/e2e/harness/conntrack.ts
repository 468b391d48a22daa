/**
 * Which endpoint the dataplane chose for each connection, read from conntrack's own events.
 *
 * The DNAT decision is the kernel's, taken once per connection, and nothing the client receives
 * says where it went: replies come back from the VIP. conntrack knows — its entry holds the
 * original tuple (client port → VIP) and the reply tuple (pod IP:port → client). Polling
 * /proc/net/nf_conntrack would miss refused connections (the kernel deletes an entry whose only
 * reply was a RST at once), so the events are taken as they happen: `conntrack -E -e NEW`, run
 * inside the namespace, reports every connection when its first packet is confirmed.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ConntrackConnection {
  /** The client's source port (original direction, before any masquerade). */
  clientPort: number;
  /** Where it was sent (original destination), `ip:port`: the VIP. */
  to: string;
  /** Who answers it (reply source), `ip:port`: the endpoint DNAT chose. */
  endpoint: string;
}

const EVENT = /src=(\S+) dst=(\S+) sport=(\d+) dport=(\d+) .*?src=(\S+) dst=\S+ sport=(\d+) /;

/** One line of `conntrack -E` output, or undefined if it is not a TCP/UDP flow event. */
export function parseConntrackEvent(line: string): ConntrackConnection | undefined {
  const m = EVENT.exec(`${line} `);
  if (!m) return undefined;
  return { clientPort: Number(m[3]), to: `${m[2]}:${m[4]}`, endpoint: `${m[5]}:${m[6]}` };
}

export interface ConntrackWatch {
  /** Endpoint (`ip:port`) of each client port seen so far; a reused port keeps its latest connection. */
  readonly endpointByClientPort: ReadonlyMap<number, string>;
  /** Stops the watcher once the events already emitted have been read. */
  stop(): Promise<void>;
}

/** Watches new TCP connections to `vip:port` in the current network namespace. */
export async function watchConntrack(vip: string, port: number, binary = 'conntrack'): Promise<ConntrackWatch> {
  const child = spawn(binary, ['-E', '-e', 'NEW', '-p', 'tcp', '--orig-dst', vip, '--dport', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const endpointByClientPort = new Map<number, string>();
  const errors: string[] = [];
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', (error) => {
      errors.push(error.message);
      exited = true;
      resolve();
    });
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const event = parseConntrackEvent(line);
    if (event && event.to === `${vip}:${port}`) endpointByClientPort.set(event.clientPort, event.endpoint);
  });
  createInterface({ input: child.stderr! }).on('line', (line) => errors.push(line));
  // It subscribes to the kernel's events as it starts; give it that moment, and fail if it could not.
  await new Promise((r) => setTimeout(r, 200));
  if (exited) throw new Error(`conntrack -E could not watch connections (the conntrack tool: apt-get install -y conntrack): ${errors.join(' ') || 'it exited'}`);
  return {
    endpointByClientPort,
    async stop() {
      // Events are delivered within a millisecond or two; let the last ones be read.
      await new Promise((r) => setTimeout(r, 100));
      if (!exited) child.kill('SIGTERM');
      await exit;
    },
  };
}
