import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { delay, waitFor } from '../support/http.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An echo server that counts the connections reaching it. */
async function echoServer(): Promise<{ server: Server; port: number; connections: () => number }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => server.close(resolve));
  });
  return { server, port: (server.address() as { port: number }).port, connections: () => connections };
}

async function setup(): Promise<{ proxy: FaultProxy; echo: Awaited<ReturnType<typeof echoServer>> }> {
  const echo = await echoServer();
  const proxy = await startFaultProxy({ port: echo.port });
  cleanups.push(() => proxy.stop());
  return { proxy, echo };
}

interface Client {
  socket: Socket;
  received: () => string;
  closed: Promise<{ error?: string }>;
}

function client(port: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    let data = '';
    let error: string | undefined;
    const socket = connect(port, '127.0.0.1', () =>
      resolve({ socket, received: () => data, closed: new Promise((r) => socket.once('close', () => r({ error }))) }),
    );
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code));
    socket.once('error', reject);
    cleanups.push(() => socket.destroy());
  });
}

/** One connection attempt to a proxy in 'down' mode: resolves with the error the client ends with. */
function attempt(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let error: string | undefined;
    const socket = connect(port, '127.0.0.1');
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code));
    socket.on('close', () => resolve(error));
  });
}

describe('the fault proxy', () => {
  it('passes bytes both ways and counts connections', async () => {
    const { proxy, echo } = await setup();
    const c = await client(proxy.port);
    c.socket.write('hello');
    await waitFor(() => c.received() === 'hello');
    expect(proxy.accepted).toBe(1);
    expect(proxy.open).toBe(1);
    expect(echo.connections()).toBe(1);
  });

  it('down: resets new connections (each counted as an attempt) while established ones live on', async () => {
    const { proxy, echo } = await setup();
    const established = await client(proxy.port);
    proxy.down();
    // Reset right after the handshake: whether the client saw 'connect' first is a race.
    expect(await attempt(proxy.port)).toBe('ECONNRESET');
    expect(await attempt(proxy.port)).toBe('ECONNRESET');
    expect(proxy.accepted).toBe(3);
    expect(echo.connections()).toBe(1);
    established.socket.write('still here');
    await waitFor(() => established.received() === 'still here');
  });

  it('cut: resets established connections', async () => {
    const { proxy } = await setup();
    const c = await client(proxy.port);
    proxy.cut();
    expect((await c.closed).error).toBe('ECONNRESET');
    expect(proxy.open).toBe(0);
  });

  it('hang: holds bytes of established connections and keeps new ones from the server, then delivers everything on pass', async () => {
    const { proxy, echo } = await setup();
    const established = await client(proxy.port);
    proxy.hang();
    established.socket.write('held');
    const late = await client(proxy.port);
    late.socket.write('late');
    await delay(200);
    expect(established.received()).toBe('');
    expect(late.received()).toBe('');
    expect(echo.connections()).toBe(1);
    proxy.pass();
    await waitFor(() => established.received() === 'held' && late.received() === 'late');
    expect(echo.connections()).toBe(2);
  });

  it('latency: delays each direction, keeping order', async () => {
    const { proxy } = await setup();
    const c = await client(proxy.port);
    proxy.latency(100);
    const begun = performance.now();
    c.socket.write('a');
    c.socket.write('b');
    c.socket.write('c');
    await waitFor(() => c.received() === 'abc', { intervalMs: 5 });
    expect(performance.now() - begun).toBeGreaterThanOrEqual(190);
  });

  it('stop: closes the listener and every connection', async () => {
    const { proxy } = await setup();
    const c = await client(proxy.port);
    await proxy.stop();
    await c.closed;
    await expect(client(proxy.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
