/**
 * 5. How fast readiness tells the truth.
 *  a) SIGTERM → readiness not-ready (drain delay 2 s, so the process is still there to answer).
 *  b) Redis outage → readiness not-ready, and Redis back → readiness 200, with a private
 *     redis-server (never the shared one) that the bench kills and restarts on the same port.
 * Readiness is polled the kubelet's way (fresh connection, 1 s timeout); a probe that times out
 * counts as not-ready when it times out. Times: from the bench's kill()/spawn() to the end of the
 * first probe response that shows the change, so they include one probe round trip.
 */
import { hit } from '../lib/http.mjs';
import { startPrivateRedis } from '../lib/redis.mjs';
import { label, startService } from '../lib/service.mjs';
import { fmtMs, freePort, median, sleep, table } from '../lib/util.mjs';

export const SIGTERM_PEERS = ['podkit-express', 'podkit-fastify', 'terminus', 'lightship', 'close-with-grace', 'fastify-close', 'none-express'];
export const REDIS_PEERS = ['podkit-express', 'terminus'];
const DRAIN_DELAY_MS = 2000;

/**
 * Polls readiness with `parallel` back-to-back pollers until `until(result)` holds for a probe that
 * ended after `since`; resolves with that probe (or undefined after `timeoutMs`).
 */
async function pollUntil(svc, since, until, { parallel = 2, timeoutMs = 10_000 } = {}) {
  const deadline = performance.now() + timeoutMs;
  let found;
  const loop = async () => {
    while (!found && performance.now() < deadline) {
      const r = await hit(svc.ready.port, svc.ready.path, { timeoutMs: 1000 });
      if (r.endedAt >= since && until(r) && (!found || r.endedAt < found.endedAt)) found = r;
      if (!r.ok && r.error === 'ECONNREFUSED') await sleep(1);
    }
  };
  await Promise.all(Array.from({ length: parallel }, (_, i) => sleep(i).then(loop)));
  return found;
}

const describe = (r) => (r === undefined ? 'no change seen' : r.error ? (r.error === 'ETIMEDOUT' ? 'probe timeout (1 s)' : r.error) : String(r.status));

async function sigtermTrial(name) {
  const svc = await startService(name, { env: { DRAIN_DELAY_MS: String(DRAIN_DELAY_MS), GRACE_MS: '8000' } });
  try {
    // Probes answered 200 before the signal.
    const before = await hit(svc.ready.port, svc.ready.path);
    if (!before.ok) throw new Error(`${name}: readiness ${before.status} ${before.error ?? ''} before SIGTERM`);
    const polling = pollUntil(svc, 0, (r) => !r.ok, { timeoutMs: 6000 });
    await sleep(30);
    const t0 = performance.now();
    svc.signal('SIGTERM');
    const first = await polling;
    return { ms: first ? first.endedAt - t0 : NaN, seen: describe(first) };
  } finally {
    await svc.kill();
  }
}

async function redisTrial(name, redisPort) {
  let redis = await startPrivateRedis(redisPort);
  const svc = await startService(name, { env: { REDIS_URL: redis.url } });
  try {
    const up = await pollUntil(svc, 0, (r) => r.ok, { timeoutMs: 10_000 });
    if (!up) throw new Error(`${name}: never ready with Redis up`);
    await sleep(300);
    const t0 = performance.now();
    await redis.kill();
    const down = await pollUntil(svc, t0, (r) => !r.ok, { timeoutMs: 15_000 });
    await sleep(500);
    const t1 = performance.now();
    redis = await startPrivateRedis(redisPort);
    const back = await pollUntil(svc, t1, (r) => r.ok, { timeoutMs: 15_000 });
    return { downMs: down ? down.endedAt - t0 : NaN, downSeen: describe(down), backMs: back ? back.endedAt - t1 : NaN };
  } finally {
    await svc.kill();
    await redis.kill();
  }
}

export async function run({ quick, log, sigtermPeers = SIGTERM_PEERS, redisPeers = REDIS_PEERS }) {
  const trials = quick ? 3 : 5;
  const sigterm = {};
  for (const name of sigtermPeers) {
    sigterm[name] = [];
    for (let i = 0; i < trials; i += 1) sigterm[name].push(await sigtermTrial(name));
    log(`  SIGTERM → not ready · ${name}: ${sigterm[name].map((r) => `${fmtMs(r.ms)} (${r.seen})`).join(', ')}`);
  }
  const redisTrials = quick ? 2 : 3;
  const redis = {};
  const redisPort = await freePort();
  for (const name of redisPeers) {
    redis[name] = [];
    for (let i = 0; i < redisTrials; i += 1) redis[name].push(await redisTrial(name, redisPort));
    log(`  Redis · ${name}: down ${redis[name].map((r) => `${fmtMs(r.downMs)} (${r.downSeen})`).join(', ')}; back ${redis[name].map((r) => fmtMs(r.backMs)).join(', ')}`);
  }

  const seen = (rows, key) => [...new Set(rows.map((r) => r[key]))].join(', ');
  const markdown = [
    `**a) SIGTERM → readiness not-ready** (drain delay / pre-close sleep ${DRAIN_DELAY_MS} ms for every peer that has one; ${trials} trials; two back-to-back pollers)`,
    '',
    table(
      ['peer', 'median', 'max', 'what readiness answered first'],
      sigtermPeers.map((name) => {
        const ms = sigterm[name].map((r) => r.ms);
        return [label(name), `**${fmtMs(median(ms), 2)}**`, fmtMs(Math.max(...ms), 2), seen(sigterm[name], 'seen')];
      }),
    ),
    '',
    `**b) Redis outage and recovery** (private redis-server SIGKILLed, restarted 500 ms after readiness changed; ${redisTrials} trials; ioredis defaults in both)`,
    '',
    table(
      ['peer', 'readiness check', 'Redis down → not ready (median, max)', 'seen', 'Redis back → 200 (median, max)'],
      redisPeers.map((name) => {
        const rows = redis[name];
        const check = name.startsWith('podkit') ? 'background check: every 250 ms, 250 ms timeout, 2 failures to flip, 1 success back' : 'PING inside each probe request (terminus healthCheck)';
        return [
          label(name),
          check,
          `**${fmtMs(median(rows.map((r) => r.downMs)))}**, ${fmtMs(Math.max(...rows.map((r) => r.downMs)))}`,
          seen(rows, 'downSeen'),
          `**${fmtMs(median(rows.map((r) => r.backMs)))}**, ${fmtMs(Math.max(...rows.map((r) => r.backMs)))}`,
        ];
      }),
    ),
    '',
    ...sigtermPeers.filter((n) => n.startsWith('podkit')).map((n) => {
      const ms = sigterm[n].map((r) => r.ms);
      const m = median(ms);
      return `Target (${label(n)}): readiness 503 within 5 ms of SIGTERM, judged on the median of ${trials} trials: **${m <= 5 ? 'pass' : 'miss'}** (median ${fmtMs(m, 2)}; worst trial ${fmtMs(Math.max(...ms), 2)}; ${ms.filter((x) => x <= 5).length} of ${trials} trials within 5 ms).`;
    }),
  ].join('\n');
  const podkitNames = sigtermPeers.filter((n) => n.startsWith('podkit'));
  const worstMedian = Math.max(...podkitNames.map((n) => median(sigterm[n].map((r) => r.ms))));
  const worstTrial = Math.max(...podkitNames.flatMap((n) => sigterm[n].map((r) => r.ms)));
  return { markdown, data: { sigterm, redis }, target: { sigtermTo503Ms: worstMedian, worstTrialMs: worstTrial, pass: worstMedian <= 5 } };
}
