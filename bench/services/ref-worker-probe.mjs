/**
 * Reference for the probe-latency section, not a peer: bare Express plus a bare `node:http` probe
 * listener in a worker thread, the direction DESIGN.md names for probes (their own event loop, state
 * read from shared memory). It answers 200 and reads no state: it measures only what moving the
 * listener off the main thread buys. No shutdown handling.
 */
import { Worker } from 'node:worker_threads';
import { announce, createApp, env } from './_express.mjs';

const worker = new Worker(
  `const { parentPort, workerData } = require('node:worker_threads');
   const probes = require('node:http').createServer((req, res) => res.end('ok'));
   probes.listen(workerData.port, workerData.host, () => parentPort.postMessage(probes.address().port));`,
  { eval: true, workerData: { port: env.probePort, host: env.host } },
);
const probePort = await new Promise((resolve) => worker.once('message', resolve));
worker.unref();
const app = createApp();
const server = app.listen(env.port, env.host, () => announce(server.address().port, probePort));
