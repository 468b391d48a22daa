/**
 * The harness itself: the load generator counts each kind of failure as a client sees it; the
 * kube-proxy model is the kernel's dataplane (kube-proxy's chains, random endpoint choice,
 * conntrack pinning, refusals reaching the client) confined to a namespace that never outlives its
 * run; and rolling restarts of services without proper shutdown handling do drop requests — so a
 * rolling-restart test that reports zero failures has proved something.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { get } from '../support/http.js';
import {
  createNetns,
  DATAPLANE_ADDRESSES,
  DataplaneUnavailableError,
  dnatCounters,
  endpointChainName,
  formatReport,
  freePort,
  kubeProxyRules,
  liveNetns,
  missingDataplaneTools,
  netnsExists,
  parseConntrackEvent,
  podIp,
  removeStaleNetns,
  requireDataplane,
  runRollingRestart,
  serviceChainName,
  startAgent,
  startHaproxy,
  startKubeProxy,
  startLoad,
  startReplica,
  tsReplica,
  type Haproxy,
  type KubeProxy,
  type NamespaceAgent,
  type Netns,
  type Replica,
  type RollingRestartReport,
  type TimelineKind,
} from './harness/index.js';

const servers: Server[] = [];
const haproxies: Haproxy[] = [];
const replicas: Replica[] = [];
const agents: NamespaceAgent[] = [];
const namespaces: Netns[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => (s.closeAllConnections(), s.close(r)))));
  await Promise.all(haproxies.splice(0).map((h) => h.stop()));
  await Promise.all(replicas.splice(0).map((r) => r.kill()));
  await Promise.all(agents.splice(0).map((a) => a.stop()));
  await Promise.all(namespaces.splice(0).map((n) => n.delete()));
});

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

const fixture = (name: string) => new URL(`./fixtures/${name}.ts`, import.meta.url);

describe('the load generator', () => {
  it('counts each failure by what the client saw: status, reset, hang-up, truncated body, timeout', async () => {
    const port = await listen(
      createServer((req, res) => {
        switch (req.url) {
          case '/503':
            res.statusCode = 503;
            res.end('busy');
            return;
          case '/reset':
            req.socket.resetAndDestroy();
            return;
          case '/hangup':
            req.socket.destroy();
            return;
          case '/cut':
            res.writeHead(200, { 'content-length': '100' });
            res.write('only part of it');
            setTimeout(() => req.socket.destroy(), 10);
            return;
          case '/hang':
            return;
          default:
            res.end('ok');
        }
      }),
    );
    const summary = await startLoad({
      port,
      requests: ['ok', '503', 'reset', 'hangup', 'cut', 'hang'].map((name) => ({ name, path: `/${name}` })),
      // A slot for every request (so none is skipped however slowly a busy machine answers), and a
      // timeout no healthy answer comes near: only /hang may time out.
      concurrency: 90,
      ratePerSecond: 300,
      freshConnectionShare: 0.3,
      requestTimeoutMs: 2000,
      maxRequests: 90,
    }).done;

    const sent = (name: string) => summary.byRequest[name]!.sent;
    expect(summary.sent).toBe(90);
    expect(summary.skipped, 'every scheduled request was sent').toBe(0);
    expect(summary.byRequest.ok).toEqual({ sent: sent('ok'), ok: sent('ok'), failed: 0 });
    expect(summary.failures, JSON.stringify(summary.samples)).toEqual({
      status: sent('503'),
      reset: sent('reset'),
      refused: 0,
      hangup: sent('hangup'),
      truncated: sent('cut'),
      timeout: sent('hang'),
      other: 0,
    });
    expect(summary.statuses).toEqual({ 503: sent('503') });
    expect(summary.failed).toBe(summary.sent - sent('ok'));
    expect(summary.freshConnections.sent).toBeGreaterThan(0);
    expect(summary.keepAlive.reusedSocket).toBeGreaterThan(0);
  });

  it('records every request with its start, duration, outcome and the client port of its connection', async () => {
    const clientPorts = new Set<number>();
    const port = await listen(createServer((req, res) => {
      clientPorts.add(req.socket.remotePort!);
      res.statusCode = req.url === '/503' ? 503 : 200;
      res.end();
    }));
    const summary = await startLoad({ port, requests: [{ name: 'ok', path: '/' }, { name: 'bad', path: '/503' }], ratePerSecond: 200, concurrency: 40, maxRequests: 40, freshConnectionShare: 0.5, recordRequests: true }).done;
    expect(summary.records).toHaveLength(40);
    expect(summary.records.filter((r) => r.ok)).toHaveLength(summary.ok);
    expect(new Set(summary.records.filter((r) => !r.ok).map((r) => `${r.request} ${r.kind}`))).toEqual(new Set(['bad status']));
    for (const r of summary.records) {
      expect(r.atMs).toBeGreaterThanOrEqual(0);
      expect(r.ms).toBeGreaterThan(0);
      expect(clientPorts.has(r.localPort!)).toBe(true);
    }
    expect(summary.startedAtEpochMs).toBeLessThanOrEqual(performance.timeOrigin + performance.now());
  });

  it('counts a refused connection as refused', async () => {
    const summary = await startLoad({ port: await freePort(), requests: [{ name: 'any', path: '/' }], maxRequests: 10, ratePerSecond: 200 }).done;
    expect(summary.failures.refused).toBe(10);
    expect(summary.ok).toBe(0);
  });

  it('stops by itself at its time bound and keeps to the rate asked even when responses are slow', async () => {
    const port = await listen(createServer((_req, res) => setTimeout(() => res.end('ok'), 100)));
    const summary = await startLoad({ port, requests: [{ name: 'slow', path: '/' }], ratePerSecond: 100, concurrency: 32, maxDurationMs: 1000 }).done;
    // 100 req/s for 1 s, give or take a noisy machine.
    expect(summary.sent).toBeGreaterThan(60);
    expect(summary.sent).toBeLessThanOrEqual(101);
    expect(summary.failed).toBe(0);
  });
});

const SERVICE = { name: 'ns1/svc1:p80', vip: '198.18.0.41', port: 80, clusterCidr: '198.19.0.0/16' };

describe("kube-proxy's rules", () => {
  it('names its chains exactly as kube-proxy does (values from its own tests)', () => {
    // pkg/proxy/iptables/proxier_test.go: service port ns1/svc1:p80 over TCP, endpoint 10.180.0.1:80.
    expect(serviceChainName('ns1/svc1:p80')).toBe('KUBE-SVC-XPGD46QRK7WJZT7O');
    expect(endpointChainName('ns1/svc1:p80', '10.180.0.1:80')).toBe('KUBE-SEP-SXIVWICOYRO3J4NJ');
  });

  it('writes the layout of one sync: KUBE-SERVICES → KUBE-SVC (random 1/n, 1/(n-1), …) → KUBE-SEP (DNAT), masquerade marks, stale chains deleted', () => {
    const eps = [podIp(1), podIp(2), podIp(3)].map((ip) => ({ ip, port: 8080 }));
    const rules = kubeProxyRules(SERVICE, eps, [{ ip: podIp(9), port: 8080 }]);
    const svc = serviceChainName(SERVICE.name);
    const sep = (ip: string) => endpointChainName(SERVICE.name, `${ip}:8080`);
    const lines = rules.split('\n');
    expect(lines).toContain(`-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -d 198.18.0.41/32 -p tcp -m tcp --dport 80 -j ${svc}`);
    expect(lines).toContain(`-A ${svc} -m comment --comment "ns1/svc1:p80 cluster IP" -d 198.18.0.41/32 -p tcp -m tcp --dport 80 ! -s 198.19.0.0/16 -j KUBE-MARK-MASQ`);
    const picks = lines.filter((l) => l.startsWith(`-A ${svc} `) && l.includes('-j KUBE-SEP-'));
    expect(picks).toEqual([
      `-A ${svc} -m comment --comment "ns1/svc1:p80 -> ${podIp(1)}:8080" -m statistic --mode random --probability 0.3333333333 -j ${sep(podIp(1))}`,
      `-A ${svc} -m comment --comment "ns1/svc1:p80 -> ${podIp(2)}:8080" -m statistic --mode random --probability 0.5000000000 -j ${sep(podIp(2))}`,
      `-A ${svc} -m comment --comment "ns1/svc1:p80 -> ${podIp(3)}:8080" -j ${sep(podIp(3))}`,
    ]);
    expect(lines).toContain(`-A ${sep(podIp(2))} -m comment --comment "ns1/svc1:p80" -p tcp -m tcp -j DNAT --to-destination ${podIp(2)}:8080`);
    expect(lines).toContain(`-A ${sep(podIp(2))} -m comment --comment "ns1/svc1:p80" -s ${podIp(2)}/32 -j KUBE-MARK-MASQ`);
    expect(lines).toContain('-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully');
    expect(lines).toContain(`-X ${sep(podIp(9))}`);
    // With endpoints, nothing is rejected.
    expect(rules).not.toContain('REJECT');
  });

  it('gives each port of a multi-port Service its own KUBE-SVC and KUBE-SEP chains, DNATing to the endpoint\'s port plus the port\'s offset', () => {
    const h2c = { ...SERVICE, name: 'ns1/svc1:h2c', port: 81, targetPortOffset: 2000 };
    const rules = kubeProxyRules([SERVICE, h2c], [{ ip: podIp(1), port: 8001 }], [{ ip: podIp(9), port: 8009 }]);
    const lines = rules.split('\n');
    expect(lines).toContain(`-A KUBE-SERVICES -m comment --comment "ns1/svc1:h2c cluster IP" -d 198.18.0.41/32 -p tcp -m tcp --dport 81 -j ${serviceChainName(h2c.name)}`);
    expect(lines).toContain(`-A ${endpointChainName(h2c.name, `${podIp(1)}:10001`)} -m comment --comment "ns1/svc1:h2c" -p tcp -m tcp -j DNAT --to-destination ${podIp(1)}:10001`);
    expect(lines).toContain(`-A ${endpointChainName(SERVICE.name, `${podIp(1)}:8001`)} -m comment --comment "ns1/svc1:p80" -p tcp -m tcp -j DNAT --to-destination ${podIp(1)}:8001`);
    expect(lines).toContain(`-X ${endpointChainName(h2c.name, `${podIp(9)}:10009`)}`);
    expect(lines.filter((l) => l.startsWith(':KUBE-SERVICES'))).toHaveLength(2);
  });

  it('rejects, in the filter table, the VIP of a Service without endpoints', () => {
    const rules = kubeProxyRules(SERVICE, []);
    expect(rules).toContain('-A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 has no endpoints" -d 198.18.0.41/32 -p tcp -m tcp --dport 80 -j REJECT');
    expect(rules).not.toContain('KUBE-SEP-');
  });

  it('reads connections per endpoint from the DNAT rules\' counters and the endpoint of a connection from a conntrack event', () => {
    expect(dnatCounters('[7:420] -A KUBE-SEP-X -p tcp -m comment --comment "a" -m tcp -j DNAT --to-destination 198.19.0.2:8001\n[0:0] -A KUBE-SEP-X -s 198.19.0.2/32 -j KUBE-MARK-MASQ\n')).toEqual({ '198.19.0.2:8001': 7 });
    expect(parseConntrackEvent('    [NEW] tcp      6 120 SYN_SENT src=198.18.1.1 dst=198.18.0.10 sport=20005 dport=80 [UNREPLIED] src=198.19.0.3 dst=198.18.1.1 sport=8002 dport=41234')).toEqual({
      clientPort: 20005,
      to: '198.18.0.10:80',
      endpoint: '198.19.0.3:8002',
    });
  });
});

/** A namespace with kube-proxy's rules, the harness's agent, and replicas of the bare fixture on pod IPs. */
async function dataplane(): Promise<{ netns: Netns; agent: NamespaceAgent; proxy: KubeProxy; pod: (n: number, env?: Record<string, string>) => Promise<Replica> }> {
  const netns = await createNetns();
  namespaces.push(netns);
  const agent = await startAgent(netns);
  agents.push(agent);
  const proxy = await startKubeProxy(netns);
  const pod = async (n: number, env: Record<string, string> = {}) => {
    await netns.addAddress(podIp(n));
    const replica = await startReplica(tsReplica(`pod${n}`, fixture('bare-service'), { env }), {
      host: podIp(n),
      port: 8000 + n,
      probePort: 9000 + n,
      wrap: netns.wrap,
      probe: (host, port, path) => agent.probe(host, port, path),
    });
    replicas.push(replica);
    return replica;
  };
  return { netns, agent, proxy, pod };
}

