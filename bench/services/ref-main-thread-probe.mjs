/**
 * Reference for the probe-latency section, not a peer: bare Express plus a bare `node:http` probe
 * listener (no podkit) on the main thread. It shows what any listener sharing the event loop with a
 * saturated app gets, whatever library answers it. No shutdown handling.
 */
import { createServer } from 'node:http';
import { announce, createApp, env } from './_express.mjs';

const probes = createServer((req, res) => res.end('ok'));
await new Promise((resolve) => probes.listen(env.probePort, env.host, resolve));
const app = createApp();
const server = app.listen(env.port, env.host, () => announce(server.address().port, probes.address().port));
