/**
 * kube-proxy's iptables mode, for one ClusterIP Service, inside a namespace of the test's own.
 *
 * The rules are the ones kube-proxy writes (pkg/proxy/iptables/proxier.go), chain names and all:
 * nat `OUTPUT` and `PREROUTING` jump to `KUBE-SERVICES`; it matches the VIP and port and jumps to
 * `KUBE-SVC-<hash>`, which marks traffic from outside the cluster CIDR for masquerade and picks an
 * endpoint with `-m statistic --mode random --probability 1/n`, `1/(n-1)`, … (the last one takes
 * what is left); each `KUBE-SEP-<hash>` DNATs to `<podIP>:<port>`. A Service without endpoints
 * gets a REJECT in the filter table's `KUBE-SERVICES`. Every sync rewrites all of it in one
 * `iptables-restore --noflush` transaction, as kube-proxy does, so a connection never sees half a
 * rule set.
 *
 * The kernel then does the rest, as on a node: the DNAT decision is taken once per connection, and
 * conntrack keeps an established connection on its endpoint after the endpoint's rules are gone.
 * A connection sent to a pod whose listener is closed is refused by the pod's own kernel (RST), and
 * the client sees that, not a balancer's stand-in.
 *
 * Containment: every DNAT target must be an address assigned inside the namespace, and the
 * namespace must have no interface but `lo`; `sync` refuses otherwise.
 */
import { createHash } from 'node:crypto';
import type { Netns } from './netns.js';

/** Addresses used inside the namespace only: RFC 2544's benchmarking range, never routed anywhere. */
export const DATAPLANE_ADDRESSES = {
  /** Where Service VIPs live (routed to `lo` inside the namespace). */
  serviceCidr: '198.18.0.0/24',
  vip: '198.18.0.10',
  /** The node's own address: the load generator's source, outside the cluster CIDR (so it is masqueraded, as kube-proxy does for a node-local client). */
  nodeAddress: '198.18.1.1',
  /** Pod IPs. */
  clusterCidr: '198.19.0.0/16',
} as const;

/** The nth pod IP (n from 1). */
export function podIp(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 60_000) throw new Error(`podIp: n must be a whole number from 1 to 60000, got ${n}`);
  return `198.19.${Math.floor(n / 250)}.${(n % 250) + 1}`;
}

export interface ServicePort {
  /** `namespace/name:port`, as kube-proxy prints a service port. @default 'default/web:http' */
  name: string;
  vip: string;
  port: number;
  /** Pods' addresses; traffic from outside it to the VIP is masqueraded (kube-proxy's `--cluster-cidr`). */
  clusterCidr: string;
  /**
   * A Service with several ports (`http` and `h2c`…) has one chain set per port; each endpoint's
   * port for this one is the endpoint's own `port` plus this (the pod's second containerPort). @default 0
   */
  targetPortOffset?: number;
}

