/** What every Fastify peer serves; same routes and environment as _express.mjs. */
import Fastify from 'fastify';

export { env, announce } from './_env.mjs';

export function createFastify(options = {}) {
  return Fastify({ logger: false, ...options });
}

/** GET / → "hello", GET /slow?ms=N → "slow" after N ms. */
export function addRoutes(app) {
  app.get('/', async () => 'hello');
  app.get('/slow', (req, reply) => {
    setTimeout(() => reply.send('slow'), Number(req.query.ms ?? 1000));
  });
  return app;
}

export function createApp(options = {}) {
  return addRoutes(createFastify(options));
}
