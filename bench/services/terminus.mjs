/**
 * Express + @godaddy/terminus, configured as its README's "How to set Terminus up with Kubernetes?"
 * says: `beforeShutdown` sleeps (the drain delay) so endpoints can catch up, `useExit0`, health
 * checks on the app's own port (terminus has no separate probe listener). `timeout` (its forced
 * close, default 1000 ms) is raised to the same shutdown budget every peer gets.
 */
import { createServer } from 'node:http';
import { createTerminus } from '@godaddy/terminus';
import { announce, createApp, env } from './_express.mjs';

let redis;
if (env.redisUrl) {
  const { Redis } = await import('ioredis');
  redis = new Redis(env.redisUrl);
}

const app = createApp();
const server = createServer(app);
createTerminus(server, {
  healthChecks: {
    // terminus runs the check inside the probe request: the probe waits for Redis.
    '/readyz': async () => (redis ? redis.ping() : undefined),
    '/livez': async () => undefined,
  },
  signals: ['SIGTERM', 'SIGINT'],
  timeout: env.graceMs,
  useExit0: true,
  beforeShutdown: () => new Promise((resolve) => setTimeout(resolve, env.drainDelayMs)),
  onSignal: async () => {
    await redis?.quit();
  },
});
server.listen(env.port, env.host, () => announce(server.address().port));