const VIP = { host: DATAPLANE_ADDRESSES.vip, port: 80 };
const ep = (r: Replica) => ({ ip: r.host, port: r.port });
const at = (r: Replica) => `${r.host}:${r.port}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("the kube-proxy model: the kernel's dataplane in a namespace of the test's own", () => {
  it('installs the jumps from nat OUTPUT and PREROUTING, has no interface but lo, and DNATs only to addresses inside the namespace', async () => {
    const { netns, proxy, pod } = await dataplane();
    expect(await netns.interfaces()).toEqual(['lo']);
    const a = await pod(1);
    await proxy.sync([ep(a)]);
    const save = await proxy.save();
    expect(save).toMatch(/^-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES$/m);
    expect(save).toMatch(/^-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES$/m);
    expect(save).toMatch(/^-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING$/m);
    expect(save).toContain(`-j DNAT --to-destination ${at(a)}`);
    await expect(proxy.sync([{ ip: '127.0.0.1', port: 6379 }])).rejects.toThrow(/refusing to DNAT to 127\.0\.0\.1:6379/);
    await expect(proxy.sync([{ ip: '198.19.200.200', port: 80 }])).rejects.toThrow(/not an address assigned inside/);
  });

  it('spreads new connections over the endpoints at random, and conntrack names the endpoint of each one', async () => {
    const { agent, proxy, pod } = await dataplane();
    const [a, b] = [await pod(1), await pod(2)];
    await proxy.sync([ep(a), ep(b)]);
    await agent.startLoad(VIP, [{ name: 'get', path: '/' }], { ratePerSecond: 200, concurrency: 50, freshConnectionShare: 1, maxRequests: 200, recordRequests: true, localPorts: { from: 20_000, to: 32_000 } }, true);
    await sleep(1500);
    const { summary, endpointByClientPort } = await agent.stopLoad();
    expect(summary.ok).toBe(200);
    const reached = summary.records.map((r) => endpointByClientPort[String(r.localPort)]);
    const toA = reached.filter((e) => e === at(a)).length;
    const toB = reached.filter((e) => e === at(b)).length;
    expect(toA + toB, 'every connection attributed to one of the two endpoints').toBe(200);
    // Binomial(200, 0.5): outside 60–140 about once in 10^8 runs.
    expect(toA).toBeGreaterThan(60);
    expect(toB).toBeGreaterThan(60);
    expect(await proxy.connections()).toEqual({ [at(a)]: toA, [at(b)]: toB });
  });

  it('keeps an established keep-alive connection on its endpoint after the endpoint is removed, while new connections go to the others', async () => {
    const { agent, proxy, pod } = await dataplane();
    const [a, b] = [await pod(1), await pod(2)];
    await proxy.sync([ep(a)]);
    // One keep-alive socket (concurrency 1) and a share of fresh connections.
    await agent.startLoad(VIP, [{ name: 'get', path: '/' }], { ratePerSecond: 40, concurrency: 1, freshConnectionShare: 0.5, maxDurationMs: 10_000, recordRequests: true, localPorts: { from: 20_000, to: 32_000 } }, true);
    await sleep(700);
    await proxy.sync([ep(b)]);
    const switchedAt = performance.timeOrigin + performance.now();
    await sleep(1500);
    const { summary, endpointByClientPort } = await agent.stopLoad();
    expect(summary.failed).toBe(0);
    const after = summary.records
      .filter((r) => summary.startedAtEpochMs + r.atMs > switchedAt + 50)
      .map((r) => ({ fresh: r.fresh, endpoint: endpointByClientPort[String(r.localPort)] }));
    const kept = after.filter((r) => !r.fresh);
    const fresh = after.filter((r) => r.fresh);
    expect(kept.length).toBeGreaterThan(5);
    expect(fresh.length).toBeGreaterThan(5);
    expect(new Set(kept.map((r) => r.endpoint)), 'the established connection stayed on the removed endpoint').toEqual(new Set([at(a)]));
    expect(new Set(fresh.map((r) => r.endpoint)), 'new connections went to the endpoint in the rules').toEqual(new Set([at(b)]));
  });

  it('lets the refusal of a pod whose listener is closed reach the client, attributed to that pod', async () => {
    const { netns, agent, proxy, pod } = await dataplane();
    const a = await pod(1);
    // An endpoint whose pod has nothing listening on the port (as after server.close()).
    await netns.addAddress(podIp(2));
    const closed = { ip: podIp(2), port: 8002 };
    await proxy.sync([ep(a), closed]);
    await agent.startLoad(VIP, [{ name: 'get', path: '/' }], { ratePerSecond: 200, concurrency: 50, freshConnectionShare: 1, maxRequests: 100, recordRequests: true, localPorts: { from: 20_000, to: 32_000 } }, true);
    await sleep(1000);
    const { summary, endpointByClientPort } = await agent.stopLoad();
    const refused = summary.records.filter((r) => !r.ok);
    expect(refused.length).toBeGreaterThan(15);
    expect(new Set(refused.map((r) => r.kind))).toEqual(new Set(['refused']));
    expect(new Set(refused.map((r) => endpointByClientPort[String(r.localPort)]))).toEqual(new Set([`${podIp(2)}:8002`]));
    expect(summary.ok + refused.length).toBe(100);
  });

  it('refuses connections to a Service without endpoints at once, as kube-proxy\'s REJECT does', async () => {
    const { agent } = await dataplane();
    await agent.startLoad(VIP, [{ name: 'get', path: '/' }], { ratePerSecond: 100, maxRequests: 10, requestTimeoutMs: 2000 }, false);
    await sleep(500);
    const { summary } = await agent.stopLoad();
    expect(summary.failures.refused).toBe(10);
  });
});

describe('the namespace of a run', () => {
  it('is deleted when the run fails', async () => {
    const before = liveNetns();
    await expect(
      runRollingRestart({
        label: 'cannot start',
        model: 'kube-proxy',
        replica: { name: 'broken', command: process.execPath, args: ['-e', 'process.exit(3)'], startTimeoutMs: 5000 },
        rounds: 1,
        load: { requests: [{ name: 'get', path: '/' }] },
      }),
    ).rejects.toThrow(/exited \(code 3/);
    expect(liveNetns()).toEqual(before);
    const ours = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith(`podkit-${process.pid}-`));
    expect(ours.filter((l) => !before.some((n) => l.startsWith(n)))).toEqual([]);
  });

  it('removes namespaces left by a crashed run at the next start, with what runs inside, and leaves those of live runs alone', async () => {
    const dead = spawn('true');
    const deadPid = await new Promise<number>((resolve) => dead.once('exit', () => resolve(dead.pid!)));
    const crashed = `podkit-${deadPid}-0bad`;
    const alive = `podkit-${process.pid}-0a11ce`;
    execFileSync('ip', ['netns', 'add', crashed]);
    execFileSync('ip', ['netns', 'add', alive]);
    // A process left running inside the crashed run's namespace.
    const orphan = spawn('ip', ['netns', 'exec', crashed, 'sleep', '60'], { stdio: 'ignore' });
    const orphanGone = new Promise((resolve) => orphan.once('exit', resolve));
    try {
      await sleep(200);
      expect(await removeStaleNetns()).toContain(crashed);
      expect(netnsExists(crashed)).toBe(false);
      expect(netnsExists(alive)).toBe(true);
      await orphanGone;
    } finally {
      orphan.kill('SIGKILL');
      execFileSync('ip', ['netns', 'delete', alive]);
      if (netnsExists(crashed)) execFileSync('ip', ['netns', 'delete', crashed]);
    }
  });

  it('names what is missing, and how to install it, when the tools are not there', () => {
    const missing = missingDataplaneTools({ path: '/nonexistent', tools: ['ip', 'iptables', 'iptables-restore', 'iptables-save', 'conntrack'] });
    expect(missing).toEqual(['ip, iptables, iptables-restore, iptables-save, conntrack not found on the PATH (apt-get install -y iproute2 iptables conntrack)']);
    expect(() => requireDataplane({ path: '/nonexistent' })).toThrow(DataplaneUnavailableError);
    expect(() => requireDataplane({ path: '/nonexistent' })).toThrow(/cannot run here: ip, iptables, iptables-restore, iptables-save not found on the PATH \(apt-get install -y iproute2 iptables\)/);
  });
});

describe('HAProxy as a health-checked balancer (HTTP)', () => {
  it('takes a replica out once its readiness URL answers 503 and puts it back when it passes', async () => {
    const haproxy = await startHaproxy({ healthCheck: { path: '/readyz', intervalMs: 100, fall: 2, rise: 2 } });
    haproxies.push(haproxy);
    let ready = true;
    const port = await listen(createServer((req, res) => {
      res.statusCode = req.url === '/readyz' && !ready ? 503 : 200;
      res.end();
    }));
    await haproxy.addServer('a', { port });
    await haproxy.waitForServer('a', (s) => s.status === 'UP');
    ready = false;
    await haproxy.waitForServer('a', (s) => s.status.startsWith('DOWN'), 5000);
    expect((await get(haproxy.port, '/')).status).toBe(503);
    ready = true;
    await haproxy.waitForServer('a', (s) => s.status === 'UP', 5000);
    expect((await get(haproxy.port, '/')).status).toBe(200);
  });
});

describe('the replica manager', () => {
  it('starts a command on free ports, waits for its readiness URL, and reports its exit after SIGTERM', async () => {
    const replica = await startReplica(tsReplica('plain', fixture('podkit-service'), { env: { DRAIN_DELAY_MS: '300' }, readiness: { port: 'probe', path: '/readyz' } }));
    replicas.push(replica);
    expect((await get(replica.port, '/')).body).toBe('ok');
    const termination = await replica.terminate({ graceMs: 5000 });
    expect(termination).toMatchObject({ code: 0, signal: null, killed: false });
    expect(termination.elapsedMs).toBeGreaterThanOrEqual(300);
  });

  it('SIGKILLs a replica that outlives its grace period, and says so', async () => {
    const replica = await startReplica(tsReplica('stubborn', fixture('podkit-service'), { env: { DRAIN_DELAY_MS: '3000' } }));
    replicas.push(replica);
    const termination = await replica.terminate({ graceMs: 500 });
    expect(termination).toMatchObject({ code: null, signal: 'SIGKILL', killed: true });
  });
});

const MIX = [{ name: 'fast', path: '/', weight: 4 }, { name: 'slow', path: '/work?ms=200', weight: 1 }];

/** When each replica got SIGTERM, left the rules, and exited, from the run's timeline. */
function moments(report: RollingRestartReport, kind: TimelineKind): Map<string, number> {
  return new Map(report.timeline.filter((e) => e.kind === kind && e.replica).map((e) => [e.replica!, e.atMs]));
}

describe('rolling restarts on the kube-proxy model that must lose requests (negative controls)', () => {
  it('counts what a bare node:http server that closes on SIGTERM drops: refusals while its endpoint is still in the rules', async () => {
    const report = await runRollingRestart({
      label: 'bare node:http',
      model: 'kube-proxy',
      replica: tsReplica('bare', fixture('bare-service')),
      rounds: 1,
      endpointLagMs: 1000,
      terminationGraceMs: 3000,
      steadyLoadMs: 500,
      load: { requests: MIX, ratePerSecond: 150, freshConnectionShare: 0.2, maxDurationMs: 30_000 },
    });
    console.log(formatReport(report, { timeline: true }));
    // Its listener closes at SIGTERM, but kube-proxy keeps choosing it for new connections for a
    // second: the pod's kernel refuses them and the client sees it.
    expect(report.load.failed).toBeGreaterThan(0);
    expect(report.load.failures.refused).toBeGreaterThan(0);
  });

  it('counts what podkit with drainDelayMs 0 drops: the same refusals, however cleanly it then exits', async () => {
    const report = await runRollingRestart({
      label: 'node:http + podkit, DRAIN_DELAY_MS=0',
      model: 'kube-proxy',
      replica: tsReplica('no-delay', fixture('podkit-service'), {
        // A 1.5 s shutdown hook keeps the process around, as a pool closing would.
        env: { DRAIN_DELAY_MS: '0', HOOK_MS: '1500', SHUTDOWN_TIMEOUT_MS: '8000' },
        readiness: { port: 'probe', path: '/readyz' },
      }),
      rounds: 1,
      endpointLagMs: 1000,
      terminationGraceMs: 10_000,
      steadyLoadMs: 500,
      load: { requests: MIX, ratePerSecond: 150, freshConnectionShare: 0.2, maxDurationMs: 30_000 },
    });
    console.log(formatReport(report, { timeline: true }));
    expect(report.load.failures.refused).toBeGreaterThan(0);
    expect(report.terminations.every((t) => t.code === 0)).toBe(true);
  });

  it('keeps sending new connections to a replica that died at once on SIGTERM until its endpoint is removed, and counts them', async () => {
    const lagMs = 1000;
    const report = await runRollingRestart({
      label: 'no SIGTERM handler: dies at once',
      model: 'kube-proxy',
      replica: tsReplica('dies', fixture('bare-service'), { env: { SIGTERM_HANDLING: 'none' } }),
      rounds: 1,
      endpointLagMs: lagMs,
      terminationGraceMs: 3000,
      steadyLoadMs: 500,
      load: { requests: [{ name: 'fast', path: '/' }], ratePerSecond: 150, freshConnectionShare: 0.2, maxDurationMs: 30_000, maxFailureSamples: 1000 },
    });
    console.log(formatReport(report, { timeline: true }));
    const sigterm = moments(report, 'sigterm');
    const exited = moments(report, 'exited');
    const removed = moments(report, 'out-of-rotation');
    expect(sigterm.size).toBe(2);
    for (const [replica, sigtermAt] of sigterm) {
      const exitAt = exited.get(replica)!;
      // The endpoint left on the orchestrator's schedule, not when the process went away.
      expect(removed.get(replica)! - sigtermAt).toBeGreaterThanOrEqual(lagMs);
      expect(exitAt).toBeLessThan(removed.get(replica)!);
      const between = report.load.samples.filter((f) => f.atMs + report.loadStartedAtMs > exitAt + 50 && f.atMs + report.loadStartedAtMs < sigtermAt + lagMs);
      expect(between.length, `${replica}: failures after it exited, before its endpoint left`).toBeGreaterThanOrEqual(3);
    }
  });
});

describe('a rolling restart of podkit without a drain delay behind a health-checked balancer (negative control)', () => {
  it('counts the requests HAProxy still sends before its checks notice', async () => {
    const report = await runRollingRestart({
      label: 'node:http + podkit, DRAIN_DELAY_MS=0',
      model: 'health-checked',
      replica: tsReplica('no-delay', fixture('podkit-service'), {
        // The listener closes at SIGTERM; a 1.5 s shutdown hook (a pool closing) keeps the process,
        // and so the server in HAProxy, around while its readiness checks catch up.
        env: { DRAIN_DELAY_MS: '0', HOOK_MS: '1500', SHUTDOWN_TIMEOUT_MS: '8000' },
        readiness: { port: 'probe', path: '/readyz' },
      }),
      rounds: 1,
      healthCheck: { intervalMs: 250, fall: 2, rise: 2 },
      terminationGraceMs: 10_000,
      steadyLoadMs: 500,
      load: { requests: MIX, ratePerSecond: 150, maxDurationMs: 30_000 },
    });
    console.log(formatReport(report));
    // Readiness said 503 at once, but the listener closed at once too: until HAProxy's `fall`
    // checks have failed, its requests to the replica are refused (503 from HAProxy, no retry).
    expect(report.load.failures.status).toBeGreaterThan(0);
    expect(report.load.statuses).toHaveProperty('503');
    expect(report.terminations.every((t) => t.code === 0)).toBe(true);
  });
});

describe('a rolling restart of a plain node:http service under podkit', () => {
  for (const model of ['kube-proxy', 'health-checked'] as const) {
    it(`drops no request on the ${model} model, and every old replica exits 0 on its own`, async () => {
      const report = await runRollingRestart({
        label: 'node:http + podkit',
        model,
        replica: tsReplica('plain', fixture('podkit-service'), {
          env: { DRAIN_DELAY_MS: '1500', SHUTDOWN_TIMEOUT_MS: '8000' },
          readiness: { port: 'probe', path: '/readyz' },
        }),
        rounds: 1,
        endpointLagMs: 500,
        healthCheck: { intervalMs: 200, fall: 2, rise: 2 },
        terminationGraceMs: 10_000,
        steadyLoadMs: 500,
        load: { requests: MIX, ratePerSecond: 150, concurrency: 8, freshConnectionShare: 0.2, maxDurationMs: 30_000 },
      });
      console.log(formatReport(report));
      expect(report.load.samples).toEqual([]);
      expect(report.load.failed).toBe(0);
      for (const t of [...report.terminations, ...report.finalTerminations]) {
        expect(t).toMatchObject({ code: 0, killed: false });
        expect(t.elapsedMs).toBeGreaterThanOrEqual(1500);
      }
      if (model === 'kube-proxy') expect(report.netns && netnsExists(report.netns)).toBe(false);
    });
  }
});
