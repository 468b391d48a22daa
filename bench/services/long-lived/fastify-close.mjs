/**
 * `fastify.close()` on SIGTERM (as ../fastify-close.mjs) with `ws` and SSE on the app's server, and a
 * second Fastify app with `http2: true` (h2c), closed on the same signal.
 */
import { createApp, createFastify } from '../_fastify.mjs';
import { addWebSockets, announce, env, eventStream, h2cListening, h2cPort, replicaId } from './_shared.mjs';

const app = createApp();
app.get('/readyz', async () => 'ok');
app.get('/events', (req, reply) => {
  reply.hijack();
  eventStream(reply.raw);
});
const h2app = createFastify({ http2: true });
h2app.get('/', async (req, reply) => reply.header('x-replica', replicaId).send('ok'));
await h2app.listen({ port: h2cPort, host: env.host });
h2cListening(h2app.server);
await app.listen({ port: env.port, host: env.host });
addWebSockets(app.server);
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    void app.close();
    void h2app.close();
  });
}
announce(app.server.address().port);