export interface Endpoint {
  ip: string;
  port: number;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 (Go's base32.StdEncoding), enough for hash prefixes. */
function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

const hash16 = (text: string) => base32(createHash('sha256').update(text).digest()).slice(0, 16);

/** `KUBE-SVC-` + the first 16 base32 characters of sha256(servicePortName + protocol), as kube-proxy names it. */
export function serviceChainName(servicePortName: string, protocol = 'tcp'): string {
  return `KUBE-SVC-${hash16(servicePortName + protocol)}`;
}

/** `KUBE-SEP-` + the first 16 base32 characters of sha256(servicePortName + protocol + "ip:port"). */
export function endpointChainName(servicePortName: string, endpoint: string, protocol = 'tcp'): string {
  return `KUBE-SEP-${hash16(servicePortName + protocol + endpoint)}`;
}

const endpointKey = (e: Endpoint) => `${e.ip}:${e.port}`;
const q = (text: string) => `"${text}"`;

/**
 * What one sync feeds `iptables-restore --noflush`: every kube-proxy chain declared (so flushed)
 * and written anew; chains of endpoints that are gone (`stale`) declared and deleted. With several
 * service ports (one Service's `http` and `h2c`), each gets its own `KUBE-SVC` and `KUBE-SEP` chains,
 * as kube-proxy writes them, in the same transaction.
 */
export function kubeProxyRules(services: ServicePort | ServicePort[], endpoints: Endpoint[], stale: Endpoint[] = []): string {
  const filter = ['*filter', ':KUBE-SERVICES - [0:0]'];
  const nat = ['*nat', ':KUBE-SERVICES - [0:0]', ':KUBE-POSTROUTING - [0:0]', ':KUBE-MARK-MASQ - [0:0]'];
  const rules: string[] = [];
  const deletions: string[] = [];
  for (const service of Array.isArray(services) ? services : [services]) {
    const svc = serviceChainName(service.name);
    const portal = `-d ${service.vip}/32 -p tcp -m tcp --dport ${service.port}`;
    const target = (e: Endpoint): Endpoint => ({ ip: e.ip, port: e.port + (service.targetPortOffset ?? 0) });
    const seps = endpoints.map(target).map((e) => ({ endpoint: e, chain: endpointChainName(service.name, endpointKey(e)) }));
    const gone = stale
      .map(target)
      .filter((s) => !seps.some(({ endpoint }) => endpointKey(endpoint) === endpointKey(s)))
      .map((e) => endpointChainName(service.name, endpointKey(e)));
    nat.push(`:${svc} - [0:0]`);
    for (const { chain } of seps) nat.push(`:${chain} - [0:0]`);
    for (const chain of gone) nat.push(`:${chain} - [0:0]`);
    if (seps.length === 0) {
      // No endpoints: kube-proxy rejects at once rather than let connections time out.
      filter.push(`-A KUBE-SERVICES -m comment --comment ${q(`${service.name} has no endpoints`)} ${portal} -j REJECT --reject-with icmp-port-unreachable`);
    } else {
      rules.push(`-A KUBE-SERVICES -m comment --comment ${q(`${service.name} cluster IP`)} ${portal} -j ${svc}`);
      rules.push(`-A ${svc} -m comment --comment ${q(`${service.name} cluster IP`)} ${portal} ! -s ${service.clusterCidr} -j KUBE-MARK-MASQ`);
      seps.forEach(({ endpoint, chain }, i) => {
        const left = seps.length - i;
        // The first of n endpoints is taken with probability 1/n, the next of the rest with 1/(n-1)…: uniform overall.
        const statistic = left > 1 ? ` -m statistic --mode random --probability ${(1 / left).toFixed(10)}` : '';
        rules.push(`-A ${svc} -m comment --comment ${q(`${service.name} -> ${endpointKey(endpoint)}`)}${statistic} -j ${chain}`);
      });
      for (const { endpoint, chain } of seps) {
        // Hairpin: a pod reaching itself through the VIP is masqueraded.
        rules.push(`-A ${chain} -m comment --comment ${q(service.name)} -s ${endpoint.ip}/32 -j KUBE-MARK-MASQ`);
        rules.push(`-A ${chain} -m comment --comment ${q(service.name)} -p tcp -m tcp -j DNAT --to-destination ${endpointKey(endpoint)}`);
      }
    }
    for (const chain of gone) deletions.push(`-X ${chain}`);
  }
  nat.push(
    '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
    '-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000',
    `-A KUBE-POSTROUTING -m comment --comment ${q('kubernetes service traffic requiring SNAT')} -j MASQUERADE --random-fully`,
    '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000',
    ...rules,
    ...deletions,
  );
  return [...filter, 'COMMIT', ...nat, 'COMMIT', ''].join('\n');
}

/** Connections DNATed per endpoint, from `iptables-save -c` (the nat table sees only a connection's first packet). */
export function dnatCounters(save: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const m of save.matchAll(/^\[(\d+):\d+\] -A KUBE-SEP-\S+ .*-j DNAT --to-destination (\S+)/gm)) counts[m[2]!] = (counts[m[2]!] ?? 0) + Number(m[1]);
  return counts;
}

export interface KubeProxy {
  /** The Service's first port (where the load goes). */
  readonly service: ServicePort;
  /** Every port of the Service, the first one included. */
  readonly services: readonly ServicePort[];
  /** The endpoints in the rules now, as `ip:port`. */
  readonly endpoints: readonly string[];
  /** Rewrites the rules for exactly these endpoints, in one transaction. */
  sync(endpoints: Endpoint[]): Promise<void>;
  /** New connections sent to each endpoint (`ip:port`) since the start, summed over syncs. */
  connections(): Promise<Record<string, number>>;
  /** `iptables-save` of the namespace (both tables), for reports and failure messages. */
  save(): Promise<string>;
}

/** The Service every run gets: `default/web:http`, port 80 of the VIP. */
export const DEFAULT_SERVICE_PORT: ServicePort = { name: 'default/web:http', vip: DATAPLANE_ADDRESSES.vip, port: 80, clusterCidr: DATAPLANE_ADDRESSES.clusterCidr };

/**
 * Sets up routing and kube-proxy's base chains in `netns` and returns the proxy for one Service
 * (one or several ports). The VIPs are routed to `lo`, with the node address as source, only
 * inside the namespace.
 */
export async function startKubeProxy(netns: Netns, ports: ServicePort | ServicePort[] = DEFAULT_SERVICE_PORT): Promise<KubeProxy> {
  const services = Array.isArray(ports) ? ports : [ports];
  const service = services[0];
  if (!service) throw new Error('kube-proxy model: a Service needs at least one port');
  const others = (await netns.interfaces()).filter((i) => i !== 'lo');
  if (others.length > 0) throw new Error(`kube-proxy model: namespace ${netns.name} has interfaces besides lo (${others.join(', ')}); refusing to program it`);
  await netns.addAddress(DATAPLANE_ADDRESSES.nodeAddress);
  // The VIPs need a route for the first routing decision (DNAT in nat OUTPUT rewrites the
  // destination after it). A `local` route on lo, not a plain one: the kernel sends the ICMP of
  // kube-proxy's REJECT (a Service without endpoints) only for a destination it counts as local;
  // routed plainly to lo, the REJECT would silently drop. Nothing listens on a VIP itself.
  await netns.run('ip', ['route', 'add', 'local', DATAPLANE_ADDRESSES.serviceCidr, 'dev', 'lo', 'src', DATAPLANE_ADDRESSES.nodeAddress]);
  // The jumps kube-proxy ensures once, outside its own chains.
  await netns.run('iptables-restore', ['--noflush'], [
    '*filter',
    ':KUBE-SERVICES - [0:0]',
    `-A OUTPUT -m conntrack --ctstate NEW -m comment --comment ${q('kubernetes service portals')} -j KUBE-SERVICES`,
    'COMMIT',
    '*nat',
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-POSTROUTING - [0:0]',
    `-A OUTPUT -m comment --comment ${q('kubernetes service portals')} -j KUBE-SERVICES`,
    `-A PREROUTING -m comment --comment ${q('kubernetes service portals')} -j KUBE-SERVICES`,
    `-A POSTROUTING -m comment --comment ${q('kubernetes postrouting rules')} -j KUBE-POSTROUTING`,
    'COMMIT',
    '',
  ].join('\n'));

  let current: Endpoint[] = [];
  const totals: Record<string, number> = {};
  const add = (counts: Record<string, number>, into: Record<string, number>) => {
    for (const [endpoint, n] of Object.entries(counts)) into[endpoint] = (into[endpoint] ?? 0) + n;
  };

  const proxy: KubeProxy = {
    service,
    services,
    get endpoints() {
      return current.map(endpointKey);
    },
    async sync(endpoints) {
      const outside = endpoints.filter((e) => !netns.assigned.has(e.ip));
      if (outside.length > 0) throw new Error(`kube-proxy model: refusing to DNAT to ${outside.map(endpointKey).join(', ')}: not an address assigned inside namespace ${netns.name}`);
      const sorted = [...endpoints].sort((a, b) => endpointKey(a).localeCompare(endpointKey(b)));
      // A sync flushes the endpoint chains and their counters: read them, then restore, in one go.
      const counted = await netns.run('sh', ['-c', 'iptables-save -c -t nat && iptables-restore --noflush'], kubeProxyRules(services, sorted, current));
      add(dnatCounters(counted), totals);
      current = sorted;
    },
    async connections() {
      const all = { ...totals };
      add(dnatCounters(await netns.run('iptables-save', ['-c', '-t', 'nat'])), all);
      return all;
    },
    save: () => netns.run('iptables-save', []),
  };
  await proxy.sync([]);
  return proxy;
}
