/**
 * 6. Start-up cost.
 *  a) Spawn → first 200 from the readiness URL (polled every 2 ms), no warmup tasks, per peer; the
 *     bare services' "readiness" is a route on their main port.
 *  b) Import time and memory of the podkit core (and of the peers' libraries for scale), each in a
 *     fresh `node --expose-gc` process; for the core also createLifecycle() + start() with the probe
 *     listener.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { hit } from '../lib/http.mjs';
import { label, startService } from '../lib/service.mjs';
import { fmtMs, median, table } from '../lib/util.mjs';

export const PEER_NAMES = ['none-express', 'podkit-express', 'terminus', 'lightship', 'none-fastify', 'podkit-fastify', 'close-with-grace', 'fastify-close'];
export const MODULES = ['@podkit/lifecycle', '@podkit/express', '@podkit/fastify', '@godaddy/terminus', 'lightship', 'http-terminator', 'close-with-grace', 'express', 'fastify'];
const IMPORT_COST = fileURLToPath(new URL('../lib/import-cost.mjs', import.meta.url));
const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));

async function timeToReady(name) {
  const svc = await startService(name);
  // The ready line arrives when the service says so; the probe confirms what a kubelet would see.
  let r;
  for (;;) {
    r = await hit(svc.ready.port, svc.ready.path, { timeoutMs: 1000 });
    if (r.ok) break;
  }
  const result = { spawnToReadyMs: svc.readyLine.readyAt - svc.spawnedAt, uptimeAtReadyMs: svc.readyLine.uptimeMs };
  await svc.kill();
  return result;
}

function importCost(moduleName, extra) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', IMPORT_COST, moduleName, ...(extra ? [extra] : [])], { cwd: BENCH_DIR, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`import-cost ${moduleName} exited ${code}`))));
  });
}

export async function run({ quick, log, peers = PEER_NAMES, modules = MODULES }) {
  const trials = quick ? 3 : 7;
  const ready = Object.fromEntries(peers.map((name) => [name, []]));
  // Round-robin, after one discarded round that warms the file cache for every peer: otherwise
  // whichever peer goes first pays for loading express or fastify from disk.
  for (let i = -1; i < trials; i += 1) {
    for (const name of peers) {
      const r = await timeToReady(name);
      if (i >= 0) ready[name].push(r);
    }
  }
  for (const name of peers) log(`  ready · ${name}: ${ready[name].map((r) => fmtMs(r.uptimeAtReadyMs)).join(' / ')}`);
  const imports = Object.fromEntries(modules.map((m) => [m, []]));
  // The core's start() once more with the probe listener on the main thread, to show what the worker thread costs.
  const coreOnMain = [];
  for (let i = -1; i < trials; i += 1) {
    for (const m of modules) {
      const r = await importCost(m, m === '@podkit/lifecycle' ? 'start' : undefined);
      if (i >= 0) imports[m].push(r);
      if (m === '@podkit/lifecycle') {
        const main = await importCost(m, 'start-main');
        if (i >= 0) coreOnMain.push(main);
      }
    }
  }
  for (const m of modules) log(`  import · ${m}: ${imports[m].map((r) => fmtMs(r.importMs)).join(' / ')}`);
  const med = (rows, key) => median(rows.map((r) => r[key]));
  const baseline = { express: med(ready['none-express'] ?? [], 'uptimeAtReadyMs'), fastify: med(ready['none-fastify'] ?? [], 'uptimeAtReadyMs') };
  const kib = (v) => (Number.isFinite(v) ? `${Math.round(v).toLocaleString('en-US')} KiB` : 'n/a');
  const core = imports['@podkit/lifecycle'];
  const markdown = [
    `**a) Time to ready, no warmup tasks** (${trials} spawns each, round-robin after a discarded round; "process uptime at ready" is performance.now() in the service when it announced ready, i.e. since its process started; readiness was then confirmed by a probe)`,
    '',
    table(
      ['peer', 'process uptime at ready (median)', 'vs. the bare service of its framework', 'spawn → ready seen by the bench (median)'],
      peers.map((name) => {
        const u = med(ready[name], 'uptimeAtReadyMs');
        const fw = name.includes('fastify') || name === 'close-with-grace' ? 'fastify' : 'express';
        const base = baseline[fw];
        const delta = name.startsWith('none') || !Number.isFinite(base) ? '—' : `${u - base >= 0 ? '+' : ''}${fmtMs(u - base)}`;
        return [label(name), `**${fmtMs(u)}**`, delta, fmtMs(med(ready[name], 'spawnToReadyMs'))];
      }),
    ),
    '',
    `**b) Import cost** (fresh \`node --expose-gc\` per sample, ${trials} samples round-robin after a discarded round, medians; heap after a full GC)`,
    '',
    table(
      ['module', 'import time', 'heap added', 'RSS added'],
      modules.map((m) => [`\`${m}\``, fmtMs(med(imports[m], 'importMs')), kib(med(imports[m], 'heapKiB')), kib(med(imports[m], 'rssKiB'))]),
    ),
    '',
    core
      ? `\`createLifecycle()\` + \`start()\` (probe listener only), on top of the import: probe listener in its worker thread (the default) ${fmtMs(med(core, 'startMs'), 2)}, main-thread heap ${kib(med(core, 'startHeapKiB'))}, RSS ${kib(med(core, 'startRssKiB'))}; with \`probes.thread: 'main'\` ${fmtMs(med(coreOnMain, 'startMs'), 2)}, heap ${kib(med(coreOnMain, 'startHeapKiB'))}, RSS ${kib(med(coreOnMain, 'startRssKiB'))}.`
      : '',
  ].join('\n');
  return { markdown, data: { ready, imports, coreOnMain } };
}
