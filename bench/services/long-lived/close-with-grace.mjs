/**
 * Fastify + close-with-grace (as ../close-with-grace.mjs) with `ws` and SSE on the app's server,
 * and a second Fastify app with `http2: true` (h2c), closed in the same callback.
 */
import closeWithGrace from 'close-with-grace';
import { setTimeout as sleep } from 'node:timers/promises';
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
closeWithGrace({ delay: env.graceMs, logger: false }, async () => {
  if (env.drainDelayMs > 0) await sleep(env.drainDelayMs);
  await Promise.all([app.close(), h2app.close()]);
});
await h2app.listen({ port: h2cPort, host: env.host });
h2cListening(h2app.server);
await app.listen({ port: env.port, host: env.host });
addWebSockets(app.server);
announce(app.server.address().port);
