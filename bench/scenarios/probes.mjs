/**
 * 4. Probe latency while the main port is saturated: autocannon (its own process, CPU 1) keeps the
 * service (CPU 0) busy on `GET /`, while the bench polls `/readyz` and `/livez` the way the kubelet
 * does: a fresh connection per probe, 1 s timeout (timeoutSeconds: 1), here every 20 ms.
 * b) A wedged main loop: one request holds the service's main loop in a synchronous call for 5 s
 * while the same poller runs; liveness must fail once the loop has been stuck longer than its
 * window and pass again after, and readiness must keep answering.
 */
import { autocannon } from '../lib/autocannon.mjs';
import { hit } from '../lib/http.mjs';
import { label, PEERS, startService } from '../lib/service.mjs';
import { fmtMs, percentile, sleep, table } from '../lib/util.mjs';

export const PEER_NAMES = ['podkit-express', 'podkit-fastify', 'terminus', 'lightship', 'none-express', 'ref-main-thread-probe', 'ref-worker-probe'];
export const BLOCK_PEER_NAMES = ['podkit-express', 'podkit-fastify', 'terminus', 'lightship'];
const PROBE_TIMEOUT_MS = 1000;
/** The bound for a probe answer, saturated or wedged. */
const PROBE_P99_TARGET_MS = 5;
/** b) How long the main loop is held, and podkit's liveness window for it (`liveness.heartbeatTimeoutMs`; default 5000). */
const BLOCK_MS = 5000;
const LIVENESS_WINDOW_MS = 2000;

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

/** Latency of the probes that got an answer (`ok`: a 2xx; with `anyAnswer`, any status); the rest count as failed. */
function summarize(rs, { anyAnswer = false } = {}) {
  const ok = rs.filter((r) => (anyAnswer ? r.status > 0 : r.ok));
  const ms = ok.map((r) => r.ms);
  return { n: rs.length, failed: rs.length - ok.length, p50: percentile(ms, 50), p99: percentile(ms, 99), max: Math.max(...ms) };
}

/**
 * b) Holds the service's main loop for BLOCK_MS (GET /block) while polling both probes every 20 ms.
 * Times are from the moment the bench sent the blocking request.
 */
async function blockTrial(name, log) {
  const svc = await startService(name, { env: { LIVENESS_WINDOW_MS: String(LIVENESS_WINDOW_MS) } });
  try {
    const samples = { ready: [], live: [] };
    const t0 = performance.now() + 1000;
    let blockEnd;
    const blocking = sleep(1000).then(() => hit(svc.mainPort, `/block?ms=${BLOCK_MS}`, { timeoutMs: BLOCK_MS + 5000 }).then((r) => (blockEnd = r.endedAt - t0)));
    let turn = 0;
    const inflight = [];
    const stopAt = t0 + BLOCK_MS + 2500;
    while (performance.now() < stopAt) {
      const which = turn++ % 2 === 0 ? 'ready' : 'live';
      const { port, path } = svc[which];
      inflight.push(hit(port, path, { timeoutMs: PROBE_TIMEOUT_MS }).then((r) => samples[which].push({ ...r, at: r.startedAt - t0 })));
      await sleep(20);
    }
    await Promise.all([...inflight, blocking]);
    const during = (rs) => rs.filter((r) => r.at >= 0 && r.at < BLOCK_MS);
    const live = samples.live.sort((a, b) => a.at - b.at);
    const firstFail = live.find((r) => r.at >= 0 && !r.ok);
    const lastFail = [...live].reverse().find((r) => !r.ok);
    const backOk = lastFail ? live.find((r) => r.at > lastFail.at && r.ok) : undefined;
    const readyDuring = during(samples.ready);
    const result = {
      blockEndMs: blockEnd,
      liveFailedBeforeWindow: live.filter((r) => r.at < LIVENESS_WINDOW_MS - 250 && !r.ok).length,
      liveFirstFailMs: firstFail?.at,
      liveFirstFailSeen: firstFail ? firstFail.error ?? String(firstFail.status) : undefined,
      liveBackMs: backOk?.at,
      liveFailedAfter: live.filter((r) => blockEnd !== undefined && r.at > blockEnd + 1000 && !r.ok).length,
      // Readiness may answer 503 while the loop is wedged (podkit does): an answer is what counts here.
      ready: summarize(readyDuring, { anyAnswer: true }),
      readyStatuses: [...new Set(readyDuring.map((r) => r.error ?? String(r.status)))],
      live: summarize(during(live), { anyAnswer: true }),
    };
    log(`  wedged ${name}: /livez first fails at ${fmtMs(result.liveFirstFailMs)} (${result.liveFirstFailSeen ?? 'never'}), back at ${fmtMs(result.liveBackMs)} (block ended ${fmtMs(blockEnd)}); /readyz during the block p99 ${fmtMs(result.ready.p99)}, failed ${result.ready.failed} of ${result.ready.n}`);
    return result;
  } finally {
    await svc.kill();
  }
}

