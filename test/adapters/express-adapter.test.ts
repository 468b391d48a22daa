/**
 * The Express middleware and probe router in-process (real servers on port 0, no fork), on
 * Express 4 and 5.
 */
import type { AddressInfo } from 'node:net';
import { Agent, createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import express4 from 'express4';
import express5 from 'express5';
import { createLifecycle } from '@podkit/lifecycle';
import { createMiddleware, createProbeRouter } from '@podkit/express';
import { get } from '../support/http.js';

const quietLifecycle = () => createLifecycle({ probes: false, logger: false, exit: false, signals: false, handleCrashes: false });

describe.each([
  { name: 'express4', express: express4 },
  { name: 'express5', express: express5 },
])('$name: the middleware and the probe router', ({ express }) => {
  async function listen(app: ReturnType<typeof express>) {
    // A server the lifecycle was never given: only the middleware can count its requests.
    const server = createServer(app).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    return { port: (server.address() as AddressInfo).port, close: () => server.close() };
  }

  it('counts a request in flight on a server the lifecycle was not given', async () => {
    const lifecycle = quietLifecycle();
    const app = express();
    app.use(createMiddleware(lifecycle));
    app.get('/', (_req, res) => {
      res.send(`in flight: ${lifecycle.inFlight}`);
    });
    const { port, close } = await listen(app);
    try {
      expect((await get(port, '/')).body).toBe('in flight: 1');
      expect(lifecycle.inFlight).toBe(0);
    } finally {
      close();
    }
  });

  it('does nothing per request while the lifecycle is ready: no property on the request, no listener on the response, no request listener on the server', async () => {
    /** What a request and its response carry by the time the route runs. */
    const traces: Array<Record<string, unknown>> = [];
    const route = (req: { socket: unknown }, res: NodeJS.EventEmitter) => {
      traces.push({
        request: Reflect.ownKeys(req).map(String).sort(),
        response: Reflect.ownKeys(res).map(String).sort(),
        listeners: Object.fromEntries(res.eventNames().map((name) => [String(name), res.listenerCount(name)])),
      });
    };
    const bare = express();
    bare.get('/', (req, res) => {
      route(req, res);
      res.send('hello');
    });
    const lifecycle = quietLifecycle();
    const app = express();
    app.use(createMiddleware(lifecycle));
    app.get('/', (req, res) => {
      route(req, res);
      res.send('hello');
    });
    const bareServer = await listen(bare);
    const server = createServer(app);
    await lifecycle.start(() => server.listen(0, '127.0.0.1'));
    const agent = new Agent({ keepAlive: true });
    try {
      expect(lifecycle.state).toBe('ready');
      for (const port of [bareServer.port, (server.address() as AddressInfo).port]) {
        for (let i = 0; i < 3; i += 1) expect((await get(port, '/', { agent })).body).toBe('hello');
      }
      expect(traces).toHaveLength(6);
      for (const trace of traces.slice(3)) expect(trace).toEqual(traces[0]);
      expect(server.listenerCount('request')).toBe(1);
    } finally {
      agent.destroy();
      bareServer.close();
      await lifecycle.stop();
    }
  });

  it('answers with Connection: close once the lifecycle is draining', async () => {
    const lifecycle = createLifecycle({ probes: false, logger: false, exit: false, signals: false, handleCrashes: false, drainDelayMs: 300, shutdownTimeoutMs: 5000 });
    const app = express();
    app.use(createMiddleware(lifecycle));
    app.get('/', (_req, res) => {
      res.send('hello');
    });
    const { port, close } = await listen(app);
    const agent = new Agent({ keepAlive: true });
    try {
      await lifecycle.start();
      expect((await get(port, '/', { agent })).headers.connection).toBe('keep-alive');
      const stopping = lifecycle.stop();
      expect((await get(port, '/', { agent })).headers.connection).toBe('close');
      await stopping;
    } finally {
      agent.destroy();
      close();
    }
  });

  it('answers the probe routes under a mount path and passes other paths on', async () => {
    const lifecycle = quietLifecycle();
    const app = express();
    app.use('/health', createProbeRouter(lifecycle));
    app.get('/livez', (_req, res) => {
      res.send('mine');
    });
    const { port, close } = await listen(app);
    try {
      expect((await get(port, '/health/livez')).body).toBe('ok\n');
      expect((await get(port, '/health/readyz')).status).toBe(503);
      expect((await get(port, '/health/readyz?verbose')).body).toContain('[-]state starting');
      expect((await get(port, '/livez')).body).toBe('mine');
      expect((await get(port, '/health/metrics')).status).toBe(404);
    } finally {
      close();
    }
  });
});
