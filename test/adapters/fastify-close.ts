/**
 * Fastify only: `fastify.close()` and the lifecycle's shutdown, tied both ways. Run against
 * Fastify 4 and 5, with `return503OnClosing` and `forceCloseConnections` in every combination.
 */
import { describe, expect, it } from 'vitest';
import { get, waitFor } from '../support/http.js';
import { openRaw } from './clients.js';
import { isExit, isNote, isState, position, useServices, type AdapterUnderTest } from './suite.js';

const CLOSE_OPTIONS = [
  { return503OnClosing: true, forceCloseConnections: 'idle' },
  { return503OnClosing: true, forceCloseConnections: true },
  { return503OnClosing: false, forceCloseConnections: 'idle' },
  { return503OnClosing: false, forceCloseConnections: true },
] as const;

export function describeFastifyClose(adapter: AdapterUnderTest): void {
  describe(`${adapter.name}: fastify.close() and the lifecycle`, () => {
    const start = useServices(adapter);

    it('runs the onClose hooks on SIGTERM only after the drain, then exits 0', async () => {
      const { f, mainPort } = await start({ DRAIN_DELAY_MS: '300' });
      const slow = get(mainPort, '/slow?ms=1000');
      await f.waitForLine(isNote('slow-started'));
      f.kill('SIGTERM');
      expect((await slow).status).toBe(200);
      expect((await f.exited).code).toBe(0);

      const order = [position(f, isState('draining')), position(f, isNote('slow-finished'))];
      order.push(position(f, isNote('onClose-started')), position(f, isNote('onClose-finished')));
      order.push(position(f, isState('stopped')), position(f, isExit));
      expect(order).toEqual([...order].sort((a, b) => a - b));
    });

    describe.each(CLOSE_OPTIONS)('with return503OnClosing: $return503OnClosing, forceCloseConnections: $forceCloseConnections', (options) => {
      it('fastify.close() in code starts the lifecycle shutdown, keeps the requests in flight, and exits 0 after the onClose hooks', async () => {
        const { f, mainPort, probePort } = await start({
          DRAIN_DELAY_MS: '800',
          RETURN_503_ON_CLOSING: String(options.return503OnClosing),
          FORCE_CLOSE_CONNECTIONS: String(options.forceCloseConnections),
        });
        // A kept-alive connection busy with a response that began before close().
        const connection = await openRaw(mainPort);
        connection.send('/stream?ms=1500');
        await waitFor(() => connection.received().includes('start'));
        const slow = get(mainPort, '/slow?ms=1000');
        await f.waitForLine(isNote('slow-started'));

        expect((await get(mainPort, '/close', { method: 'POST' })).status).toBe(202);
        await f.waitForLine(isState('draining'));
        expect((await get(probePort, '/readyz')).status).toBe(503);
        // The drain delay holds for close() too: the listener still accepts while endpoints catch up.
        const fresh = await get(mainPort, '/');
        expect([fresh.status, fresh.headers.connection]).toEqual([options.return503OnClosing ? 503 : 200, 'close']);
        // A request arriving on the kept-alive connection while Fastify is closing: answered in
        // full, with Fastify's 503 or served, and told to close; never cut.
        connection.send('/', { 'x-request-id': 'late' });

        const [stream, late] = await connection.responses(2);
        expect([stream?.status, stream?.body]).toEqual([200, 'start\nend\n']);
        expect(late?.status).toBe(options.return503OnClosing ? 503 : 200);
        expect(late?.headers.connection).toBe('close');
        expect(await connection.closed).toMatchObject({ clean: true });
        // forceCloseConnections: true did not cut the request in flight.
        expect(await slow).toMatchObject({ status: 200, body: 'slow done' });
        expect((await f.exited).code).toBe(0);

        const order = [position(f, isNote('close-called')), position(f, isState('draining'))];
        order.push(position(f, isNote('slow-finished')), position(f, isNote('onClose-finished')), position(f, isNote('close-resolved')));
        order.push(position(f, isState('stopped')), position(f, isExit));
        expect(order).toEqual([...order].sort((a, b) => a - b));
      });
    });
  });
}
