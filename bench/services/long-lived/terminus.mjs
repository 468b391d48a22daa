/**
 * Express + @godaddy/terminus (as ../terminus.mjs) with `ws` and SSE on the server terminus wraps;
 * the h2c server is closed in `onSignal`, as a user adds a second server there.
 */
import { createServer } from 'node:http';
import { createTerminus } from '@godaddy/terminus';
import { createApp } from '../_express.mjs';
import { addWebSockets, announce, createH2c, env, eventStream, listenH2c } from './_shared.mjs';

const app = createApp();
app.get('/events', (req, res) => eventStream(res));
const server = createServer(app);
const h2c = createH2c();
createTerminus(server, {
  healthChecks: { '/readyz': async () => undefined, '/livez': async () => undefined },
  signals: ['SIGTERM', 'SIGINT'],
  timeout: env.graceMs,
  useExit0: true,
  beforeShutdown: () => new Promise((resolve) => setTimeout(resolve, env.drainDelayMs)),
  onSignal: async () => {
    h2c.close();
  },
});
addWebSockets(server);
await listenH2c(h2c);
server.listen(env.port, env.host, () => announce(server.address().port));
