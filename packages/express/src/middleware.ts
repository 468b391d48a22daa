/**
 * The Express middleware: lets the core see every server the app is served from, and counts
 * requests during the drain. The lifecycle already follows the server passed to
 * `lifecycle.start()` (or `serve()`), so with `lifecycle.start(() => app.listen(port))` this
 * middleware only confirms what the core does. It matters when the core cannot see the server from
 * the start: the app is mounted on a server the user listens with themselves, handed to
 * `lifecycle.serve(server)` late, or served through another server (HTTPS + HTTP, a test harness).
 *
 * Everything it does is `track(lifecycle, req, res)` (from `@podkit/lifecycle/adapter`), and the timing lives in the core. While the
 * service is ready that call counts nothing and allocates nothing: it compares the request's
 * server with the last one it saw and, the first time it meets a server, has the core follow that
 * server's connections (the in-flight count is read off them when asked). Once the drain begins
 * it counts the request until its response closes and marks the response `Connection: close`, so
 * keep-alive clients reconnect (through the load balancer) to a replica that is staying; on a
 * server the core follows, its own listener has done both before the app saw the request.
 */
import type { RequestHandler } from 'express';
import type { Lifecycle } from '@podkit/lifecycle';
import { track } from '@podkit/lifecycle/adapter';
import { assertLifecycle } from './validate.js';

/**
 * Creates the tracking middleware. Mount it first (`app.use(createMiddleware(lifecycle))`) so that
 * during the drain the `Connection: close` header is set before any route writes its response.
 *
 * Works on Express 4 and 5: it is a plain `(req, res, next)` function.
 */
export function createMiddleware(lifecycle: Lifecycle): RequestHandler {
  assertLifecycle('createMiddleware(lifecycle)', lifecycle);
  return function podkitTrack(req, res, next) {
    // While ready: one comparison. While draining: idempotent, a request the core counted is not counted twice.
    track(lifecycle, req, res);
    next();
  };
}
