/**
 * Express under podkit with its long-lived connections: `ws` and SSE on the main server, which
 * `lifecycle.start()` opens, and an h2c server given to `lifecycle.serve()`. podkit's long-lived
 * defaults (close frames and stream ends spread over 1 s, within a 3 s budget), nothing else.
 */
import { createMiddleware } from '@podkit/express';
import express from 'express';
import { addRoutes } from '../_express.mjs';
import { createBenchLifecycle } from '../_podkit.mjs';
import { addWebSockets, announce, createH2c, env, eventStream, listenH2c } from './_shared.mjs';

const lifecycle = await createBenchLifecycle();

const app = express();
app.disable('x-powered-by');
app.use(createMiddleware(lifecycle));
app.get('/events', (req, res) => eventStream(res));
addRoutes(app);
const h2c = createH2c();
lifecycle.serve(h2c);
await listenH2c(h2c);
const server = await lifecycle.start(() => app.listen(env.port, env.host));
addWebSockets(server);
announce(server.address().port, lifecycle.probeAddress.port);
