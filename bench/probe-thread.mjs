#!/usr/bin/env node
/**
 * What the probe worker thread costs and buys, in one short run (not part of `pnpm bench`):
 *
 *   node bench/probe-thread.mjs [--trials=7] [--latency]
 *
 * cost     createLifecycle() + start() (probe listener only, no checks, no warmups) in a fresh
 *          `node --expose-gc` process per sample, probes.thread 'worker' and 'main' alternating,
 *          after one discarded round: start() time (until the probe port listens), the CPU time
 *          it took (all threads: comparable on a loaded machine, where wall time is not),
 *          main-thread heap and process RSS added after a full GC (bench/lib/import-cost.mjs).
 * latency  (--latency) section 4 of the bench (probe latency with the main port saturated) for
 *          podkit (Express) and podkit (Fastify), once per probes.thread.
 * Markdown on stdout, progress on stderr.
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { fmtMs, median, table } from './lib/util.mjs';

const args = process.argv.slice(2);
const trials = Number(args.find((a) => a.startsWith('--trials='))?.slice('--trials='.length) ?? 7);
const log = (line) => process.stderr.write(`${line}\n`);
const IMPORT_COST = fileURLToPath(new URL('./lib/import-cost.mjs', import.meta.url));
const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));

function sample(extra) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', IMPORT_COST, '@podkit/lifecycle', extra], { cwd: BENCH_DIR, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`import-cost exited ${code}`))));
  });
}

const modes = { worker: 'start', main: 'start-main' };
const runs = { worker: [], main: [] };
for (let i = -1; i < trials; i += 1) {
  for (const [mode, extra] of Object.entries(modes)) {
    const r = await sample(extra);
    if (i >= 0) runs[mode].push(r);
  }
  log(`  round ${i + 1}/${trials}${i < 0 ? ' (discarded)' : ''}: worker ${fmtMs(runs.worker.at(-1)?.startMs)}, main ${fmtMs(runs.main.at(-1)?.startMs)}`);
}
const med = (rows, key) => median(rows.map((r) => r[key]));
const kib = (v) => `${Math.round(v).toLocaleString('en-US')} KiB`;
const rows = Object.keys(modes).map((mode) => [
  `\`${mode}\``,
  `**${fmtMs(med(runs[mode], 'startMs'), 2)}** (${fmtMs(Math.min(...runs[mode].map((r) => r.startMs)), 2)}–${fmtMs(Math.max(...runs[mode].map((r) => r.startMs)), 2)})`,
  fmtMs(med(runs[mode], 'startCpuMs'), 2),
  kib(med(runs[mode], 'startHeapKiB')),
  `**${kib(med(runs[mode], 'startRssKiB'))}**`,
]);
const out = [
  `Load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}.`,
  '',
  `createLifecycle() + start(), probe listener only, ${trials} fresh processes per mode (alternating, after a discarded round); medians (range):`,
  '',
  table(['probes.thread', 'start() until the probe port listens (wall clock)', 'CPU time of start(), all threads', 'main-thread heap added', 'process RSS added'], rows),
];

if (args.includes('--latency')) {
  const { run } = await import('./scenarios/probes.mjs');
  for (const mode of ['worker', 'main']) {
    process.env.PODKIT_PROBE_THREAD = mode;
    log(`probe latency, probes.thread ${mode}:`);
    const { markdown } = await run({ quick: true, log, peers: ['podkit-express', 'podkit-fastify'] });
    out.push('', `**probes.thread \`${mode}\`**`, '', markdown);
  }
}
process.stdout.write(`${out.join('\n')}\n`);
