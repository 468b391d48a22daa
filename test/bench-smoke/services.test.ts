/**
 * The bench's peer services (bench/services/*.mjs) must keep starting and leaving, or `pnpm bench`
 * breaks long after the change that broke it. One short run per peer: start, answer, SIGTERM, exit.
 * Readiness locations mirror PEERS in bench/lib/service.mjs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { get } from '../support/http.js';
import { cleanup, spawnFixture, type Fixture } from '../support/process.js';

interface Peer {
  name: string;
  /** Where readiness is answered: the separate probe listener or the app's own port. */
  ready: ['probe' | 'main', string];
  /** How the peer leaves on SIGTERM without a drain delay. */
  exit: { code: number } | { signal: 'SIGTERM' };
}

const PEERS: Peer[] = [
  { name: 'podkit-express', ready: ['probe', '/readyz'], exit: { code: 0 } },
  { name: 'podkit-fastify', ready: ['probe', '/readyz'], exit: { code: 0 } },
  { name: 'terminus', ready: ['main', '/readyz'], exit: { code: 0 } },
  { name: 'lightship', ready: ['probe', '/ready'], exit: { code: 0 } },
  { name: 'close-with-grace', ready: ['main', '/readyz'], exit: { code: 0 } },
  { name: 'fastify-close', ready: ['main', '/readyz'], exit: { code: 0 } },
  { name: 'none-express', ready: ['main', '/readyz'], exit: { signal: 'SIGTERM' } },
  { name: 'none-fastify', ready: ['main', '/readyz'], exit: { signal: 'SIGTERM' } },
  { name: 'ref-main-thread-probe', ready: ['probe', '/readyz'], exit: { signal: 'SIGTERM' } },
  { name: 'ref-worker-probe', ready: ['probe', '/readyz'], exit: { signal: 'SIGTERM' } },
];

const fixtures: Fixture[] = [];
afterEach(() => cleanup(fixtures));

describe('bench peer services', () => {
  for (const peer of PEERS) {
    it(`${peer.name} starts, answers readiness and its routes, and leaves on SIGTERM`, async () => {
      const f = spawnFixture(new URL(`../../bench/services/${peer.name}.mjs`, import.meta.url), {
        PORT: '0',
        PROBE_PORT: '0',
        DRAIN_DELAY_MS: '0',
        GRACE_MS: '5000',
        KUBERNETES_SERVICE_HOST: '',
        HOST: '127.0.0.1',
      });
      fixtures.push(f);
      const ready = await f.waitForLine((l) => l.bench === 'ready');
      const mainPort = ready.mainPort as number;
      const readyPort = peer.ready[0] === 'probe' ? (ready.probePort as number) : mainPort;
      expect((await get(readyPort, peer.ready[1])).status).toBe(200);
      expect((await get(mainPort, '/')).body).toBe('hello');
      expect((await get(mainPort, '/slow?ms=10')).body).toBe('slow');
      expect((await get(mainPort, '/block?ms=10')).body).toBe('blocked');
      f.kill('SIGTERM');
      const exit = await f.exited;
      if ('code' in peer.exit) expect({ code: exit.code, signal: exit.signal }).toEqual({ code: peer.exit.code, signal: null });
      else expect(exit.signal).toBe(peer.exit.signal);
    });
  }
});
