/**
 * 1. Failed requests per rolling restart, in both load-balancer models, for every peer.
 *
 * Built on the e2e harness (test/e2e/harness): its rolling restart (maxSurge 1, maxUnavailable 0;
 * the next replica starts while the old one drains), its replica manager and its load generator,
 * which counts failures as a client sees them. Readiness is read where each peer answers it (its
 * probe port, or the main port for terminus and the bare services).
 *
 * Load-balancer models:
 * - kube-proxy: the kernel's dataplane, as on a node. A network namespace of the run's own holds
 *   the replicas (each on its own pod IP), kube-proxy's iptables chains for one ClusterIP Service
 *   (KUBE-SERVICES → KUBE-SVC, random endpoint choice → KUBE-SEP DNAT), rewritten with
 *   iptables-restore, and the load generator, which sends to the VIP. An endpoint is added when the
 *   replica's readiness probe passes and removed `endpointLagMs` after SIGTERM, whatever the
 *   replica does meanwhile; established connections stay on it (conntrack), and a refusal by the
 *   pod reaches the client.
 * - health-checked: HAProxy in HTTP mode checks the readiness URL; it learns of the termination only
 *   from that check (and never retries: `retries 0`, no redispatch).
 *
 * In the kube-proxy model every request is recorded with the replica conntrack saw it reach, and
 * the first rolling restart of each peer is kept for the timeline (bench/lib/timeline.mjs).
 */
import { fileURLToPath } from 'node:url';
import { label, PEERS } from '../lib/service.mjs';
import { timelineData } from '../lib/timeline.mjs';
import { table } from '../lib/util.mjs';

const harness = new URL('../../test/e2e/harness/', import.meta.url);
const servicesDir = fileURLToPath(new URL('../services/', import.meta.url));
const requestsModule = new URL('../lib/rolling-load.mjs', import.meta.url).href;

export const PEER_NAMES = ['podkit-express', 'podkit-fastify', 'terminus', 'lightship', 'close-with-grace', 'fastify-close', 'none-express'];
export const MODELS = ['kube-proxy', 'health-checked'];

/** Shared by every peer, in both models. */
export const SETTINGS = {
  replicas: 2,
  /** kube-proxy model: SIGTERM → the endpoint leaves kube-proxy's rules. */
  endpointLagMs: 1000,
  /** Each peer's own drain delay / pre-close sleep (ignored by peers that have none). */
  drainDelayMs: 3000,
  /** Each peer's shutdown budget. */
  peerGraceMs: 8000,
  /** terminationGracePeriodSeconds: SIGKILL after this. */
  terminationGraceMs: 10_000,
  /** health-checked model: HAProxy checks readiness every 250 ms, 2 failures take it out, 2 successes put it in. */
  healthCheck: { intervalMs: 250, timeoutMs: 1000, fall: 2, rise: 2 },
  load: {
    ratePerSecond: 200,
    concurrency: 16,
    freshConnectionShare: 0.2,
    requestTimeoutMs: 10_000,
    /** `rollingRequests` in bench/lib/rolling-load.mjs: 3 × `GET /`, 1 × `GET /slow?ms=50…300`. */
    requests: { module: requestsModule, export: 'rollingRequests' },
  },
  steadyLoadMs: 1000,
};

async function rollingRestart(h, name, model, rounds) {
  const peer = PEERS[name];
  const [readyWhere, readyPath] = peer.ready;
  const s = SETTINGS;
  const report = await h.runRollingRestart({
    label: label(name),
    model,
    replica: {
      name: name.replace(/[^A-Za-z0-9-]/g, '-'),
      command: process.execPath,
      args: [`${servicesDir}${name}.mjs`],
      env: { KUBERNETES_SERVICE_HOST: '', DRAIN_DELAY_MS: String(s.drainDelayMs), GRACE_MS: String(s.peerGraceMs) },
      readiness: { port: readyWhere, path: readyPath },
    },
    replicas: s.replicas,
    rounds,
    endpointLagMs: s.endpointLagMs,
    healthCheck: { ...s.healthCheck, path: readyPath },
    terminationGraceMs: s.terminationGraceMs,
    steadyLoadMs: s.steadyLoadMs,
    load: { ...s.load, maxDurationMs: 120_000, recordRequests: model === 'kube-proxy' },
  });
  return {
    name,
    model,
    rounds,
    summary: report.load,
    terminations: report.terminations,
    timeline: model === 'kube-proxy' ? timelineData(report, { title: label(name), round: 1 }) : undefined,
  };
}

