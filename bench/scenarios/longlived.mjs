/**
 * 8. Long-lived connections per rolling restart: WebSocket, Server-Sent Events and HTTP/2 clients
 * through the replacement of every replica, for podkit and the peers.
 *
 * The kube-proxy model of section 1 (test/e2e/harness: the kernel's dataplane in a network
 * namespace of the run's own, endpoint removed `endpointLagMs` after SIGTERM), with a Service of
 * two ports: `http` (VIP:80 → the pod's PORT: WebSocket, SSE, and a light request load) and `h2c`
 * (VIP:81 → PORT + 2000: HTTP/2 cleartext). The clients (test/e2e/long-lived-clients.ts) run inside
 * the namespace and reconnect through the Service whenever their connection closes; each counts
 * every close that is not a clean goodbye: a WebSocket close other than 1001/1012 (1006: no close
 * frame), a reset or a refused connect; an SSE stream cut short; an HTTP/2 request that failed or a
 * session error (a request refused unprocessed by a GOAWAY is retried, as HTTP/2 allows, and not
 * counted). Each peer serves the same routes (bench/services/long-lived/), its shutdown configured
 * as in section 1, with the h2c server closed where its shutdown handling lets the app close a
 * second server.
 */
import { fileURLToPath } from 'node:url';
import { fmtMs, median, table } from '../lib/util.mjs';

const harness = new URL('../../test/e2e/harness/', import.meta.url);
const clientsModule = new URL('../../test/e2e/long-lived-clients.ts', import.meta.url).href;
const servicesDir = fileURLToPath(new URL('../services/long-lived/', import.meta.url));

export const PEERS = {
  podkit: { label: 'podkit (Express, `lifecycle.serve(h2c)`)', ready: ['probe', '/readyz'] },
  terminus: { label: '@godaddy/terminus', ready: ['main', '/readyz'] },
  lightship: { label: 'lightship + http-terminator', ready: ['probe', '/ready'] },
  'close-with-grace': { label: 'close-with-grace (Fastify)', ready: ['main', '/readyz'] },
  'fastify-close': { label: 'fastify.close() on SIGTERM', ready: ['main', '/readyz'] },
};

export const SETTINGS = {
  replicas: 2,
  endpointLagMs: 1000,
  drainDelayMs: 3000,
  peerGraceMs: 8000,
  terminationGraceMs: 10_000,
  clients: { webSockets: 20, eventStreams: 20, http2Sessions: 4 },
  load: { ratePerSecond: 50, requests: [{ name: 'get', path: '/' }] },
  steadyLoadMs: 1500,
};

const KINDS = ['websocket', 'sse', 'http2'];

async function rollingRestart(h, name, rounds) {
  const s = SETTINGS;
  const [readyWhere, readyPath] = PEERS[name].ready;
  const report = await h.runRollingRestart({
    label: PEERS[name].label,
    model: 'kube-proxy',
    replica: {
      name: `ll-${name}`,
      command: process.execPath,
      args: [`${servicesDir}${name}.mjs`],
      env: { KUBERNETES_SERVICE_HOST: '', DRAIN_DELAY_MS: String(s.drainDelayMs), GRACE_MS: String(s.peerGraceMs) },
      readiness: { port: readyWhere, path: readyPath },
    },
    replicas: s.replicas,
    rounds,
    endpointLagMs: s.endpointLagMs,
    terminationGraceMs: s.terminationGraceMs,
    steadyLoadMs: s.steadyLoadMs,
    servicePorts: [{ name: 'h2c', port: 81, targetPortOffset: 2000 }],
    clients: { module: clientsModule, export: 'longLivedClients', options: s.clients },
    load: { ...s.load, requestTimeoutMs: 10_000, maxDurationMs: 180_000 },
  });
  return { name, rounds, clients: report.clients, load: report.load, terminations: report.terminations };
}

export async function run({ quick, log, peers = Object.keys(PEERS) }) {
  const h = await import(new URL('index.ts', harness).href);
  const rounds = quick ? 1 : 2;
  const results = {};
  for (const name of peers) {
    const r = await rollingRestart(h, name, rounds);
    results[name] = r;
    log(`  ${name}: ${r.clients.abnormal.length} abnormal closes (${describe(r.clients.abnormal) || 'none'}); requests failed ${r.load.failed}; exits: ${exits(r.terminations)}`);
  }
  const per = (n, r) => {
    const v = n / r.rounds;
    return Number.isInteger(v) ? String(v) : v.toFixed(1);
  };
  const rows = peers.map((name) => {
    const r = results[name];
    const byKind = Object.fromEntries(KINDS.map((k) => [k, r.clients.abnormal.filter((a) => a.kind === k).length]));
    const elapsed = r.terminations.map((t) => t.elapsedMs);
    return [
      PEERS[name].label,
      `**${per(r.clients.abnormal.length, r)}**`,
      per(byKind.websocket, r),
      per(byKind.sse, r),
      per(byKind.http2, r),
      describe(r.clients.abnormal) || '—',
      `${fmtMs(median(elapsed))} (max ${fmtMs(Math.max(...elapsed))})`,
      exits(r.terminations),
    ];
  });
  const c = SETTINGS.clients;
  const markdown = [
    `**${c.webSockets} WebSocket + ${c.eventStreams} SSE + ${c.http2Sessions} HTTP/2 clients, reconnecting; kube-proxy model, endpoint removed ${SETTINGS.endpointLagMs / 1000} s after SIGTERM; ${rounds} rolling restart(s) × ${SETTINGS.replicas} replicas per peer**`,
    '',
    table(['peer', 'abnormal closes and failed HTTP/2 requests per rolling restart', 'WebSocket', 'SSE', 'HTTP/2', 'what the clients saw', 'old replica SIGTERM → exit, median', 'old replicas exited'], rows),
  ].join('\n');
  const podkitAbnormal = results.podkit ? results.podkit.clients.abnormal.length : undefined;
  return {
    markdown,
    data: Object.fromEntries(peers.map((n) => [n, { rounds, abnormal: results[n].clients.abnormal, webSocketCloseCodes: results[n].clients.webSocketCloseCodes, clients: results[n].clients.clients, loadFailed: results[n].load.failed, terminations: results[n].terminations }])),
    target: { podkitAbnormal, pass: podkitAbnormal === 0 },
    settings: { ...SETTINGS, rounds },
  };
}

/** `12× websocket close 1006, 3× sse stream cut short`: what the clients saw, most frequent first. */
function describe(abnormal) {
  const counts = new Map();
  for (const a of abnormal) {
    const key = `${a.kind} ${a.what.replace(/ \(.*\)$/, '')}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n}× ${k}`).join(', ');
}

function exits(terminations) {
  const counts = new Map();
  for (const t of terminations) {
    const key = t.killed ? 'SIGKILL (grace ran out)' : t.signal ? `killed by ${t.signal}` : `exit ${t.code}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${n}× ${k}`).join(', ');
}
