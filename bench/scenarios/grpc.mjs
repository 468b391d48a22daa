/**
 * 7. Failed gRPC calls per rolling restart: podkit (`serveGrpc`: NOT_SERVING at SIGTERM, the drain
 * delay, then GOAWAY with tryShutdown) against the two shutdowns grpc-js services ship with —
 * `server.tryShutdown()` at SIGTERM, and `server.forceShutdown()` at SIGTERM.
 *
 * Built on the gRPC rolling restart of the test suite (test/grpc/rolling-restart.ts), itself on the
 * e2e harness's kube-proxy model: the kernel's dataplane in a network namespace of the run's own,
 * two replicas on their own pod IPs behind kube-proxy's iptables rules for one Service (the old
 * replica's endpoint is removed `endpointLagMs` after SIGTERM; conntrack keeps established HTTP/2
 * connections on it), and grpc-js clients inside the namespace, with their defaults, making unary
 * calls and server streams to the VIP (test/grpc/load.ts).
 * podkit runs the gRPC example (examples/grpc, built); the others run the same Greeter without podkit
 * (test/grpc/fixtures/bare-greeter.ts).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { table } from '../lib/util.mjs';

const tests = new URL('../../test/grpc/', import.meta.url);
const EXAMPLE = fileURLToPath(new URL('../../examples/grpc/dist/main.js', import.meta.url));

export const SETTINGS = {
  replicas: 2,
  /** As section 1's kube-proxy model. */
  endpointLagMs: 1000,
  /** podkit's drain delay (the same as every HTTP peer's in section 1). */
  drainDelayMs: 3000,
  shutdownTimeoutMs: 8000,
  terminationGraceMs: 10_000,
  load: { channels: 8, unaryPerSecond: 80, unaryDelayMs: [0, 300], streamsPerSecond: 10, stream: { count: 10, intervalMs: 50 } },
};

const PEERS = {
  podkit: { label: 'podkit (`serveGrpc`)' },
  'try-shutdown': { label: 'grpc-js `tryShutdown()` on SIGTERM', mode: 'try' },
  'force-shutdown': { label: 'grpc-js `forceShutdown()` on SIGTERM', mode: 'force' },
};

export async function run({ quick, log }) {
  if (!existsSync(EXAMPLE)) throw new Error(`${EXAMPLE} is missing: build first (pnpm run build)`);
  const { runGrpcRollingRestart } = await import(new URL('rolling-restart.ts', tests).href);
  const { failedCalls } = await import(new URL('load.ts', tests).href);
  const { nodeReplica, tsReplica } = await import(new URL('../e2e/harness/index.ts', tests).href);
  const rounds = quick ? 1 : 2;
  const s = SETTINGS;
  const results = {};
  for (const [name, peer] of Object.entries(PEERS)) {
    const replica = peer.mode
      ? tsReplica(`grpc-${name}`, new URL('fixtures/bare-greeter.ts', tests), { env: { SHUTDOWN_MODE: peer.mode } })
      : nodeReplica('grpc-podkit', EXAMPLE, {
          env: { KUBERNETES_SERVICE_HOST: '', DRAIN_DELAY_MS: String(s.drainDelayMs), SHUTDOWN_TIMEOUT_MS: String(s.shutdownTimeoutMs) },
          readiness: { port: 'probe', path: '/readyz' },
        });
    const report = await runGrpcRollingRestart({ replica, replicas: s.replicas, rounds, load: s.load, endpointLagMs: s.endpointLagMs, terminationGraceMs: s.terminationGraceMs });
    results[name] = { rounds, load: report.load, failed: failedCalls(report.load), terminations: report.terminations };
    log(`  ${name}: ${results[name].failed} failed of ${report.load.unary.sent} unary + ${report.load.streams.sent} streams`);
  }
  const codes = (load) => Object.entries(load.failures).map(([c, n]) => `${n}× ${c}`).join(', ') || '—';
  const exits = (ts) => {
    const counts = new Map();
    for (const t of ts) {
      const key = t.killed ? 'SIGKILL' : `exit ${t.code ?? t.signal}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const ms = ts.map((t) => t.elapsedMs);
    return `${[...counts].map(([k, n]) => `${n}× ${k}`).join(', ')}, ${Math.round(Math.min(...ms))}–${Math.round(Math.max(...ms))} ms after SIGTERM`;
  };
  const per = (r) => {
    const v = r.failed / r.rounds;
    return Number.isInteger(v) ? String(v) : v.toFixed(1);
  };
  const markdown = [
    `kube-proxy model (kube-proxy's iptables rules in a network namespace, endpoint removed ${s.endpointLagMs} ms after SIGTERM), ${rounds} rolling restart(s) of ${s.replicas} replicas; ${s.load.channels} grpc-js channels, ${s.load.unaryPerSecond} unary calls/s (${s.load.unaryDelayMs[0]}–${s.load.unaryDelayMs[1]} ms) and ${s.load.streamsPerSecond} server streams/s (${s.load.stream.count} messages, ${s.load.stream.intervalMs} ms apart); podkit's drain delay ${s.drainDelayMs} ms.`,
    '',
    table(
      ['peer', 'failed calls per rolling restart', 'failed / sent (unary + streams)', 'what the client saw', 'old replicas'],
      Object.entries(PEERS).map(([name, peer]) => {
        const r = results[name];
        return [peer.label, `**${per(r)}**`, `${r.failed} / ${r.load.unary.sent + r.load.streams.sent}`, codes(r.load), exits(r.terminations)];
      }),
    ),
  ].join('\n');
  return { markdown, data: results, settings: { ...s, rounds } };
}
