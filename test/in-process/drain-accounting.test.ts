/**
 * The drain's socket and response bookkeeping, in-process with real sockets: nothing of podkit's
 * on the request path while the service is ready, the requests already in flight when the drain
 * begins, what it lets go of when clients leave, and the grace of connections that arrive while
 * the shutdown is still going.
 */
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { delay, get, waitFor } from '../support/http.js';
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

/** Nothing (podkit included) still references these responses. */
async function expectCollected(responses: Array<WeakRef<ServerResponse>>): Promise<void> {
  collectGarbage();
  await delay(10);
  collectGarbage();
  expect(responses.filter((ref) => ref.deref() !== undefined)).toHaveLength(0);
}

/** `count` GET requests for `path`, back to back, as one write. */
function pipelined(count: number, path = '/'): string {
  return `GET ${path} HTTP/1.1\r\nHost: podkit.test\r\n\r\n`.repeat(count);
}

interface Answer {
  body: string;
  connection: string | undefined;
  /** Resolves when the connection it came over is closed. */
  closed: Promise<void>;
}

/** One GET through a keep-alive agent, with what it says about its connection. */
function fetchOnce(port: number, path: string, agent: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      const socket = res.socket;
      const closed = new Promise<void>((done) => (socket.destroyed ? done() : socket.once('close', () => done())));
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ body, connection: res.headers.connection, closed }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The in-flight gauge on the probe port's /metrics. */
async function inFlightGauge(probePort: number): Promise<number> {
  const { body } = await get(probePort, '/metrics');
  const match = /^podkit_inflight_requests (\d+)$/m.exec(body);
  if (!match) throw new Error(`no podkit_inflight_requests in:\n${body}`);
  return Number(match[1]);
}

describe('while the service is ready', () => {
  it('keeps an idle keep-alive connection a little longer than the Keep-Alive timeout it advertises, so a client never reuses one the server is closing', async () => {
    const t = testLifecycle({ probes: false });
    const server = createServer((_req, res) => res.end('hello'));
    closers.push(() => server.close());
    await t.lifecycle.start(() => server.listen(0, '127.0.0.1'));
    const res = await get(portOf(server), '/', { headers: { connection: 'keep-alive' } });
    // The header still says whole seconds (what clients drop their idle sockets after)…
    expect(res.headers['keep-alive']).toBe('timeout=5');
    // …while the server keeps the socket past that: Node 24 and late 22 by keepAliveTimeoutBuffer,
    // older lines by podkit's 999 ms.
    const node = server as { keepAliveTimeout: number; keepAliveTimeoutBuffer?: number };
    expect(node.keepAliveTimeout + (node.keepAliveTimeoutBuffer ?? 0)).toBeGreaterThan(5500);
  });

  it("adds no 'request' listener to the main server: it has the app's own and nothing else", async () => {
    const t = testLifecycle({ probes: false, drainDelayMs: 300 });
    const app = (_req: IncomingMessage, res: ServerResponse) => res.end('hello');
    const server = createServer(app);
    closers.push(() => server.close());
    await t.lifecycle.start(() => server.listen(0, '127.0.0.1'));
    expect((await get(portOf(server), '/')).body).toBe('hello');
    expect(server.listeners('request')).toEqual([app]);

    // The drain puts its own first in line, so the header is set before the app writes.
    const stopped = t.lifecycle.stop();
    expect(server.listeners('request')).toHaveLength(2);
    expect(server.listeners('request')[1]).toBe(app);
    expect((await get(portOf(server), '/')).headers.connection).toBe('close');
    expect((await stopped).code).toBe(0);
  });

  it('counts slow requests in flight: lifecycle.inFlight at once, the /metrics gauge within its sampling second, both back to 0 after', async () => {
    const t = testLifecycle({ probes: { metrics: true } });
    let arrived = 0;
    const server = createServer((_req, res) => {
      arrived += 1;
      setTimeout(() => res.end('slow done'), 1500);
    });
    closers.push(() => server.close());
    await t.lifecycle.start(() => server.listen(0, '127.0.0.1'));
    const pending = Array.from({ length: 3 }, () => get(portOf(server), '/slow'));
    await waitFor(() => arrived === 3);
    expect(t.lifecycle.inFlight).toBe(3);
    await waitFor(async () => (await inFlightGauge(t.probePort())) === 3, { timeoutMs: 1300 });

    expect((await Promise.all(pending)).map((r) => r.body)).toEqual(Array(3).fill('slow done'));
    expect(t.lifecycle.inFlight).toBe(0);
    await waitFor(async () => (await inFlightGauge(t.probePort())) === 0, { timeoutMs: 1300 });
  });

  it('counts a connection with pipelined requests once, keeps no reference to its queued responses, and lets go when the client leaves', async () => {
    const t = testLifecycle({ probes: false });
    const responses: Array<WeakRef<ServerResponse>> = [];
    const server = createServer((_req, res) => {
      responses.push(new WeakRef(res));
      setTimeout(() => res.end('late'), 200);
    });
    closers.push(() => server.close());
    await t.lifecycle.start(() => server.listen(0, '127.0.0.1'));
    const client = await openSocket(portOf(server));
    client.write(pipelined(200));
    await waitFor(() => responses.length === 200);
    // One response is on the wire, 199 are queued behind it, out of podkit's sight.
    expect(t.lifecycle.inFlight).toBe(1);

    // None of them will ever be sent.
    client.destroy();
    await waitFor(() => t.lifecycle.inFlight === 0, { timeoutMs: 3000 });
    // The handlers end their orphaned responses; that counts nothing again.
    await delay(400);
    expect(t.lifecycle.inFlight).toBe(0);
    await expectCollected(responses);
  });
});

