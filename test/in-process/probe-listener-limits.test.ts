/**
 * The probe listener under slow, silent, oversized and numerous clients: the kubelet's probe must
 * still get its answer in time, and the listener must live on.
 */
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { PodkitError } from '@podkit/lifecycle';
import { afterEach, describe, expect, it } from 'vitest';
import { delay, get, waitFor } from '../support/http.js';
import { inThread, PROBE_THREADS, stopAll } from './helpers.js';

const attackers: Socket[] = [];
afterEach(async () => {
  for (const socket of attackers.splice(0)) socket.destroy();
  await stopAll();
});

/** A raw TCP client that reads everything it is sent, so the server's close reaches it. */
function rawClient(port: number): { socket: Socket; received: () => string; closed: Promise<number> } {
  const begun = performance.now();
  const socket = connect(port, '127.0.0.1');
  attackers.push(socket);
  let data = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => (data += chunk));
  socket.on('error', () => {});
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now() - begun)));
  return { socket, received: () => data, closed };
}

/** A slowloris connection: starts a request, then sends one header byte every `everyMs`; it never finishes. */
function slowloris(port: number, everyMs: number, onDropped: () => void): void {
  const { socket, closed } = rawClient(port);
  socket.once('connect', () => socket.write('GET /livez HTTP/1.1\r\nHost: probe\r\nX-Slow: '));
  const timer = setInterval(() => socket.writable && socket.write('a'), everyMs);
  void closed.then(() => {
    clearInterval(timer);
    onDropped();
  });
}

