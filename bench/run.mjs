#!/usr/bin/env node
/**
 * `pnpm bench`: podkit against the shutdown handling people use today, in one run, on one machine.
 *
 *   node bench/run.mjs [--quick] [--only=rolling,exit,reaction,probes,throughput,startup,grpc,longlived] [--write]
 *
 * --quick  fewer trials and shorter runs (about half the time)
 * --only   run some sections only
 * --write  also replace the generated block of BENCHMARKS.md with this run's tables, and the
 *          rolling-restart timelines in bench/timelines/ with this run's
 *
 * Results: bench/results/latest.json, bench/results/latest.md and bench/results/timelines/*.svg
 * (every run), stdout (Markdown). Section numbers follow BENCHMARKS.md. Progress goes to stderr.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';
import { label } from './lib/service.mjs';
import { renderTimeline } from './lib/timeline.mjs';
import { fmtMs, table } from './lib/util.mjs';

// The rolling-restart section reuses the e2e harness, written in TypeScript.
register();

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = join(benchDir, '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const write = args.includes('--write');
const onlyArg = args.find((a) => a.startsWith('--only='));
const SECTIONS = [
  { id: 'rolling', n: 1, title: 'Failed requests per rolling restart', needs: ['haproxy', 'ip', 'iptables', 'conntrack', 'root'] },
  { id: 'exit', n: 2, title: 'Time to exit' },
  { id: 'throughput', n: 3, title: 'Main-port overhead (throughput and p99)' },
  { id: 'probes', n: 4, title: 'Probe latency while the main port is saturated' },
  { id: 'reaction', n: 5, title: 'Reaction times of readiness', needs: ['redis-server'] },
  { id: 'startup', n: 6, title: 'Start-up cost' },
  { id: 'grpc', n: 7, title: 'Failed gRPC calls per rolling restart', needs: ['ip', 'iptables', 'root'] },
  { id: 'longlived', n: 8, title: 'Long-lived connections per rolling restart (WebSocket, SSE, HTTP/2)', needs: ['ip', 'iptables', 'root'] },
];
const unknown = args.filter((a) => !['--quick', '--write'].includes(a) && !a.startsWith('--only='));
if (unknown.length) {
  console.error(`unknown argument(s): ${unknown.join(' ')}\nusage: node bench/run.mjs [--quick] [--only=${SECTIONS.map((s) => s.id).join(',')}] [--write]`);
  process.exit(2);
}
const only = onlyArg ? onlyArg.slice('--only='.length).split(',') : undefined;
for (const id of only ?? []) {
  if (!SECTIONS.some((s) => s.id === id)) {
    console.error(`--only: no section "${id}" (sections: ${SECTIONS.map((s) => s.id).join(', ')})`);
    process.exit(2);
  }
}

const log = (line) => process.stderr.write(`${line}\n`);
const version = (cmd, argv) => {
  try {
    return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0].trim();
  } catch {
    return undefined;
  }
};
const pkgVersion = (name) => {
  try {
    return JSON.parse(readFileSync(join(benchDir, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
};

const tools = {
  haproxy: version('haproxy', ['-v']),
  'redis-server': version('redis-server', ['--version']),
  // The kube-proxy model: a network namespace, kube-proxy's iptables rules, conntrack's events.
  ip: version('ip', ['-V']),
  iptables: version('iptables', ['--version']),
  conntrack: version('conntrack', ['--version']),
  root: process.getuid?.() === 0 ? 'root' : undefined,
};
const startedAt = new Date();
const t0 = performance.now();
const loadBefore = loadavg();
const command = ['pnpm bench', ...args].join(' ');
log(`podkit bench${quick ? ' (quick)' : ''}: ${new Date().toISOString()}, load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`);

const results = {};
for (const section of SECTIONS) {
  if (only && !only.includes(section.id)) continue;
  const missing = (section.needs ?? []).filter((tool) => !tools[tool]);
  if (missing.length) {
    const what = missing.map((tool) => (tool === 'root' ? 'root (network namespaces need it)' : `${tool} not installed`)).join(', ');
    log(`\n${section.n}. ${section.title}: skipped, ${what}`);
    results[section.id] = { skipped: what };
    continue;
  }
  log(`\n${section.n}. ${section.title}`);
  const begun = performance.now();
  const mod = await import(`./scenarios/${section.id}.mjs`);
  try {
    results[section.id] = { ...(await mod.run({ quick, log })), seconds: (performance.now() - begun) / 1000, loadAfter: loadavg()[0] };
  } catch (error) {
    log(`  failed: ${error.stack ?? error}`);
    results[section.id] = { error: String(error.message ?? error), seconds: (performance.now() - begun) / 1000 };
  }
  log(`  (${Math.round((performance.now() - begun) / 1000)} s)`);
}
const totalS = (performance.now() - t0) / 1000;
const loadAfter = loadavg();

// --- Timelines: one rolling restart per peer, kube-proxy model -----------------------------------

const timelines = results.rolling?.timelines ?? {};
delete results.rolling?.timelines;
const timelineFiles = [];
if (Object.keys(timelines).length > 0) {
  const runDir = join(benchDir, 'results', 'timelines');
  const committedDir = join(benchDir, 'timelines');
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  if (write) mkdirSync(committedDir, { recursive: true });
  for (const [name, data] of Object.entries(timelines)) {
    if (!data) continue;
    const svg = await renderTimeline(data);
    writeFileSync(join(runDir, `${name}.svg`), svg);
    writeFileSync(join(runDir, `${name}.json`), `${JSON.stringify(data)}\n`);
    if (write) writeFileSync(join(committedDir, `${name}.svg`), svg);
    timelineFiles.push({ name, file: `bench/${write ? 'timelines' : 'results/timelines'}/${name}.svg`, failed: data.failed, sent: data.sent });
  }
  log(`timelines: ${timelineFiles.map((t) => t.file).join(', ')}`);
}

// --- Markdown ------------------------------------------------------------------------------------

const cpu = cpus();
const machine = [
  `- Command: \`${command}\` (${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${Math.round(totalS)} s in all)`,
  `- Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, ${process.platform} ${version('uname', ['-r']) ?? ''}; Node ${process.version}; ${tools.haproxy?.replace(/ - https.*/, '') ?? 'no HAProxy'}; ${tools.iptables ?? 'no iptables'}; ${tools['redis-server']?.replace(/ sha=.*/, '') ?? 'no redis-server'}`,
  `- Load average (1 min) at start ${loadBefore[0].toFixed(2)}, at end ${loadAfter[0].toFixed(2)}: the machine is shared, other work ran meanwhile.`,
  `- Peers: express ${pkgVersion('express')}, fastify ${pkgVersion('fastify')}, @godaddy/terminus ${pkgVersion('@godaddy/terminus')}, lightship ${pkgVersion('lightship')}, http-terminator ${pkgVersion('http-terminator')}, close-with-grace ${pkgVersion('close-with-grace')}, autocannon ${pkgVersion('autocannon')}.`,
];

function headline() {
  const r = results;
  const names = ['podkit-express', 'podkit-fastify', 'terminus', 'lightship', 'close-with-grace', 'fastify-close', 'none-express'];
  const cell = (fn) => {
    try {
      const v = fn();
      return v === undefined ? '—' : v;
    } catch {
      return '—';
    }
  };
  const perRestart = (model, n) => {
    const d = r.rolling?.data?.[model]?.[n];
    if (!d) return undefined;
    const v = d.summary.failed / d.rounds;
    return Number.isInteger(v) ? String(v) : v.toFixed(1);
  };
  const medianOf = (rows, key) => {
    const xs = rows.map((x) => x[key]).filter(Number.isFinite).sort((a, b) => a - b);
    return xs.length ? xs[Math.ceil(xs.length / 2) - 1] : undefined;
  };
  const rows = names.map((n) => [
    label(n),
    cell(() => perRestart('kube-proxy', n)),
    cell(() => perRestart('health-checked', n)),
    cell(() => {
      const rows = r.exit?.data?.inflight?.[n];
      const failed = rows?.reduce((a, x) => a + x.failed, 0);
      const v = medianOf(rows, 'afterLastMs');
      return rows ? `${v === undefined ? 'n/a' : fmtMs(v)}${failed ? ` (${failed} of ${rows.length * 20} cut)` : ''}` : undefined;
    }),
    cell(() => {
      const rows = r.reaction?.data?.sigterm?.[n];
      if (!rows) return undefined;
      const seen = [...new Set(rows.map((x) => x.seen))];
      const v = medianOf(rows, 'ms');
      return `${fmtMs(v)}${seen.every((s) => /^\d+$/.test(s)) ? '' : ' (listener closed: a refused or reset probe, no readiness answer)'}`;
    }),
    cell(() => {
      const d = r.probes?.data?.[n];
      return d ? fmtMs(Math.max(d.busy.ready.p99, d.busy.live.p99)) : undefined;
    }),
  ]);
  return table(['', 'failed requests per rolling restart, kube-proxy model', '… health-checked model', 'last response → exit', 'SIGTERM → readiness fails', 'probe p99, main port saturated'], rows);
}

function targets() {
  const r = results;
  const lines = [];
  const mark = (pass) => (pass ? '**pass**' : '**miss**');
  if (r.rolling?.target) {
    const t = r.rolling.target;
    lines.push(`| zero failed requests where any peer fails some | ${mark(t.pass)} | podkit: ${t.podkitFailed} failed; other peer × model runs that failed some: ${t.peersFailing.length} of ${t.peerRuns} |`);
  }
  for (const t of r.throughput?.target ?? []) {
    lines.push(`| ${label(t.pair)}: throughput ≥ 99% of bare | ${mark(t.rpsRatio >= 0.99)} | ${(t.rpsRatio * 100).toFixed(1)}% (CPU per request ${(t.cpuRatio * 100).toFixed(1)}% of bare) |`);
    lines.push(`| ${label(t.pair)}: p99 ≤ 103% of bare | ${mark(t.p99Ratio <= 1.03)} | ${(t.p99Ratio * 100).toFixed(1)}% |`);
  }
  if (r.exit?.target) lines.push(`| exit within 50 ms after the last response | ${mark(r.exit.target.pass)} | worst podkit median ${fmtMs(r.exit.target.exitAfterLastMs)} |`);
  if (r.probes?.target) {
    lines.push(`| probe p99 ≤ 5 ms under saturation, no timeouts | ${mark(r.probes.target.pass)} | worst podkit p99 ${fmtMs(r.probes.target.probeP99Ms)}; ${r.probes.target.failed} failed |`);
    lines.push(`| readiness within 5 ms while the main loop is wedged 5 s | ${mark(r.probes.target.wedgedReadyP99Ms <= 5)} | worst podkit p99 ${fmtMs(r.probes.target.wedgedReadyP99Ms)} |`);
  }
  if (r.reaction?.target) lines.push(`| readiness 503 within 5 ms of SIGTERM (median) | ${mark(r.reaction.target.pass)} | worst podkit median ${fmtMs(r.reaction.target.sigtermTo503Ms, 2)}; worst single trial ${fmtMs(r.reaction.target.worstTrialMs, 2)} |`);
  return lines.length ? ['| target | result | number |', '| --- | --- | --- |', ...lines].join('\n') : '';
}

const parts = ['### Run', '', ...machine, ''];
if (!only) parts.push('### Headline', '', headline(), '', '### Targets', '', targets(), '');
/** Each section's Markdown, by section id, so a partial run can replace just its own sections. */
const sectionMarkdown = {};
for (const section of SECTIONS) {
  const res = results[section.id];
  if (!res) continue;
  const start = parts.length;
  parts.push(`### ${section.n}. ${section.title}`, '');
  // A partial run (--only) says, in each of its sections, which command and machine produced it.
  if (only) parts.push(`<sub>From \`${command}\` (${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC; ${machine[1].slice(2)})</sub>`, '');
  if (res.skipped) parts.push(`Skipped: ${res.skipped}.`, '');
  else if (res.error) parts.push(`Failed: ${res.error}`, '');
  else parts.push(res.markdown, '', `<sub>${Math.round(res.seconds)} s; load average afterwards ${res.loadAfter.toFixed(2)}</sub>`, '');
  if (section.id === 'rolling' && timelineFiles.length > 0) {
    parts.push(
      '**Timelines: the first rolling restart of each peer in the kube-proxy model**, drawn from this run\'s own records (every request, with the replica conntrack saw it reach):',
      '',
      ...timelineFiles.flatMap((t) => [`![${label(t.name)}: ${t.failed} of ${t.sent} requests failed](${t.file})`, '']),
    );
  }
  sectionMarkdown[section.id] = parts.slice(start).join('\n');
}
const markdown = parts.join('\n');

