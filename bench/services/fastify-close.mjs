/**
 * Fastify's own close handling: `fastify.close()` on SIGTERM. Fastify 5 answers 503 to requests that
 * arrive while closing (`return503OnClosing`) and closes idle keep-alive sockets
 * (`forceCloseConnections: 'idle'`); it has no drain delay and no readiness of its own.
 */
import { announce, createApp, env } from './_fastify.mjs';

const app = createApp();
app.get('/readyz', async () => 'ok');
await app.listen({ port: env.port, host: env.host });
for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => void app.close());
announce(app.server.address().port);
