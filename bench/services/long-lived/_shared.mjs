/**
 * What every peer of the long-lived section serves besides the usual routes, so the peers differ
 * only in their shutdown handling:
 *   GET /events   → a Server-Sent Events stream, one event every 100 ms, never ended by the app
 *   WebSocket /   → `ws` on the main server: "replica <id>" on open, then echoes
 *   h2c (HTTP/2 cleartext) on PORT + H2C_PORT_OFFSET (default 2000): GET / → "ok"
 * Every answer names its replica (`x-replica: HOST:PORT`, or the WebSocket's first message), so
 * the clients (test/e2e/long-lived-clients.ts) know where they reconnected.
 */
import { createServer } from 'node:http2';
import { WebSocketServer } from 'ws';
import { env } from '../_env.mjs';

export { env } from '../_env.mjs';

export const replicaId = `${env.host}:${env.port}`;
/** The h2c port: a second containerPort of the pod (the Service's `h2c` port leads there). */
export const h2cPort = env.port === 0 ? 0 : env.port + Number(process.env.H2C_PORT_OFFSET ?? 2000);

/** Answers an SSE stream on a node:http (or HTTP/2 compatibility) response until the client or the server ends it. */
export function eventStream(res) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-replica': replicaId });
  let n = 0;
  const timer = setInterval(() => res.write(`data: ${n++}\n\n`), 100);
  res.on('close', () => clearInterval(timer));
}

/** `ws` on the app's server, as its README shows (`new WebSocketServer({ server })`). */
export function addWebSockets(server) {
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => {
    ws.send(`replica ${replicaId}`);
    ws.on('message', (data) => ws.send(String(data)));
  });
  return wss;
}

/** The h2c server (node:http2, compatibility API). */
export function createH2c() {
  return createServer((req, res) => {
    res.setHeader('x-replica', replicaId);
    res.end('ok');
  });
}

let boundH2cPort;

/** Listens on the h2c port (node:http2 server). */
export function listenH2c(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(h2cPort, env.host, () => resolve((boundH2cPort = server.address().port)));
  });
}

/** Notes the h2c port a Fastify app with `http2: true` listens on. */
export function h2cListening(server) {
  boundH2cPort = server.address().port;
}

/** The bench's ready line (../_env.mjs), with the h2c port. */
export function announce(mainPort, probePort) {
  process.stdout.write(`${JSON.stringify({ bench: 'ready', mainPort, probePort, h2cPort: boundH2cPort, uptimeMs: performance.now() })}\n`);
}
