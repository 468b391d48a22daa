/**
 * `@podkit/lifecycle/adapter`: the plumbing framework adapters need, apart from the user API.
 * Every decision (which paths are probe routes, the prefix rule, the methods, 405 + Allow, the
 * answers themselves) is made here in the core; an adapter only translates requests and replies.
 *
 *   track(lifecycle, req, res)          follow the request's server; count it while draining
 *   attach(lifecycle, app, { server })  tell start(app) which server to drain and how to listen
 *   answerRoute(lifecycle, request, prefix)  the answer, or undefined when the path is the app's
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Lifecycle } from './create-lifecycle.js';
import type { AttachedApp } from './parts.js';
import { plumbingOf } from './plumbing.js';
import { type ProbeAnswer, type ProbeRequest } from './probes/answers.js';
import { isProbePath } from './probes/paths.js';

export { answerProbe } from './probes/answers.js';
export type { ProbeAnswer, ProbeAnswerOptions, ProbeRequest } from './probes/answers.js';
export { isProbePath, normalizeProbePrefix, PROBE_METHODS, PROBE_ROUTES } from './probes/paths.js';
export type { AttachedApp } from './parts.js';
export type { Lifecycle } from './create-lifecycle.js';

/**
 * While ready: follows the request's server (once per server) and nothing else. While draining:
 * counts the request until its response closes and marks it `Connection: close`.
 */
export function track(lifecycle: Lifecycle, req: IncomingMessage, res: ServerResponse): void {
  plumbingOf(lifecycle, 'track(lifecycle)').track(req, res);
}

/** Tells the core which server to drain, and how to listen, for an app passed to `lifecycle.start(app)`. */
export function attach(lifecycle: Lifecycle, app: object, attached: AttachedApp): void {
  plumbingOf(lifecycle, 'attach(lifecycle)').attach(app, attached);
}

/** Throws InvalidOptionError unless `lifecycle` came from createLifecycle(). */
export function assertLifecycle(lifecycle: unknown, where: string): asserts lifecycle is Lifecycle {
  plumbingOf(lifecycle, where);
}

/**
 * The probe answer for a request on the app's own port under `prefix`, or undefined when the path
 * is not a probe route (then it is the app's: call the next handler). `/metrics` is a probe route
 * only when the lifecycle serves metrics.
 */
export function answerRoute(lifecycle: Lifecycle, request: ProbeRequest, prefix = ''): ProbeAnswer | undefined {
  if (!isProbePath(request.url, prefix, true)) return undefined;
  const answer = lifecycle.answerProbe(request, prefix);
  // A 404 under a probe path is the probes' own (no such check); on /metrics with metrics off it is the app's path.
  if (answer.status === 404 && !isProbePath(request.url, prefix, false)) return undefined;
  return answer;
}
