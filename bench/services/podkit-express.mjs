/**
 * Express under podkit, as the README shows it: the tracking middleware first, probes on their
 * own port, `lifecycle.start` wrapping `app.listen`; drain delay and shutdown budget from the bench.
 */
import { createMiddleware } from '@podkit/express';
import { createLifecycle } from '@podkit/lifecycle';
import express from 'express';
import { addRoutes, announce, env } from './_express.mjs';
import { redisFromEnv } from './_podkit-redis.mjs';

const lifecycle = createLifecycle({
  probes: { port: env.probePort, host: '127.0.0.1' },
  drainDelayMs: env.drainDelayMs,
  shutdownTimeoutMs: env.graceMs,
  terminationMessagePath: false,
});
await redisFromEnv(lifecycle, env.redisUrl);

const app = express();
app.disable('x-powered-by');
app.use(createMiddleware(lifecycle));
addRoutes(app);
const server = await lifecycle.start(() => app.listen(env.port, '127.0.0.1'));
announce(server.address().port, lifecycle.probeAddress.port);
