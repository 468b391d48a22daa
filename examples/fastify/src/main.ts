/**
 * The orders service on Fastify 5, run by podkit. What every framework shares — configuration,
 * the orders store, the warmups, checks and shutdown hooks — is in @podkit/example-orders
 * (examples/orders); this file shows what Fastify adds: one pino logger for both, podkit's plugin,
 * and `lifecycle.start(app)`.
 *   start:    probe port → main port → warmups (Postgres pool, Redis, schema, own routes) → ready
 *   SIGTERM:  /readyz 503 → drain delay (Connection: close) → stop accepting, finish in-flight
 *             requests → fastify.close() (onClose hooks) → close Redis, then Postgres → exit 0
 * `node dist/main.js` is PID 1 in the container: podkit's handlers are what make SIGTERM work.
 */
import Fastify from 'fastify';
import { podkitFastify } from '@podkit/fastify';
import { createOrdersService } from '@podkit/example-orders';
import { registerRoutes } from './app.js';

// Fastify's logger is pino, and podkit takes any pino-shaped logger: one JSON stream for both.
const app = Fastify({ logger: { level: 'info' } });
const { config, lifecycle, orders } = createOrdersService({ table: 'podkit_example_fastify_orders', logger: app.log });

// The plugin registers its own shutdown hook (fastify.close()) after the service's, so it runs
// first: hooks run in reverse order of registration. Then Redis, then Postgres.
await app.register(podkitFastify, { lifecycle, listen: { port: config.port, host: '0.0.0.0' } });
registerRoutes(app, orders);
await lifecycle.start(app);
