/**
 * 3. Main-port overhead: podkit vs the same app without it, Express and Fastify.
 * The service is pinned to CPU 0 and autocannon (a separate process) to CPU 1; both services stay up
 * and the runs alternate A/B/A/B after one discarded warm-up run each. Reported as ratios of the
 * medians (podkit / bare): requests per second and p99 latency.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { autocannon } from '../lib/autocannon.mjs';
import { podkitShareOfProfile } from '../lib/profile.mjs';
import { label, startService } from '../lib/service.mjs';
import { cpuTimeMs, fmtRatio, median, table } from '../lib/util.mjs';

export const PAIRS = [
  ['none-express', 'podkit-express'],
  ['none-fastify', 'podkit-fastify'],
];

export async function run({ quick, log, pairs = PAIRS }) {
  const rounds = quick ? 3 : 6;
  const durationS = quick ? 3 : 4;
  const connections = 100;
  const results = [];
  for (const [bareName, podkitName] of pairs) {
    // One at a time on CPU 0, so the idle one costs nothing measurable; both stay up between runs.
    const bare = await startService(bareName, { cpu: 0 });
    const podkit = await startService(podkitName, { cpu: 0 });
    const runs = { bare: [], podkit: [] };
    try {
      const url = (svc) => `http://127.0.0.1:${svc.mainPort}/`;
      await autocannon(url(bare), { connections, durationS: 2, cpu: 1 });
      await autocannon(url(podkit), { connections, durationS: 2, cpu: 1 });
      for (let i = 0; i < rounds; i += 1) {
        // A/B then B/A, so neither side always runs second.
        const order = i % 2 === 0 ? ['bare', 'podkit'] : ['podkit', 'bare'];
        for (const side of order) {
          const svc = side === 'bare' ? bare : podkit;
          const cpuBefore = cpuTimeMs(svc.pid);
          const r = await autocannon(url(svc), { connections, durationS, cpu: 1 });
          // The service's own CPU time per request: less sensitive than req/s to what else the
          // machine runs, since time the service spends waiting for a CPU is not counted.
          r.cpuUsPerReq = ((cpuTimeMs(svc.pid) - cpuBefore) * 1000) / r.total;
          if (r.errors || r.non2xx) throw new Error(`${svc.name}: ${r.errors} errors, ${r.non2xx} non-2xx under load`);
          runs[side].push(r);
          log(`  ${svc.name}: ${Math.round(r.rps)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.cpuUsPerReq.toFixed(1)} µs CPU/request`);
        }
      }
    } finally {
      await bare.kill();
      await podkit.kill();
    }
    const profile = await profiledRun(podkitName, { connections, durationS });
    log(`  ${podkitName}: podkit's share of busy CPU samples ${(profile.podkitShare * 100).toFixed(1)}%`);
    // Each alternation's two runs are adjacent in time, so their ratio cancels slow drift in the
    // machine's other load; the median of those ratios is what is reported.
    const pairRps = runs.podkit.map((r, i) => r.rps / runs.bare[i].rps);
    const pairP99 = runs.podkit.map((r, i) => r.p99 / runs.bare[i].p99);
    const pairCpu = runs.podkit.map((r, i) => r.cpuUsPerReq / runs.bare[i].cpuUsPerReq);
    results.push({ bareName, podkitName, runs, pairRps, pairP99, pairCpu, profile, rpsRatio: median(pairRps), p99Ratio: median(pairP99), cpuRatio: median(pairCpu) });
  }

  const range = (xs) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;
  const fmtRuns = (rs, key, unit = '') => rs.map((r) => `${Math.round(r[key])}${unit}`).join(' / ');
  const markdown = [
    `autocannon -c ${connections} -d ${durationS} on \`GET /\`, ${rounds} alternations (A/B, B/A, …) after a discarded 2 s warm-up per side; service on CPU 0, autocannon on CPU 1. Ratio = median over alternations of podkit/bare within the alternation (range in brackets). CPU per request = the service's user+system CPU time (from /proc) divided by the requests autocannon completed. podkit's share: one more podkit run under \`node --cpu-prof\`, the share of busy samples whose nearest on-disk frame is podkit's code (Node internals it calls included).`,
    '',
    table(
      ['framework', 'bare req/s (runs)', 'podkit req/s (runs)', 'throughput podkit/bare', 'bare p99 (runs)', 'podkit p99 (runs)', 'p99 podkit/bare', 'CPU per request podkit/bare', "podkit's share of CPU samples"],
      results.map((r) => [
        label(r.bareName).replace('no shutdown handling ', '').replace(/[()]/g, ''),
        fmtRuns(r.runs.bare, 'rps'),
        fmtRuns(r.runs.podkit, 'rps'),
        `**${fmtRatio(r.rpsRatio)}** [${range(r.pairRps)}]`,
        fmtRuns(r.runs.bare, 'p99', ' ms'),
        fmtRuns(r.runs.podkit, 'p99', ' ms'),
        `**${fmtRatio(r.p99Ratio)}** [${range(r.pairP99)}]`,
        `${fmtRatio(r.cpuRatio)} [${range(r.pairCpu)}] (bare ${median(r.runs.bare.map((x) => x.cpuUsPerReq)).toFixed(0)} µs)`,
        `${(r.profile.podkitShare * 100).toFixed(1)}%`,
      ]),
    ),
    '',
    ...results.map((r) => {
      const tp = r.rpsRatio >= 0.99;
      const lat = r.p99Ratio <= 1.03;
      return `Target (${label(r.podkitName)}): throughput ≥ 99% of bare: **${tp ? 'pass' : 'miss'}** (${(r.rpsRatio * 100).toFixed(1)}%); p99 ≤ 103% of bare: **${lat ? 'pass' : 'miss'}** (${(r.p99Ratio * 100).toFixed(1)}%).`;
    }),
  ].join('\n');
  return { markdown, data: results, target: results.map((r) => ({ pair: r.podkitName, rpsRatio: r.rpsRatio, p99Ratio: r.p99Ratio, cpuRatio: r.cpuRatio, pass: r.rpsRatio >= 0.99 && r.p99Ratio <= 1.03 })) };
}

/** One more saturated run of the podkit service under the V8 sampling profiler. */
async function profiledRun(name, { connections, durationS }) {
  const dir = mkdtempSync(join(tmpdir(), 'podkit-bench-prof-'));
  try {
    const svc = await startService(name, { cpu: 0, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
    await autocannon(`http://127.0.0.1:${svc.mainPort}/`, { connections, durationS, cpu: 1 });
    // A clean exit writes the profile; SIGKILL would lose it.
    svc.signal('SIGTERM');
    await svc.exited;
    return podkitShareOfProfile(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
