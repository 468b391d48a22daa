/**
 * The drain's socket and response bookkeeping, in-process with real sockets: what it lets go of
 * when clients leave, and the grace of connections that arrive while the shutdown is still going.
 */
import { createServer, type ServerResponse } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { delay, waitFor } from '../support/http.js';
import { helloServer, portOf, stopAll, testLifecycle } from './helpers.js';

const opened: Socket[] = [];
const closers: Array<() => void> = [];
afterEach(async () => {
  for (const socket of opened.splice(0)) socket.destroy();
  await stopAll();
  for (const close of closers.splice(0)) close();
});

async function openSocket(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  opened.push(socket);
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

/** A full collection, to see whether anything still references an object. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

describe('pipelined requests whose client leaves', () => {
  it('are released with their socket: inFlight returns to 0 and no reference to the queued responses is kept', async () => {
    const t = testLifecycle({ probes: false });
    const responses: Array<WeakRef<ServerResponse>> = [];
    const server = createServer((_req, res) => {
      responses.push(new WeakRef(res));
      setTimeout(() => res.end('late'), 200);
    });
    closers.push(() => server.close());
    await t.lifecycle.start(() => server.listen(0, '127.0.0.1'));
    const client = await openSocket(portOf(server));
    client.write('GET / HTTP/1.1\r\nHost: podkit.test\r\n\r\n'.repeat(200));
    await waitFor(() => responses.length === 200);
    expect(t.lifecycle.inFlight).toBe(200);

    // One response is on the wire, 199 are queued behind it: none of them will ever be sent.
    client.destroy();
    await waitFor(() => t.lifecycle.inFlight === 0, { timeoutMs: 3000 });
    // The handlers end their orphaned responses; that counts nothing again.
    await delay(400);
    expect(t.lifecycle.inFlight).toBe(0);
    collectGarbage();
    await delay(10);
    collectGarbage();
    expect(responses.filter((ref) => ref.deref() !== undefined)).toHaveLength(0);
  });
});

describe('a fresh connection during shutdown', () => {
  it('is closed after its grace even when it arrives after an earlier grace was cut short', async () => {
    const t = testLifecycle({ probes: false });
    // The HTTP server never listens: a front listener hands it its connections, as a protocol
    // sniffer or a sticky-session balancer does with server.emit('connection', socket).
    const server = helloServer();
    const front = createNetServer((socket) => server.emit('connection', socket));
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    closers.push(() => front.close());
    const frontPort = (front.address() as AddressInfo).port;
    const release = t.lifecycle.hold('background work');
    t.lifecycle.serve(server);
    await t.lifecycle.start();

    // A connection that sends nothing: at stop() it gets the fresh-connection grace (a timer)…
    const first = await openSocket(frontPort);
    await delay(50);
    const stopped = t.lifecycle.stop();
    await delay(100);
    // …and leaves before it is over: the drain is done, its timer cleared. The hold keeps the shutdown going.
    first.destroy();
    await delay(100);

    try {
      const second = await openSocket(frontPort);
      const openedAt = performance.now();
      const closedAt = await Promise.race([
        new Promise<number>((resolve) => second.once('close', () => resolve(performance.now()))),
        delay(3000).then(() => undefined),
      ]);
      expect(closedAt, 'the second connection was never closed').toBeDefined();
      // After its own grace (500 ms), not at once.
      expect(closedAt! - openedAt).toBeGreaterThanOrEqual(400);
    } finally {
      release();
    }
    expect((await stopped).code).toBe(0);
  });
});
