/**
 * The HTTP API. Request bodies, params and query strings are validated by Fastify's JSON schemas.
 * podkit's plugin is registered before the routes, so every response carries `Connection: close`
 * while the replica drains.
 */
import type { FastifyInstance } from 'fastify';
import type { OrdersStore } from '@podkit/example-orders';

/** Longest /work request allowed, in ms: well inside the drain budget. */
const MAX_WORK_MS = 10_000;

export function registerRoutes(app: FastifyInstance, orders: OrdersStore): void {
  app.post<{ Body: { item: string; quantity: number } }>(
    '/orders',
    {
      schema: {
        body: {
          type: 'object',
          required: ['item'],
          additionalProperties: false,
          properties: {
            item: { type: 'string', minLength: 1, maxLength: 200 },
            quantity: { type: 'integer', minimum: 1, default: 1 },
          },
        },
      },
    },
    async (request, reply) => {
      const order = await orders.create({ item: request.body.item.trim(), quantity: request.body.quantity });
      return reply.code(201).header('location', `/orders/${order.id}`).send(order);
    },
  );

  app.get<{ Params: { id: number } }>(
    '/orders/:id',
    { schema: { params: { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } } } },
    async (request, reply) => {
      const { order, cached } = await orders.get(request.params.id);
      reply.header('x-cache', cached ? 'hit' : 'miss');
      if (!order) return reply.code(404).send({ error: 'order not found' });
      return order;
    },
  );

  app.get<{ Querystring: { limit: number } }>(
    '/orders',
    { schema: { querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 } } } } },
    async (request) => orders.list(request.query.limit),
  );

  // Stands in for a slow downstream call: load tests use it to have requests in flight at SIGTERM.
  app.get<{ Querystring: { ms: number } }>(
    '/work',
    { schema: { querystring: { type: 'object', properties: { ms: { type: 'integer', minimum: 0, maximum: MAX_WORK_MS, default: 100 } } } } },
    async (request) => {
      await new Promise((resolve) => setTimeout(resolve, request.query.ms));
      return { workedMs: request.query.ms };
    },
  );
}
