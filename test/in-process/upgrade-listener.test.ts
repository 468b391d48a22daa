/**
 * podkit's 'upgrade' listener (it marks WebSocket upgrades so the drain can close them with a close
 * frame) must never change how Node routes an upgrade request: with any 'upgrade' listener Node
 * hands such requests to 'upgrade' instead of 'request', so podkit's is there only alongside
 * someone else's.
 */
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { helloServer, portOf, stopAll, testLifecycle } from './helpers.js';

afterEach(async () => {
  await stopAll();
});

/** Sends a GET asking for `Upgrade: websocket` and returns the first bytes of the answer (or '' when none comes). */
function askForUpgrade(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => resolve(''));
    socket.write('GET / HTTP/1.1\r\nHost: podkit.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    let data = '';
    const timer = setTimeout(() => (socket.destroy(), resolve(data)), 1000);
    socket.on('data', (chunk) => {
      data += String(chunk);
      clearTimeout(timer);
      socket.destroy();
      resolve(data);
    });
  });
}

async function started(): Promise<Server> {
  const server = helloServer();
  const { lifecycle } = testLifecycle({ probes: false });
  await lifecycle.start(() => server.listen(0, '127.0.0.1'));
  return server;
}

describe("podkit's 'upgrade' listener", () => {
  it('is absent from a server without one of its own: an upgrade request still reaches the request handler', async () => {
    const server = await started();
    expect(server.listenerCount('upgrade')).toBe(0);
    expect(await askForUpgrade(portOf(server))).toMatch(/^HTTP\/1\.1 200[\s\S]*hello$/);
  });

  it('comes first with the app\'s, and leaves with the last of them', async () => {
    const server = await started();
    const appListener = (_req: unknown, socket: import('node:net').Socket) => socket.end('HTTP/1.1 101 Switching Protocols\r\n\r\n');
    server.on('upgrade', appListener);
    expect(server.listenerCount('upgrade')).toBe(2);
    expect(server.listeners('upgrade')[1]).toBe(appListener);
    expect(await askForUpgrade(portOf(server))).toMatch(/^HTTP\/1\.1 101/);
    server.off('upgrade', appListener);
    expect(server.listenerCount('upgrade')).toBe(0);
    expect(await askForUpgrade(portOf(server))).toMatch(/^HTTP\/1\.1 200[\s\S]*hello$/);
  });
});