export async function run({ quick, log, peers = PEER_NAMES, models = MODELS }) {
  const h = await import(new URL('index.ts', harness).href);
  const rounds = quick ? 1 : 2;
  const results = {};
  for (const model of models) {
    results[model] = {};
    for (const name of peers) {
      const r = await rollingRestart(h, name, model, rounds);
      results[model][name] = r;
      const kinds = h.FAILURE_KINDS.filter((k) => r.summary.failures[k] > 0).map((k) => `${k} ${r.summary.failures[k]}`).join(', ');
      const exits = summarizeExits(r.terminations);
      log(`  ${model} · ${name}: ${r.summary.failed} failed of ${r.summary.sent}${kinds ? ` (${kinds})` : ''}; exits: ${exits}`);
    }
  }

  const kindsOf = (summary) => {
    const parts = h.FAILURE_KINDS.filter((k) => summary.failures[k] > 0).map((k) => (k === 'status' ? Object.entries(summary.statuses).map(([c, n]) => `${n}× ${c}`).join(', ') : `${summary.failures[k]}× ${k}`));
    return parts.join(', ') || '—';
  };
  const perRestart = (r) => r.summary.failed / r.rounds;
  const fmtPer = (v) => (Number.isInteger(v) ? String(v) : v.toFixed(1));
  const tables = [];
  for (const model of models) {
    tables.push(
      `**${model === 'kube-proxy' ? `kube-proxy model (kube-proxy's iptables rules in a network namespace, endpoint removed ${SETTINGS.endpointLagMs / 1000} s after SIGTERM)` : 'health-checked model (HAProxy HTTP, readiness checked every 250 ms, fall 2)'}**`,
      '',
    );
    tables.push(
      table(
        ['peer', 'failed per rolling restart', 'failed / sent (all rounds)', 'what the client saw', 'old replicas exited'],
        peers.map((name) => {
          const r = results[model][name];
          return [label(name), `**${fmtPer(perRestart(r))}**`, `${r.summary.failed} / ${r.summary.sent}`, kindsOf(r.summary), summarizeExits(r.terminations)];
        }),
      ),
      '',
    );
  }
  const podkit = peers.filter((n) => n.startsWith('podkit'));
  const others = peers.filter((n) => !n.startsWith('podkit'));
  const podkitFailed = models.flatMap((m) => podkit.map((n) => results[m][n].summary.failed)).reduce((a, b) => a + b, 0);
  const peersFailing = models.flatMap((m) => others.filter((n) => results[m][n].summary.failed > 0).map((n) => `${n} (${m})`));
  tables.push(
    `Target: zero failed requests where any peer fails some: **${podkitFailed === 0 ? 'pass' : 'miss'}** (podkit: ${podkitFailed} failed in total; peers that failed some: ${peersFailing.length ? peersFailing.join(', ') : 'none'}).`,
  );
  const timelines = models.includes('kube-proxy') ? Object.fromEntries(peers.map((n) => [n, results['kube-proxy'][n].timeline])) : {};
  return {
    markdown: tables.join('\n'),
    data: Object.fromEntries(models.map((m) => [m, Object.fromEntries(peers.map((n) => [n, { rounds: results[m][n].rounds, summary: results[m][n].summary, terminations: results[m][n].terminations }]))])),
    timelines,
    target: { podkitFailed, peersFailing, peerRuns: others.length * models.length, pass: podkitFailed === 0 },
    settings: { ...SETTINGS, rounds },
  };
}

function summarizeExits(terminations) {
  const counts = new Map();
  for (const t of terminations) {
    const key = t.killed ? 'SIGKILL (grace ran out)' : t.signal ? `killed by ${t.signal}` : `exit ${t.code}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${n}× ${k}`).join(', ');
}
