/**
 * @podkit/express: the Express adapter of @podkit/lifecycle (Express 4 and 5).
 *
 *   app.use(createMiddleware(lifecycle));     // in-flight tracking, Connection: close while draining
 *   app.use(createProbeRouter(lifecycle));    // optional: /livez, /readyz, /startupz on the app's port
 *   await lifecycle.start(() => app.listen(3000));
 *
 * Every timing and state decision is the core's; this package only translates.
 */
export { createMiddleware } from './middleware.js';
export { createProbeRouter } from './probe-router.js';
export type { ProbeRouterOptions } from './probe-router.js';
