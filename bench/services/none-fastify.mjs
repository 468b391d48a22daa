/** Bare Fastify with no shutdown handling at all: SIGTERM's default action kills it mid-request. */
import { announce, createApp, env } from './_fastify.mjs';

const app = createApp();
app.get('/readyz', async () => 'ok');
await app.listen({ port: env.port, host: env.host });
announce(app.server.address().port);
