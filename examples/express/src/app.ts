/**
 * The HTTP API. podkit's middleware goes first, so every response — including one from a route
 * that fails — carries `Connection: close` while the replica drains.
 */
import express, { type ErrorRequestHandler, type Express } from 'express';
import { createMiddleware } from '@podkit/express';
import type { Lifecycle, Logger } from '@podkit/lifecycle';
import type { OrdersStore } from '@podkit/example-orders';

/** Longest /work request allowed, in ms: well inside the drain budget. */
const MAX_WORK_MS = 10_000;
const MAX_LIST_LIMIT = 100;

class BadRequest extends Error {}

function positiveInt(value: unknown, name: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 1) throw new BadRequest(`${name} must be a positive integer`);
  return n;
}

export function createApp(lifecycle: Lifecycle, orders: OrdersStore, logger: Logger): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(createMiddleware(lifecycle));
  app.use(express.json({ limit: '16kb' }));

  app.post('/orders', async (req, res) => {
    const body = (req.body ?? {}) as { item?: unknown; quantity?: unknown };
    if (typeof body.item !== 'string' || body.item.trim() === '' || body.item.length > 200) {
      throw new BadRequest('item must be a non-empty string of at most 200 characters');
    }
    const order = await orders.create({ item: body.item.trim(), quantity: positiveInt(body.quantity ?? 1, 'quantity') });
    res.status(201).location(`/orders/${order.id}`).json(order);
  });

  app.get('/orders/:id', async (req, res) => {
    const { order, cached } = await orders.get(positiveInt(req.params.id, 'id'));
    res.setHeader('x-cache', cached ? 'hit' : 'miss');
    if (!order) res.status(404).json({ error: 'order not found' });
    else res.json(order);
  });

  app.get('/orders', async (req, res) => {
    const limit = req.query.limit === undefined ? 20 : Math.min(positiveInt(req.query.limit, 'limit'), MAX_LIST_LIMIT);
    res.json(await orders.list(limit));
  });

  // Stands in for a slow downstream call: load tests use it to have requests in flight at SIGTERM.
  app.get('/work', async (req, res) => {
    const ms = req.query.ms === undefined ? 100 : Number(req.query.ms);
    if (!Number.isInteger(ms) || ms < 0 || ms > MAX_WORK_MS) throw new BadRequest(`ms must be an integer from 0 to ${MAX_WORK_MS}`);
    await new Promise((resolve) => setTimeout(resolve, ms));
    res.json({ workedMs: ms });
  });

  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });

  // Express 5 passes rejected promises of async handlers here.
  const onError: ErrorRequestHandler = (error, _req, res, _next) => {
    const status = error instanceof BadRequest ? 400 : typeof error?.status === 'number' ? error.status : 500;
    if (status >= 500) logger.error({ event: 'request', error }, 'request failed');
    res.status(status).json({ error: status >= 500 ? 'internal error' : (error as Error).message });
  };
  app.use(onError);
  return app;
}
