/**
 * 1. Failed requests per rolling restart, in both load-balancer models, for every peer.
 *
 * Built on the e2e harness (test/e2e/harness: HAProxy, replica manager, load generator that counts
 * failures as a client sees them). The orchestration is the harness's rolling restart
 * (maxSurge 1, maxUnavailable 0; the next replica starts while the old one drains), repeated here
 * because peers answer readiness on different ports: HAProxy's health check goes to the peer's
 * own readiness port and path (terminus and the bare services on the main port).
 *
 * Load-balancer models:
 * - kube-proxy: HAProxy in TCP mode; `endpointLagMs` after SIGTERM the replica stops getting new
 *   connections (HAProxy `drain`); established keep-alive connections keep flowing to it.
 * - health-checked: HAProxy in HTTP mode checks the readiness URL; it learns of the termination only
 *   from that check (and from refused connections).
 * HAProxy never retries (`retries 0`, no redispatch): every failure reaches the client.
 */
import { fileURLToPath } from 'node:url';
import { label, PEERS } from '../lib/service.mjs';
import { table } from '../lib/util.mjs';

const harness = new URL('../../test/e2e/harness/', import.meta.url);
const servicesDir = fileURLToPath(new URL('../services/', import.meta.url));

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
    requests: [
      { name: 'fast', path: '/', weight: 3 },
      { name: 'slow', path: () => `/slow?ms=${50 + Math.floor(Math.random() * 250)}`, weight: 1 },
    ],
  },
  steadyLoadMs: 1000,
};

async function loadHarness() {
  const { startHaproxy, startReplica, startLoad, FAILURE_KINDS } = await import(new URL('index.ts', harness).href);
  return { startHaproxy, startReplica, startLoad, FAILURE_KINDS };
}

async function rollingRestart(h, name, model, rounds) {
  const peer = PEERS[name];
  const [readyWhere, readyPath] = peer.ready;
  const s = SETTINGS;
  const spec = {
    name: name.replace(/[^A-Za-z0-9-]/g, '-'),
    command: process.execPath,
    args: [`${servicesDir}${name}.mjs`],
    env: { KUBERNETES_SERVICE_HOST: '', DRAIN_DELAY_MS: String(s.drainDelayMs), GRACE_MS: String(s.peerGraceMs) },
    readiness: { port: readyWhere, path: readyPath },
  };
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const haproxy = await h.startHaproxy(model === 'kube-proxy' ? { mode: 'tcp' } : { mode: 'http', healthCheck: { ...s.healthCheck, path: readyPath } });
  const serverName = (r) => r.id.replace(/[^A-Za-z0-9_-]/g, '_');
  const inRotation = (stat) => (model === 'kube-proxy' ? stat.status === 'no check' : stat.status === 'UP');
  const all = [];
  const terminations = [];

  async function bringUp() {
    const replica = await h.startReplica(spec);
    all.push(replica);
    const checkPort = readyWhere === 'probe' ? replica.probePort : replica.port;
    await haproxy.addServer(serverName(replica), { port: replica.port, checkPort });
    await haproxy.waitForServer(serverName(replica), inRotation);
    return replica;
  }

  async function retire(replica) {
    const termination = replica.terminate({ graceMs: s.terminationGraceMs });
    // The load balancer learns of the termination on its own schedule, however fast the replica
    // dies: a peer that exits at once still gets new connections until then.
    const noticed =
      model === 'kube-proxy'
        ? sleep(s.endpointLagMs).then(() => haproxy.setState(serverName(replica), 'drain').catch(() => {}))
        : haproxy.waitForServer(serverName(replica), (stat) => stat.status.startsWith('DOWN'), s.terminationGraceMs).catch(() => {});
    const [result] = await Promise.all([termination, noticed]);
    await haproxy.removeServer(serverName(replica), 2000).catch(() => false);
    return result;
  }

  let load;
  try {
    let current = await Promise.all(Array.from({ length: s.replicas }, () => bringUp()));
    load = h.startLoad({ ...s.load, port: haproxy.port, maxDurationMs: 120_000 });
    await sleep(s.steadyLoadMs);
    for (let round = 0; round < rounds; round += 1) {
      const next = [];
      const pending = [];
      for (const old of current) {
        next.push(await bringUp());
        pending.push(retire(old));
      }
      terminations.push(...(await Promise.all(pending)));
      current = next;
    }
    await sleep(s.steadyLoadMs);
    const summary = await load.stop();
    load = undefined;
    return { name, model, rounds, summary, terminations };
  } finally {
    await load?.stop();
    await Promise.all(all.map((r) => r.kill()));
    await haproxy.stop();
  }
}

export async function run({ quick, log, peers = PEER_NAMES, models = MODELS }) {
  const h = await loadHarness();
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
    tables.push(`**${model === 'kube-proxy' ? 'kube-proxy model (HAProxy TCP, endpoint removed 1 s after SIGTERM)' : 'health-checked model (HAProxy HTTP, readiness checked every 250 ms, fall 2)'}**`, '');
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
  return {
    markdown: tables.join('\n'),
    data: Object.fromEntries(models.map((m) => [m, Object.fromEntries(peers.map((n) => [n, { rounds: results[m][n].rounds, summary: results[m][n].summary, terminations: results[m][n].terminations }]))])),
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
