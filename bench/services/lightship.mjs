/**
 * Express + lightship 9 (probes on their own port) + http-terminator, as their READMEs pair them:
 * `shutdownDelay` is the drain delay, the shutdown handler is `httpTerminator.terminate()`.
 * `detectKubernetes: false` so it behaves as it does in a pod (fixed probe port, no local-mode
 * override of shutdownDelay). Timeouts are raised to the same shutdown budget every peer gets.
 */
import { createHttpTerminator } from 'http-terminator';
import { createLightship } from 'lightship';
import { announce, createApp, env } from './_express.mjs';

const lightship = await createLightship({
  detectKubernetes: false,
  port: env.probePort,
  shutdownDelay: env.drainDelayMs,
  gracefulShutdownTimeout: env.graceMs,
  shutdownHandlerTimeout: env.graceMs,
  signals: ['SIGTERM', 'SIGINT'],
});

const app = createApp();
const server = app.listen(env.port, env.host, () => {
  lightship.signalReady();
  announce(server.address().port, lightship.server.address().port);
});
const httpTerminator = createHttpTerminator({ server, gracefulTerminationTimeout: env.graceMs });
lightship.registerShutdownHandler(() => httpTerminator.terminate());
