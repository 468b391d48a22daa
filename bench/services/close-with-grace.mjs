/**
 * Fastify + close-with-grace, as in its README's Fastify example, with its `delay` (the budget
 * before it exits 1) set to the shared shutdown budget. Its README has no Kubernetes advice, so the
 * drain delay is the sleep a user adds before `app.close()`; readiness cannot change meanwhile.
 */
import closeWithGrace from 'close-with-grace';
import { setTimeout as sleep } from 'node:timers/promises';
import { announce, createApp, env } from './_fastify.mjs';

const app = createApp();
app.get('/readyz', async () => 'ok');
closeWithGrace({ delay: env.graceMs, logger: false }, async () => {
  if (env.drainDelayMs > 0) await sleep(env.drainDelayMs);
  await app.close();
});
await app.listen({ port: env.port, host: env.host });
announce(app.server.address().port);