describe('when the drain begins', () => {
  it('counts every request already in flight and tells each whose headers have not left Connection: close, during the drain delay', async () => {
    const t = testLifecycle({ probes: false, drainDelayMs: 1500 });
    let arrived = 0;
    const server = createServer((req, res) => {
      arrived += 1;
      if (req.url === '/stream') {
        // Headers out before the drain, without Connection: close.
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('start\n');
        setTimeout(() => res.end('end\n'), 500);
        return;
      }
      setTimeout(() => res.end('slow done'), 400);
    });
    closers.push(() => server.close());
    await t.lifecycle.start(() => server.listen(0, '127.0.0.1'));
    const agent = new Agent({ keepAlive: true });
    try {
      const pending = ['/slow', '/slow', '/stream'].map((path) => fetchOnce(portOf(server), path, agent));
      await waitFor(() => arrived === 3);
      const stopped = t.lifecycle.stop();
      expect(t.lifecycle.inFlight).toBe(3);
      const [slow, slower, stream] = await Promise.all(pending);
      expect([slow!.body, slower!.body, stream!.body]).toEqual(['slow done', 'slow done', 'start\nend\n']);
      expect([slow!.connection, slower!.connection, stream!.connection]).toEqual(['close', 'close', 'keep-alive']);
      // The server closes those two connections right after their answers, inside the drain delay.
      await Promise.all([slow!.closed, slower!.closed]);
      expect(t.lifecycle.state).toBe('draining');
      expect(t.lifecycle.inFlight).toBe(0);
      // The streamed one was promised keep-alive: it is closed as idle once the listener closes.
      await stream!.closed;
      expect((await stopped).code).toBe(0);
    } finally {
      agent.destroy();
    }
  });

  it('holds the shutdown until the last request in flight is answered, and lets go right after it', async () => {
    const t = testLifecycle({ probes: false });
    let arrived = 0;
    let lastEndedAt = 0;
    const server = createServer((req, res) => {
      arrived += 1;
      res.on('finish', () => (lastEndedAt = performance.now()));
      setTimeout(() => res.end('slow done'), req.url === '/slower' ? 900 : 500);
    });
    closers.push(() => server.close());
    await t.lifecycle.start(() => server.listen(0, '127.0.0.1'));
    const agent = new Agent({ keepAlive: true });
    try {
      const pending = ['/slow', '/slower'].map((path) => get(portOf(server), path, { agent }));
      await waitFor(() => arrived === 2);
      const stopped = t.lifecycle.stop();
      expect(t.lifecycle.inFlight).toBe(2);
      expect((await Promise.all(pending)).map((r) => [r.body, r.headers.connection])).toEqual(Array(2).fill(['slow done', 'close']));
      const result = await stopped;
      const resolvedAt = performance.now();
      expect(result.code).toBe(0);
      expect(resolvedAt).toBeGreaterThanOrEqual(lastEndedAt);
      expect(resolvedAt - lastEndedAt).toBeLessThan(500);
    } finally {
      agent.destroy();
    }
  });

  it('lets go of a request in flight at the drain whose client then leaves, without waiting for its handler', async () => {
    const t = testLifecycle({ probes: false, drainDelayMs: 1000 });
    let arrived = false;
    const server = createServer((_req, res) => {
      arrived = true;
      setTimeout(() => res.end('too late'), 4000);
    });
    closers.push(() => server.close());
    await t.lifecycle.start(() => server.listen(0, '127.0.0.1'));
    const client = await openSocket(portOf(server));
    client.write(pipelined(1));
    await waitFor(() => arrived);
    const begun = performance.now();
    const stopped = t.lifecycle.stop();
    expect(t.lifecycle.inFlight).toBe(1);
    client.destroy();
    await waitFor(() => t.lifecycle.inFlight === 0, { timeoutMs: 500 });
    expect((await stopped).code).toBe(0);
    // The drain delay, not the handler's 4 s.
    expect(performance.now() - begun).toBeLessThan(2500);
  });

  it('gives a request half-way in when the drain begins the time to arrive, and answers it with Connection: close', async () => {
    const t = testLifecycle({ probes: false });
    const server = helloServer();
    await t.lifecycle.start(() => server.listen(0, '127.0.0.1'));
    const client = await openSocket(portOf(server));
    let received = '';
    client.setEncoding('latin1');
    client.on('data', (chunk: string) => (received += chunk));
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    // A kept-alive connection that has been answered once, then the first half of its next request.
    client.write(pipelined(1));
    await waitFor(() => received.endsWith('hello'));
    client.write('GET /second HTTP/1.1\r\nHost: podkit.test\r\n');
    await delay(100);
    const stopped = t.lifecycle.stop();
    await delay(100);
    client.write('\r\n');
    await closed;
    const answers = received.split(/(?=HTTP\/1\.1 )/);
    expect(answers).toHaveLength(2);
    expect(answers[1]).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(answers[1]!.toLowerCase()).toContain('\r\nconnection: close\r\n');
    expect((await stopped).code).toBe(0);
  });

  it('counts each pipelined request that arrives during the drain, and releases them all with their socket when the client leaves', async () => {
    const t = testLifecycle({ probes: false, drainDelayMs: 1500 });
    const responses: Array<WeakRef<ServerResponse>> = [];
    const server = createServer((_req, res) => {
      responses.push(new WeakRef(res));
      setTimeout(() => res.end('late'), 300);
    });
    closers.push(() => server.close());
    await t.lifecycle.start(() => server.listen(0, '127.0.0.1'));
    const stopped = t.lifecycle.stop();
    const client = await openSocket(portOf(server));
    client.write(pipelined(50));
    await waitFor(() => responses.length === 50);
    expect(t.lifecycle.inFlight).toBe(50);
    client.destroy();
    await waitFor(() => t.lifecycle.inFlight === 0, { timeoutMs: 1000 });
    await delay(400);
    expect(t.lifecycle.inFlight).toBe(0);
    await expectCollected(responses);
    expect((await stopped).code).toBe(0);
  });

  it('tells a pipelined request queued since before the drain Connection: close when its turn on the wire comes', async () => {
    const t = testLifecycle({ probes: false, drainDelayMs: 1500 });
    let arrived = 0;
    const server = createServer((req, res) => {
      arrived += 1;
      if (req.url === '/stream') {
        // On the wire, headers out (keep-alive) before the drain.
        res.writeHead(200);
        res.write('start\n');
        setTimeout(() => res.end('end\n'), 300);
        return;
      }
      // Queued behind it; written once it is on the wire.
      setTimeout(() => res.end('queued done'), 600);
    });
    closers.push(() => server.close());
    await t.lifecycle.start(() => server.listen(0, '127.0.0.1'));
    const client = await openSocket(portOf(server));
    let received = '';
    client.setEncoding('latin1');
    client.on('data', (chunk: string) => (received += chunk));
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.write(pipelined(1, '/stream') + pipelined(1, '/queued'));
    await waitFor(() => arrived === 2 && received.includes('start'));
    const stopped = t.lifecycle.stop();
    expect(t.lifecycle.inFlight).toBe(1);
    // Its turn came: counted now.
    await waitFor(() => t.lifecycle.inFlight === 1 && received.includes('end'), { timeoutMs: 1000 });
    await closed;
    const answers = received.split(/(?=HTTP\/1\.1 )/);
    expect(answers).toHaveLength(2);
    expect(answers[0]!.toLowerCase()).toContain('\r\nconnection: keep-alive\r\n');
    expect(answers[1]!.toLowerCase()).toContain('\r\nconnection: close\r\n');
    expect(answers[1]!.endsWith('queued done')).toBe(true);
    // The client had its answers and the server closed the connection, well inside the drain delay.
    expect(t.lifecycle.state).toBe('draining');
    expect(t.lifecycle.inFlight).toBe(0);
    expect((await stopped).code).toBe(0);
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
