/**
 * What every Express peer serves, so the peers differ only in their shutdown handling:
 *   GET /            → "hello"               (throughput runs)
 *   GET /slow?ms=N   → "slow" after N ms     (requests in flight at SIGTERM)
 *   GET /block?ms=N  → "blocked" after holding the main loop N ms in one synchronous call
 *                      (a wedged loop, for the liveness scenario)
 * and the environment the bench passes to every peer.
 */
import express from 'express';
import { blockFor } from './_env.mjs';

export { env, announce } from './_env.mjs';

/** GET / → "hello", GET /slow?ms=N → "slow" after N ms. */
export function addRoutes(app) {
  app.get('/', (req, res) => {
    res.send('hello');
  });
  app.get('/slow', (req, res) => {
    setTimeout(() => res.send('slow'), Number(req.query.ms ?? 1000));
  });
  app.get('/block', (req, res) => {
    blockFor(Number(req.query.ms ?? 1000));
    res.send('blocked');
  });
  return app;
}

export function createApp() {
  const app = express();
  app.disable('x-powered-by');
  return addRoutes(app);
}
