/**
 * Express + lightship + http-terminator (as ../lightship.mjs) with `ws` and SSE on the server
 * http-terminator terminates; the h2c server is closed in the same shutdown handler.
 */
import { createHttpTerminator } from 'http-terminator';
import { createLightship } from 'lightship';
import { createApp } from '../_express.mjs';
import { addWebSockets, announce, createH2c, env, eventStream, listenH2c } from './_shared.mjs';

const lightship = await createLightship({
  detectKubernetes: false,
  port: env.probePort,
  shutdownDelay: env.drainDelayMs,
  gracefulShutdownTimeout: env.graceMs,
  shutdownHandlerTimeout: env.graceMs,
  signals: ['SIGTERM', 'SIGINT'],
});

const app = createApp();
app.get('/events', (req, res) => eventStream(res));
const h2c = createH2c();
await listenH2c(h2c);
const server = app.listen(env.port, env.host, () => {
  lightship.signalReady();
  announce(server.address().port, lightship.server.address().port);
});
addWebSockets(server);
const httpTerminator = createHttpTerminator({ server, gracefulTerminationTimeout: env.graceMs });
lightship.registerShutdownHandler(async () => {
  h2c.close();
  await httpTerminator.terminate();
});
