#!/usr/bin/env node
// `pnpm demo`: runs the Express orders example (examples/express) against the local Postgres and
// Redis, prints the curl commands for its probes and routes once it is ready, and keeps running
// until Ctrl-C. Then podkit drains and the service exits 0; this script exits with its code.
//
// Env (all optional): PORT (3000), PROBE_PORT (9000), DATABASE_URL, REDIS_URL, DRAIN_DELAY_MS,
// SHUTDOWN_TIMEOUT_MS — passed through to the example.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'examples', 'express', 'dist', 'main.js');
const port = process.env.PORT || '3000';
const probePort = process.env.PROBE_PORT || '9000';
const databaseUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

if (!existsSync(entry)) {
  console.error(`demo: ${entry} is missing; build first (pnpm build), or run \`pnpm demo\`, which builds.`);
  process.exit(1);
}

// The service runs in its own process group: a Ctrl-C in the terminal reaches this script only,
// and it passes exactly one signal on. Were the service in the terminal's group as well, it would
// get the terminal's SIGINT and this script's, and podkit reads a second signal as "exit now" (130).
const service = spawn(process.execPath, [entry], {
  env: { ...process.env, PORT: port, PROBE_PORT: probePort, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl },
  stdio: ['ignore', 'inherit', 'inherit'],
  detached: true,
});
let exited = false;

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (exited) return;
    // A second Ctrl-C is passed on too: podkit then exits at once, with 128 + the signal's number.
    process.stderr.write(`\ndemo: ${signal} → the service (pid ${service.pid}); podkit drains and exits\n`);
    service.kill(signal);
  });
}
// Never leave the service behind, whatever ends this script.
process.on('exit', () => {
  if (!exited) service.kill('SIGTERM');
});

const EXIT_MEANINGS = { 0: 'clean shutdown', 70: 'crash', 75: 'warmup failed', 124: 'shutdown timed out', 130: 'forced by a second SIGINT', 143: 'forced by a second SIGTERM' };
service.on('exit', (code, signal) => {
  exited = true;
  const meaning = EXIT_MEANINGS[code] ?? (signal ? `killed by ${signal}` : 'unexpected');
  console.error(`demo: the service exited with code ${code ?? signal} (${meaning})`);
  if (code === 75) {
    console.error(`demo: the reason is in the "podkit exit 75" line above. Is Postgres at ${redact(databaseUrl)} running?`);
    console.error(`demo: are ports ${port} and ${probePort} free? (set PORT and PROBE_PORT to use others)`);
  }
  process.exit(code ?? 1);
});
service.on('error', (error) => {
  console.error(`demo: could not start the service: ${error.message}`);
  process.exit(1);
});

function redact(url) {
  return url.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');
}

function readyz() {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: Number(probePort), path: '/readyz', agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

const deadline = Date.now() + 60_000;
while (!exited && !(await readyz())) {
  if (Date.now() > deadline) {
    console.error('demo: the service was not ready within 60 s; stopping it');
    service.kill('SIGTERM');
    break;
  }
  await new Promise((r) => setTimeout(r, 200));
}

if (!exited && Date.now() <= deadline) {
  const main = `localhost:${port}`;
  const probes = `localhost:${probePort}`;
  console.log(`
────────────────────────────────────────────────────────────────────────────
 podkit demo: the Express orders service is ready (pid ${service.pid})
   main port ${port} · probe port ${probePort} · Postgres ${redact(databaseUrl)} · Redis ${redisUrl}

 Probes (their own port, answered from cached state):
   curl -i ${probes}/livez
   curl -i ${probes}/readyz
   curl -i '${probes}/readyz?verbose'
   curl -H 'accept: application/json' ${probes}/readyz
   curl -i ${probes}/readyz/postgres
   curl -i ${probes}/startupz

 The service:
   curl -i -X POST ${main}/orders -H 'content-type: application/json' -d '{"item":"book","quantity":2}'
   curl -i ${main}/orders/1           # twice: x-cache miss, then hit (Redis)
   curl '${main}/orders?limit=5'
   curl '${main}/work?ms=3000'         # slow; press Ctrl-C while it runs: it still completes

 Stop: Ctrl-C (or kill -TERM ${service.pid}): readiness 503, drain, hooks, exit 0.
────────────────────────────────────────────────────────────────────────────
`);
}