mkdirSync(join(benchDir, 'results'), { recursive: true });
writeFileSync(join(benchDir, 'results', 'latest.md'), markdown);
writeFileSync(
  join(benchDir, 'results', 'latest.json'),
  `${JSON.stringify({ command, startedAt, totalSeconds: totalS, loadBefore, loadAfter, node: process.version, tools, results }, null, 1)}\n`,
);
process.stdout.write(`\n${markdown}\n`);

if (write) {
  const file = join(root, 'BENCHMARKS.md');
  const begin = '<!-- bench:results:begin (generated by `pnpm bench --write`; edit outside these markers) -->';
  const end = '<!-- bench:results:end -->';
  const doc = readFileSync(file, 'utf8');
  const i = doc.indexOf(begin);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) {
    log(`--write: markers not found in ${file}; results are in bench/results/latest.md`);
  } else if (!only) {
    writeFileSync(file, `${doc.slice(0, i + begin.length)}\n\n${markdown}\n${doc.slice(j)}`);
    log(`--write: BENCHMARKS.md updated`);
  } else {
    // A partial run replaces only its own sections; the rest, and the headline of the last full
    // run, stay as they were (each section names the command that produced it).
    let block = doc.slice(i + begin.length, j);
    for (const section of SECTIONS) {
      if (!sectionMarkdown[section.id]) continue;
      const header = `\n### ${section.n}. `;
      const from = block.indexOf(header);
      if (from < 0) {
        block = `${block.trimEnd()}\n\n${sectionMarkdown[section.id]}\n`;
        continue;
      }
      const next = block.indexOf('\n### ', from + header.length);
      block = `${block.slice(0, from + 1)}${sectionMarkdown[section.id].trimEnd()}\n${next < 0 ? '\n' : block.slice(next)}`;
    }
    writeFileSync(file, `${doc.slice(0, i + begin.length)}${block}${doc.slice(j)}`);
    log(`--write: sections ${only.join(', ')} of BENCHMARKS.md replaced`);
  }
}
const failed = Object.values(results).some((r) => r.error);
process.exit(failed ? 1 : 0);
