/**
 * In-flight tracking for Express. The lifecycle already follows every request of the server passed
 * to `lifecycle.start()` (or `serve()`), so with `lifecycle.start(() => app.listen(port))` this
 * middleware only confirms what the core does. It matters when the core cannot see the server from
 * the first request on: the app is mounted on a server the user listens with themselves, handed to
 * `lifecycle.serve(server)` late, or served through another server (HTTPS + HTTP, a test harness).
 *
 * Everything it does is `lifecycle.track(req, res)`: counting the request until its response
 * closes, and marking the response `Connection: close` while draining so keep-alive clients
 * reconnect (through the load balancer) to a replica that is staying. The timing lives in the core.
 */
import type { RequestHandler } from 'express';
import type { Lifecycle } from '@podkit/lifecycle';
import { assertLifecycle } from './validate.js';

/**
 * Creates the tracking middleware. Mount it first (`app.use(createMiddleware(lifecycle))`) so the
 * `Connection: close` header is set before any route writes its response.
 *
 * Works on Express 4 and 5: it is a plain `(req, res, next)` function.
 */
export function createMiddleware(lifecycle: Lifecycle): RequestHandler {
  assertLifecycle('createMiddleware(lifecycle)', lifecycle);
  return function podkitTrack(req, res, next) {
    // Idempotent: a request the core already tracks (the server passed to start()) is not counted twice.
    lifecycle.track(req, res);
    next();
  };
}
