/**
 * 2. How fast a peer leaves once it has nothing left to do (no drain delay anywhere):
 *    a) SIGTERM → exit with 50 idle keep-alive connections open;
 *    b) last in-flight response → exit with 20 slow requests in flight at SIGTERM.
 * Times are taken in the bench process: `kill()` / the client's last 'end' → the child's 'exit'.
 */
import { Agent } from 'node:http';
import { hit } from '../lib/http.mjs';
import { describeExit, label, startService } from '../lib/service.mjs';
import { fmtMs, median, sleep, table } from '../lib/util.mjs';

export const PEER_NAMES = ['podkit-express', 'podkit-fastify', 'terminus', 'lightship', 'close-with-grace', 'fastify-close', 'none-express'];
const ENV = { DRAIN_DELAY_MS: '0', GRACE_MS: '10000' };

async function idleTrial(name) {
  const svc = await startService(name, { env: ENV });
  const agent = new Agent({ keepAlive: true, maxSockets: 50, keepAliveMsecs: 1000 });
  try {
    const warm = await Promise.all(Array.from({ length: 50 }, () => hit(svc.mainPort, '/', { agent })));
    const sockets = Object.values(agent.freeSockets).flat();
    if (warm.some((r) => !r.ok) || sockets.length !== 50) throw new Error(`${name}: expected 50 idle sockets, got ${sockets.length}`);
    let lastClose = 0;
    let resets = 0;
    for (const socket of sockets) {
      socket.on('error', () => (resets += 1));
      socket.once('close', () => (lastClose = performance.now()));
    }
    await sleep(50);
    const t0 = performance.now();
    svc.signal('SIGTERM');
    const exit = await Promise.race([svc.exited, sleep(15_000).then(() => undefined)]);
    if (!exit) {
      await svc.kill();
      return { name, exitMs: NaN, exit: 'did not exit in 15 s', idleClosedMs: NaN, resets };
    }
    await sleep(20);
    return { name, exitMs: exit.at - t0, exit: describeExit(exit), idleClosedMs: lastClose ? lastClose - t0 : NaN, resets };
  } finally {
    agent.destroy();
    await svc.kill();
  }
}

async function inflightTrial(name, slowMs) {
  const svc = await startService(name, { env: ENV });
  try {
    const requests = Array.from({ length: 20 }, () => hit(svc.mainPort, `/slow?ms=${slowMs}`, { timeoutMs: 15_000 }));
    await sleep(Math.min(300, slowMs / 3)); // all 20 are now in the server's hands
    const t0 = performance.now();
    svc.signal('SIGTERM');
    const [results, exit] = await Promise.all([Promise.all(requests), Promise.race([svc.exited, sleep(15_000).then(() => undefined)])]);
    const failed = results.filter((r) => !r.ok).length;
    const lastResponse = Math.max(...results.filter((r) => r.ok).map((r) => r.endedAt));
    if (!exit) {
      await svc.kill();
      return { name, failed, afterLastMs: NaN, sigtermToExitMs: NaN, exit: 'did not exit in 15 s' };
    }
    return {
      name,
      failed,
      errors: [...new Set(results.filter((r) => !r.ok).map((r) => r.error ?? r.status))].join(', '),
      afterLastMs: failed === 20 ? NaN : exit.at - lastResponse,
      sigtermToExitMs: exit.at - t0,
      exit: describeExit(exit),
    };
  } finally {
    await svc.kill();
  }
}

export async function run({ quick, log, peers = PEER_NAMES }) {
  const trials = quick ? 2 : 3;
  const slowMs = 1000;
  const idle = {};
  const inflight = {};
  for (const name of peers) {
    idle[name] = [];
    inflight[name] = [];
    for (let i = 0; i < trials; i += 1) {
      idle[name].push(await idleTrial(name));
      inflight[name].push(await inflightTrial(name, slowMs));
    }
    const a = idle[name];
    const b = inflight[name];
    log(`  ${name}: idle exit ${a.map((r) => fmtMs(r.exitMs)).join(' / ')}; after last response ${b.map((r) => fmtMs(r.afterLastMs)).join(' / ')} (failed ${b.map((r) => r.failed).join('/')})`);
  }

  const uniq = (rows, key) => [...new Set(rows.map((r) => r[key]))].join(', ');
  const idleTable = table(
    ['peer', 'SIGTERM → exit (median)', 'range', 'idle sockets closed by (median)', 'client resets', 'exit'],
    peers.map((name) => {
      const rows = idle[name];
      const ms = rows.map((r) => r.exitMs);
      return [label(name), fmtMs(median(ms)), `${fmtMs(Math.min(...ms))} – ${fmtMs(Math.max(...ms))}`, fmtMs(median(rows.map((r) => r.idleClosedMs))), rows.map((r) => r.resets).join('/'), uniq(rows, 'exit')];
    }),
  );
  const inflightTable = table(
    ['peer', 'last response → exit (median)', 'range', 'SIGTERM → exit (median)', 'failed of 20 (per trial)', 'exit'],
    peers.map((name) => {
      const rows = inflight[name];
      const after = rows.map((r) => r.afterLastMs);
      const errors = uniq(rows, 'errors');
      return [
        label(name),
        fmtMs(median(after)),
        after.some(Number.isNaN) ? 'n/a' : `${fmtMs(Math.min(...after))} – ${fmtMs(Math.max(...after))}`,
        fmtMs(median(rows.map((r) => r.sigtermToExitMs))),
        `${rows.map((r) => r.failed).join('/')}${errors ? ` (${errors})` : ''}`,
        uniq(rows, 'exit'),
      ];
    }),
  );
  const podkitAfter = peers.filter((n) => n.startsWith('podkit')).map((n) => median(inflight[n].map((r) => r.afterLastMs)));
  const worstPodkit = Math.max(...podkitAfter);
  const markdown = [
    `**a) SIGTERM → exit, 50 idle keep-alive connections, no drain delay** (${trials} trials each)`,
    '',
    idleTable,
    '',
    `**b) Last in-flight response → exit, 20 requests of ${slowMs} ms in flight at SIGTERM** (${trials} trials each)`,
    '',
    inflightTable,
    '',
    `Target: exit within 50 ms after the last response: **${worstPodkit <= 50 ? 'pass' : 'miss'}** (podkit's worst median: ${fmtMs(worstPodkit)}).`,
  ].join('\n');
  return { markdown, data: { idle, inflight }, target: { exitAfterLastMs: worstPodkit, pass: worstPodkit <= 50 } };
}
