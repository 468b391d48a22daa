/** What every Fastify peer serves; same routes and environment as _express.mjs. */
import Fastify from 'fastify';
import { blockFor } from './_env.mjs';

export { env, announce } from './_env.mjs';

export function createFastify(options = {}) {
  return Fastify({ logger: false, ...options });
}

/** GET / → "hello", GET /slow?ms=N → "slow" after N ms, GET /block?ms=N → holds the main loop N ms. */
export function addRoutes(app) {
  app.get('/', async () => 'hello');
  app.get('/slow', (req, reply) => {
    setTimeout(() => reply.send('slow'), Number(req.query.ms ?? 1000));
  });
  app.get('/block', async (req) => {
    blockFor(Number(req.query.ms ?? 1000));
    return 'blocked';
  });
  return app;
}

export function createApp(options = {}) {
  return addRoutes(createFastify(options));
}