export async function run({ quick, log, peers = PEER_NAMES, blockPeers = BLOCK_PEER_NAMES }) {
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
  const wedged = {};
  for (const name of blockPeers) wedged[name] = await blockTrial(name, log);
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
      const failed = results[n].busy.ready.failed + results[n].busy.live.failed;
      return `Target (${label(n)}): probe p99 ≤ ${PROBE_P99_TARGET_MS} ms under saturation, no probe timeouts: **${worst <= PROBE_P99_TARGET_MS && failed === 0 ? 'pass' : 'miss'}** (worst p99 ${fmtMs(worst)}; ${failed} failed).`;
    }),
    '',
    `**b) A wedged main loop**: one request holds the service's main loop in a synchronous call for ${BLOCK_MS / 1000} s (\`GET /block\`) while both probes are polled as above (fresh connection, 1 s timeout, every 20 ms). podkit runs with \`liveness.heartbeatTimeoutMs: ${LIVENESS_WINDOW_MS}\` (the default is 5000) so that the block outlasts the window. Times from the moment the bench sent the blocking request.`,
    '',
    table(
      ['peer', 'liveness first fails at', 'liveness passes again at', 'block ended at', 'readiness during the block: p50 / p99, max', 'readiness answers during the block', 'readiness probes unanswered (timeout)'],
      blockPeers.map((name) => {
        const w = wedged[name];
        return [
          label(name),
          w.liveFirstFailMs === undefined ? 'never' : `${fmtMs(w.liveFirstFailMs)} (${w.liveFirstFailSeen})`,
          w.liveBackMs === undefined ? (w.liveFirstFailMs === undefined ? '—' : 'never') : fmtMs(w.liveBackMs),
          fmtMs(w.blockEndMs),
          `${fmtMs(w.ready.p50)} / **${fmtMs(w.ready.p99)}**, ${fmtMs(w.ready.max)}`,
          w.readyStatuses.join(', '),
          `${w.ready.failed} of ${w.ready.n}`,
        ];
      }),
    ),
    '',
    ...blockPeers.filter((n) => n.startsWith('podkit')).map((n) => {
      const w = wedged[n];
      const livenessOk = w.liveFirstFailMs !== undefined && w.liveFirstFailMs >= LIVENESS_WINDOW_MS - 250 && w.liveFailedBeforeWindow === 0 && w.liveBackMs !== undefined && w.liveFailedAfter === 0;
      const readyOk = w.ready.failed === 0 && w.ready.p99 <= PROBE_P99_TARGET_MS;
      return `Target (${label(n)}): liveness fails after the window and passes after the block: **${livenessOk ? 'pass' : 'miss'}**; readiness answers within ${PROBE_P99_TARGET_MS} ms throughout (p99): **${readyOk ? 'pass' : 'miss'}** (p99 ${fmtMs(w.ready.p99)}, ${w.ready.failed} failed).`;
    }),
  ].join('\n');
  const podkit = peers.filter((n) => n.startsWith('podkit'));
  const podkitWorst = Math.max(...podkit.map((n) => Math.max(results[n].busy.ready.p99, results[n].busy.live.p99)));
  const podkitFailed = podkit.reduce((a, n) => a + results[n].busy.ready.failed + results[n].busy.live.failed, 0);
  const wedgedReadyP99 = Math.max(...blockPeers.filter((n) => n.startsWith('podkit')).map((n) => wedged[n].ready.p99));
  return {
    markdown,
    data: { ...results, wedged },
    target: { probeP99Ms: podkitWorst, failed: podkitFailed, pass: podkitWorst <= PROBE_P99_TARGET_MS && podkitFailed === 0, wedgedReadyP99Ms: wedgedReadyP99 },
  };
}
