/**
 * `fastify.close()` and the lifecycle's shutdown, tied both ways without deadlock and without
 * closing anything twice.
 *
 * What Fastify does on close() (fastify.js of v4 and v5 alike): its own onClose handler, added at
 * preReady and therefore run before every other onClose hook, marks the router closing (from then
 * on new requests get Fastify's 503 when `return503OnClosing` is true, or are served with
 * `Connection: close` when false), runs the preClose hooks, closes idle connections
 * (`forceCloseConnections: 'idle'`, the default) or every connection (`true`), calls
 * `server.close()` and waits for the last socket; then the other onClose hooks run.
 *
 * 1. SIGTERM (or `lifecycle.stop()`): the core drains first (readiness 503, drain delay, listener
 *    closed, in-flight requests finished: Fastify's router is untouched all along, so nothing gets
 *    a 503 it would not get without Fastify). At the shutdown-hook stage the hook added here calls
 *    `fastify.close()`. Its preClose finds the lifecycle drained and returns at once; the
 *    connection closing has nothing left to close; `server.close()` on a server that no longer
 *    listens calls back with ERR_SERVER_NOT_RUNNING once its last socket is gone, which Fastify
 *    accepts as done; then the app's onClose hooks run, and the core goes on to exit 0.
 *
 * 2. `fastify.close()` in code: the preClose hook added here starts `lifecycle.stop()` and holds
 *    Fastify there, before it touches any connection, until the core reaches the shutdown-hook
 *    stage. Holding there is what keeps `forceCloseConnections: true` from cutting the requests the
 *    core is still draining. When the core runs the hook, the hook first releases preClose and only
 *    then calls `fastify.close()` itself: that second call is queued by avvio behind the first one
 *    and resolves after every onClose hook, so the core exits after them. The order matters:
 *    calling close() before releasing would queue behind the held preClose, a deadlock.
 *
 * Before `lifecycle.start()` the lifecycle is not running (no probes, no signal handlers), so
 * close() then only closes Fastify: building an app in a test, inject()ing and closing it must not
 * end the test runner's process.
 *
 * Bounds: Fastify gives each preClose hook `pluginTimeout` (default 10 s); past it Fastify goes on
 * closing by its own rules. The core's `hooks.timeoutMs` bounds the onClose hooks. If the
 * lifecycle leaves without running hooks (shutdown timeout with `exit: false`), the 'exit' event
 * releases preClose so close() still settles.
 */
import type { FastifyInstance } from 'fastify';
import type { Lifecycle } from '@podkit/lifecycle';

/** The hook's name in the lifecycle's logs and events; a second app on the same lifecycle gets `fastify-2`. */
const SHUTDOWN_HOOK_NAME = 'fastify';
const appsPerLifecycle = new WeakMap<Lifecycle, number>();

export function tieCloseToLifecycle(fastify: FastifyInstance, lifecycle: Lifecycle): void {
  const count = (appsPerLifecycle.get(lifecycle) ?? 0) + 1;
  appsPerLifecycle.set(lifecycle, count);

  // True once the core has drained the traffic (its hook stage) or left: close() may proceed.
  let drained = false;
  let releasePreClose: (() => void) | undefined;

  const release = () => {
    drained = true;
    const waiting = releasePreClose;
    releasePreClose = undefined;
    waiting?.();
  };

  fastify.addHook('preClose', function podkitPreClose(done) {
    // A lifecycle that was never started has nothing to drain and no process to end: close() only
    // closes Fastify, so a test that builds the app, inject()s and closes it does not exit.
    if (drained || lifecycle.state === 'starting') {
      done();
      return;
    }
    // close() came from the app, not from the lifecycle: hand the shutdown to the lifecycle, which
    // comes back through the hook below. stop() during a shutdown already under way joins it.
    releasePreClose = () => done();
    void lifecycle.stop('fastify.close() called');
  });

  lifecycle.onShutdown(count === 1 ? SHUTDOWN_HOOK_NAME : `${SHUTDOWN_HOOK_NAME}-${count}`, async () => {
    release();
    await fastify.close();
  });

  lifecycle.on('exit', release);
}
