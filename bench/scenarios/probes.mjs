/**
 * 4. Probe latency while the main port is saturated: autocannon (its own process, CPU 1) keeps the
 * service (CPU 0) busy on `GET /`, while the bench polls `/readyz` and `/livez` the way the kubelet
 * does: a fresh connection per probe, 1 s timeout (timeoutSeconds: 1), here every 20 ms.
 */
import { autocannon } from '../lib/autocannon.mjs';
import { hit } from '../lib/http.mjs';
import { label, PEERS, startService } from '../lib/service.mjs';
import { fmtMs, percentile, sleep, table } from '../lib/util.mjs';

export const PEER_NAMES = ['podkit-express', 'podkit-fastify', 'terminus', 'lightship', 'none-express', 'ref-main-thread-probe', 'ref-worker-probe'];
const PROBE_TIMEOUT_MS = 1000;

async function poll(svc, stopAt, intervalMs) {
  const samples = { ready: [], live: [] };
  let turn = 0;
  const inflight = [];
  while (performance.now() < stopAt) {
    const which = turn++ % 2 === 0 ? 'ready' : 'live';
    const { port, path } = svc[which];
    inflight.push(hit(port, path, { timeoutMs: PROBE_TIMEOUT_MS }).then((r) => samples[which].push(r)));
    await sleep(intervalMs);
  }
  await Promise.all(inflight);
  return samples;
}

function summarize(rs) {
  const ok = rs.filter((r) => r.ok);
  const ms = ok.map((r) => r.ms);
  return { n: rs.length, failed: rs.length - ok.length, p50: percentile(ms, 50), p99: percentile(ms, 99), max: Math.max(...ms) };
}

export async function run({ quick, log, peers = PEER_NAMES }) {
  const durationS = quick ? 4 : 6;
  const results = {};
  for (const name of peers) {
    const svc = await startService(name, { cpu: 0 });
    try {
      // Idle first, for reference.
      const idle = await poll(svc, performance.now() + 1000, 20);
      const load = autocannon(`http://127.0.0.1:${svc.mainPort}/`, { connections: 100, durationS: durationS + 1, cpu: 1 });
      await sleep(700); // let autocannon reach full load
      const busy = await poll(svc, performance.now() + durationS * 1000 - 500, 20);
      const cannon = await load;
      results[name] = {
        idle: { ready: summarize(idle.ready), live: summarize(idle.live) },
        busy: { ready: summarize(busy.ready), live: summarize(busy.live) },
        mainRps: cannon.rps,
        mainP50: cannon.p50,
        mainP99: cannon.p99,
      };
      const b = results[name].busy;
      log(`  ${name}: /ready p50 ${fmtMs(b.ready.p50)} p99 ${fmtMs(b.ready.p99)} (failed ${b.ready.failed}); /live p50 ${fmtMs(b.live.p50)} p99 ${fmtMs(b.live.p99)} (failed ${b.live.failed}); main ${Math.round(cannon.rps)} req/s`);
    } finally {
      await svc.kill();
    }
  }
  // podkit's listener runs in a worker thread unless PODKIT_PROBE_THREAD=main (passed on to the services).
  const podkitThread = process.env.PODKIT_PROBE_THREAD === 'main' ? 'main thread' : 'worker thread';
  const where = (name) =>
    name === 'ref-worker-probe' ? 'own port, worker thread' : name.startsWith('podkit') ? `own port, ${podkitThread}` : PEERS[name].ready[0] === 'probe' ? 'own port' : 'main port';
  const markdown = [
    `autocannon -c 100 on the main port for ${durationS} s (service pinned to CPU 0, autocannon to CPU 1); probes polled every 20 ms on fresh connections with a 1 s timeout. Latency of answered probes; timeouts counted as failed.`,
    '',
    table(
      ['peer', 'probes on', 'readiness p50 / p99 (saturated)', 'liveness p50 / p99 (saturated)', 'max', 'probes failed', 'readiness p50 idle', 'main port meanwhile: req/s, p50 / p99'],
      peers.map((name) => {
        const r = results[name];
        return [
          label(name),
          where(name),
          `${fmtMs(r.busy.ready.p50)} / **${fmtMs(r.busy.ready.p99)}**`,
          `${fmtMs(r.busy.live.p50)} / **${fmtMs(r.busy.live.p99)}**`,
          fmtMs(Math.max(r.busy.ready.max, r.busy.live.max)),
          `${r.busy.ready.failed + r.busy.live.failed} of ${r.busy.ready.n + r.busy.live.n}`,
          fmtMs(r.idle.ready.p50, 2),
          `${Math.round(r.mainRps)}, ${r.mainP50} / ${r.mainP99} ms`,
        ];
      }),
    ),
    '',
    ...peers.filter((n) => n.startsWith('podkit')).map((n) => {
      const worst = Math.max(results[n].busy.ready.p99, results[n].busy.live.p99);
      return `Target (${label(n)}): probe p99 ≤ 10 ms under saturation: **${worst <= 10 ? 'pass' : 'miss'}** (worst p99 ${fmtMs(worst)}).`;
    }),
  ].join('\n');
  const podkitWorst = Math.max(...peers.filter((n) => n.startsWith('podkit')).map((n) => Math.max(results[n].busy.ready.p99, results[n].busy.live.p99)));
  return { markdown, data: results, target: { probeP99Ms: podkitWorst, pass: podkitWorst <= 10 } };
}
