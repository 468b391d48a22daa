/**
 * Fastify under podkit, as the README shows it: the plugin registered before the routes, probes on
 * their own port, `lifecycle.start(app)` listening; drain delay and shutdown budget from the bench.
 */
import { podkitFastify } from '@podkit/fastify';
import { addRoutes, announce, createFastify, env } from './_fastify.mjs';
import { createBenchLifecycle } from './_podkit.mjs';

const lifecycle = await createBenchLifecycle();

const app = createFastify();
await app.register(podkitFastify, { lifecycle, listen: { port: env.port, host: env.host } });
addRoutes(app);
await lifecycle.start(app);
announce(app.server.address().port, lifecycle.probeAddress.port);
