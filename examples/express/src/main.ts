/**
 * The orders service on Express 5, run by podkit. What every framework shares — configuration,
 * the orders store, the warmups, checks and shutdown hooks — is in @podkit/example-orders
 * (examples/orders); this file shows what Express adds: the app with podkit's middleware, and
 * `lifecycle.start(() => app.listen(port))`.
 *   start:    probe port → main port → warmups (Postgres pool, Redis, schema, own routes) → ready
 *   SIGTERM:  /readyz 503 → drain delay (Connection: close) → stop accepting, finish in-flight
 *             requests → close Redis, then Postgres → exit 0
 * `node dist/main.js` is PID 1 in the container: podkit's handlers are what make SIGTERM work.
 */
import { createOrdersService } from '@podkit/example-orders';
import { createApp } from './app.js';

const { config, lifecycle, orders, logger } = createOrdersService({ table: 'podkit_example_express_orders' });

const app = createApp(lifecycle, orders, logger);
// podkit opens the main port itself, after the probe port, and drains the server it returns.
await lifecycle.start(() => app.listen(config.port));
