/**
 * The probe routes on the app's own port, for users who cannot open a second port (a platform
 * that probes the serving port, a sidecar that only forwards one). The separate probe port stays
 * the default and the better choice: there, a saturated app or a hostile client on the main port
 * cannot make the kubelet restart a healthy pod.
 *
 * The answers are the probe port's, byte for byte: `lifecycle.answerProbe` reads the cached state
 * and this handler only copies status, headers and body onto the response.
 */
import type { RequestHandler } from 'express';
import { InvalidOptionError, type Lifecycle } from '@podkit/lifecycle';
import { answerRoute, normalizeProbePrefix } from '@podkit/lifecycle/adapter';
import { assertLifecycle } from './validate.js';

export interface ProbeRouterOptions {
  /**
   * Path prefix of the routes: `'/health'` serves `/health/livez`, `/health/readyz`, … Mounting the
   * router under a path (`app.use('/health', router)`) does the same; use one or the other.
   * @default '' (the routes are `/livez`, `/readyz`, `/readyz/<check>`, `/startupz`, and `/metrics` when enabled)
   */
  prefix?: string;
}

/**
 * Creates a handler that answers GET and HEAD on the probe paths under `prefix` (other methods get
 * 405, as on the probe port) and calls `next()` for every other path. A plain `(req, res, next)`
 * function, so it mounts on Express 4 and 5 alike, and before or after the app's own routes.
 */
export function createProbeRouter(lifecycle: Lifecycle, options: ProbeRouterOptions = {}): RequestHandler {
  assertLifecycle('createProbeRouter(lifecycle)', lifecycle);
  const prefix = resolvePrefix(options);
  return function podkitProbes(req, res, next) {
    // req.url is relative to where the router is mounted, as Express strips the mount path.
    const answer = answerRoute(lifecycle, { method: req.method ?? 'GET', url: req.url ?? '/', accept: req.headers.accept }, prefix);
    if (!answer) {
      next();
      return;
    }
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  };
}

function resolvePrefix(options: unknown): string {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('createProbeRouter options', options, 'an object such as { prefix: "/health" }');
  return normalizeProbePrefix((options as ProbeRouterOptions).prefix, 'prefix');
}