describe.each(PROBE_THREADS)('the probe listener in the %s thread', (thread) => {
  const testLifecycle = inThread(thread);

  describe('the probe listener under a slowloris attack', () => {
    it('answers /livez 200 within 1 s every time while 200 slow connections keep reconnecting', async () => {
      const t = testLifecycle();
      await t.lifecycle.start();
      const port = t.probePort();

      let attacking = true;
      let dropped = 0;
      const open = () => {
        slowloris(port, 100, () => {
          dropped += 1;
          // The attacker comes back, to keep 200 connections pending. Not within 10 ms: in the worker
          // thread the listener accepts and evicts as fast as this thread can reconnect, so every
          // connection older than a few ms (the probe's too, before this busy thread has written
          // its request) would be the oldest one waiting; 100 ms still keeps the cap saturated.
          if (attacking) setTimeout(open, 100);
        });
      };
      for (let i = 0; i < 200; i += 1) open();
      await delay(200); // let the attack connect

      const timings: Array<{ status: number | string; ms: number }> = [];
      // At least 2.5 s of attack and at least 5 probes: on a starved machine the test's own loop
      // (which also runs the attacker) may send fewer probes in 2.5 s, and each must still be answered in time.
      const until = performance.now() + 2500;
      while (performance.now() < until || timings.length < 5) {
        const begun = performance.now();
        const status = await get(port, '/livez', { timeoutMs: 2000 }).then(
          (res) => res.status,
          (error: NodeJS.ErrnoException) => error.code ?? 'error',
        );
        timings.push({ status, ms: performance.now() - begun });
        await delay(50);
      }
      attacking = false;

      expect(timings.length).toBeGreaterThanOrEqual(5);
      expect(timings.filter((r) => r.status !== 200)).toEqual([]);
      expect(Math.max(...timings.map((r) => r.ms))).toBeLessThan(1000);
      // The attack did reach the cap: the listener dropped attacker connections to make room.
      expect(dropped).toBeGreaterThan(100);
    });
  });

  describe('a probe port that is taken', () => {
    it('fails start() with ERR_PODKIT_LISTEN_FAILED, naming the port and Node\'s own listen error', async () => {
      const taken = createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      const port = (taken.address() as AddressInfo).port;
      try {
        const t = testLifecycle({ probes: { port } });
        const error = (await t.lifecycle.start().catch((e: unknown) => e)) as PodkitError;
        expect(error).toBeInstanceOf(PodkitError);
        expect(error.code).toBe('ERR_PODKIT_LISTEN_FAILED');
        expect(error.message).toBe(`the probe listener could not listen on port ${port} (probes.port): listen EADDRINUSE: address already in use 127.0.0.1:${port}`);
        expect((error.cause as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
        expect(t.lifecycle.state).toBe('failed');
      } finally {
        taken.close();
      }
    });
  });

  describe('a client that is still sending when the listener closes its connection', () => {
    /** Writes `first`, then keeps writing `more` every 5 ms for `forMs`; resolves with what it read and its error, if any. */
    function keepSending(port: number, first: string, more: string, forMs: number): Promise<{ received: string; error?: string }> {
      return new Promise((resolve) => {
        const socket = connect(port, '127.0.0.1');
        attackers.push(socket);
        let received = '';
        let error: string | undefined;
        socket.setEncoding('latin1');
        socket.on('data', (chunk: string) => (received += chunk));
        socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
        socket.once('close', () => {
          clearInterval(timer);
          resolve({ received, ...(error === undefined ? {} : { error }) });
        });
        const begun = performance.now();
        const timer = setInterval(() => {
          if (performance.now() - begun > forMs) {
            clearInterval(timer);
            socket.end();
          } else if (socket.writable) socket.write(more);
        }, 5);
        socket.write(first);
      });
    }

    it('gets its 431 for an oversized header block instead of a reset (lingering close)', async () => {
      const t = testLifecycle();
      await t.lifecycle.start();
      const { received, error } = await keepSending(t.probePort(), `GET /livez HTTP/1.1\r\nHost: probe\r\nX-Big: ${'a'.repeat(16 * 1024)}`, 'a'.repeat(4096), 300);
      expect(received, `error: ${error}`).toMatch(/^HTTP\/1\.1 431 /);
    });

    it('gets the answer to its first request when it pipelines more after it (lingering close)', async () => {
      const t = testLifecycle();
      await t.lifecycle.start();
      const { received, error } = await keepSending(t.probePort(), 'GET /livez HTTP/1.1\r\nHost: probe\r\n\r\n', `GET /readyz?${'x'.repeat(4096)}`, 300);
      expect(received, `error: ${error}`).toMatch(/^HTTP\/1\.1 200 [^]*\r\n\r\nok\n/);
    });
  });

  describe('probe listener limits', () => {
    it('answers a 64 KiB header with 431 and keeps serving', async () => {
      const t = testLifecycle();
      await t.lifecycle.start();
      const port = t.probePort();
      const client = rawClient(port);
      client.socket.write(`GET /livez HTTP/1.1\r\nHost: probe\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
      await client.closed;
      expect(client.received()).toMatch(/^HTTP\/1\.1 431 /);
      expect((await get(port, '/livez')).status).toBe(200);
    });

    it('drops a client that connects and sends nothing once the header timeout passes', async () => {
      const t = testLifecycle({ probes: { headersTimeoutMs: 300, requestTimeoutMs: 600 } });
      await t.lifecycle.start();
      const silent = rawClient(t.probePort());
      const closedAfterMs = await silent.closed;
      expect(closedAfterMs).toBeGreaterThanOrEqual(250);
      expect(closedAfterMs).toBeLessThan(3000);
      expect(silent.received()).toMatch(/^(HTTP\/1\.1 408 |$)/);
      expect((await get(t.probePort(), '/livez')).status).toBe(200);
    });

    it('drops a client that sends half a request and stalls, with the default timeouts', async () => {
      const t = testLifecycle();
      await t.lifecycle.start();
      const stalled = rawClient(t.probePort());
      stalled.socket.write('GET /readyz HTTP/1.1\r\nHo');
      const closedAfterMs = await stalled.closed;
      // headersTimeoutMs defaults to 2000 ms; Node looks for expired requests every second.
      expect(closedAfterMs).toBeGreaterThanOrEqual(1500);
      expect(closedAfterMs).toBeLessThan(5000);
    });

    it('evicts the oldest idle connections past maxConnections, so a new client is still served', async () => {
      const t = testLifecycle({ probes: { maxConnections: 8 } });
      await t.lifecycle.start();
      const port = t.probePort();
      const idle = [] as Array<ReturnType<typeof rawClient>>;
      for (let i = 0; i < 30; i += 1) {
        const client = rawClient(port);
        await new Promise((resolve) => client.socket.once('connect', resolve));
        idle.push(client);
      }
      const alive = () => idle.filter((c) => !c.socket.destroyed).length;
      // The listener keeps at most maxConnections: the oldest went first. (Waited for, not slept:
      // a loaded machine may take a while to deliver every close.)
      await waitFor(() => alive() <= 8 || undefined, { timeoutMs: 3000 }).catch(() => {});
      expect(alive()).toBeLessThanOrEqual(8);
      expect(idle[0]!.socket.destroyed).toBe(true);
      expect(idle[29]!.socket.destroyed).toBe(false);

      const res = await get(port, '/livez', { timeoutMs: 1000 });
      expect(res.status).toBe(200);
    });

    it('answers a probe with a request body without waiting for or buffering the body', async () => {
      const t = testLifecycle();
      await t.lifecycle.start();
      const client = rawClient(t.probePort());
      client.socket.write('POST /livez HTTP/1.1\r\nHost: probe\r\nContent-Length: 1000000\r\n\r\npartial');
      await client.closed;
      expect(client.received()).toMatch(/^HTTP\/1\.1 405 /);
    });
  });
});
