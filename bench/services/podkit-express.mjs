/**
 * Express under podkit, as the README shows it: the tracking middleware first, probes on their
 * own port, `lifecycle.start` wrapping `app.listen`; drain delay and shutdown budget from the bench.
 */
import { createMiddleware } from '@podkit/express';
import express from 'express';
import { addRoutes, announce, env } from './_express.mjs';
import { createBenchLifecycle } from './_podkit.mjs';

const lifecycle = await createBenchLifecycle();

const app = express();
app.disable('x-powered-by');
app.use(createMiddleware(lifecycle));
addRoutes(app);
const server = await lifecycle.start(() => app.listen(env.port, env.host));
announce(server.address().port, lifecycle.probeAddress.port);
