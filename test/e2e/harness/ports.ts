/**
 * Free ports for replicas and the load balancer.
 *
 * Port 0 would hand out a port from the kernel's ephemeral range, the same range the load
 * generator's thousands of client connections draw their source ports from: a port picked
 * that way can be taken by an outgoing connection before the replica binds it. So ports are
 * drawn from below the ephemeral range (Linux default 32768–60999) and proven free by binding
 * them on every interface, which conflicts with anything already bound to any address.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const FLOOR = 20_000;
const taken = new Set<number>();

function ephemeralStart(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low && low > FLOOR + 1000) return low;
  } catch {
    // Not Linux: stay below the IANA dynamic range.
  }
  return 32_768;
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port nobody listens on, outside the ephemeral range, not handed out before by this process. */
export async function freePort(): Promise<number> {
  const ceiling = ephemeralStart();
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const port = FLOOR + Math.floor(Math.random() * (ceiling - FLOOR));
    if (taken.has(port)) continue;
    taken.add(port);
    if (await canBind(port)) return port;
  }
  throw new Error('freePort: no free port found in 200 attempts');
}
