/**
 * What every Express peer serves, so the peers differ only in their shutdown handling:
 *   GET /            → "hello"               (throughput runs)
 *   GET /slow?ms=N   → "slow" after N ms     (requests in flight at SIGTERM)
 * and the environment the bench passes to every peer.
 */
import express from 'express';

export { env, announce } from './_env.mjs';

/** GET / → "hello", GET /slow?ms=N → "slow" after N ms. */
export function addRoutes(app) {
  app.get('/', (req, res) => {
    res.send('hello');
  });
  app.get('/slow', (req, res) => {
    setTimeout(() => res.send('slow'), Number(req.query.ms ?? 1000));
  });
  return app;
}

export function createApp() {
  const app = express();
  app.disable('x-powered-by');
  return addRoutes(app);
}
