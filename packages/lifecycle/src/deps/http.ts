/**
 * `@podkit/lifecycle/http`: a readiness check for an HTTP dependency, and a warmup that sends
 * real requests through the service's own routes, so the whole middleware stack (body parsers,
 * auth, template and schema compilation, lazily created clients) is warm before the first user
 * request, not just `/`.
 *
 * Plain `node:http`/`node:https` with the task's AbortSignal: the request is destroyed the moment
 * the signal aborts (timeout or shutdown), so a dependency that never answers cannot hold a check
 * or a warmup past its timeout.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { MainServer } from '../servers.js';
import { InvalidOptionError } from '../errors.js';
import { knownKeys, plainObject, positiveInteger } from '../validate.js';
import { describeUrl, HTTP_DEFAULTS, parseUrl, validExpectStatus, validHeaders, validMethod, validRoute, type HttpCheckOptions, type RouteWarmupOptions } from './http-options.js';
import { exchange, mainPortTarget, statusMatches, UnexpectedStatusError } from './http-request.js';

export { HTTP_DEFAULTS } from './http-options.js';
export type { ExpectStatus, HttpCheckOptions, RouteRequest, RouteWarmupOptions } from './http-options.js';
export { HttpRequestError, UnexpectedStatusError } from './http-request.js';

/**
 * A readiness check of an HTTP dependency: one request per run, passing when the status is in
 * `expectStatus`. The body is read and discarded. The check's timeout aborts the request.
 *
 * ```ts
 * lifecycle.check('payments', httpCheck('http://payments:8080/healthz'), { critical: false });
 * ```
 */
export function httpCheck(url: string | URL, options: HttpCheckOptions = {}): (signal: AbortSignal) => Promise<void> {
  const target = parseUrl('httpCheck(url)', url);
  const o = plainObject('httpCheck options', options);
  knownKeys('httpCheck', o, ['method', 'headers', 'expectStatus']);
  const method = validMethod('httpCheck.method', o.method);
  const headers = validHeaders('httpCheck.headers', o.headers);
  const expectStatus = validExpectStatus('httpCheck.expectStatus', o.expectStatus);
  const what = `${method} ${describeUrl(target)}`;
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;

  return async (signal) => {
    const status = await exchange(what, signal, (onResponse) => send(target, { method, headers, signal }, onResponse));
    if (!statusMatches(status, expectStatus)) throw new UnexpectedStatusError(what, status, expectStatus);
  };
}

/**
 * A warmup that requests the service's own routes on its main port, `times` rounds over `paths`,
 * failing on the first status outside `expectStatus`. The main server must already listen during
 * warmup: `openMainPort: 'before-warmup'` (the default) and a server passed to `start()`.
 * Readiness stays false meanwhile, so no user traffic is routed to the pod yet.
 *
 * ```ts
 * lifecycle.warmup('routes', routeWarmup(lifecycle, { paths: ['/', '/api/products?limit=1'], times: 5 }));
 * await lifecycle.start(() => app.listen(3000));
 * ```
 */
export function routeWarmup(lifecycle: { readonly server: MainServer | undefined }, options: RouteWarmupOptions): (signal: AbortSignal) => Promise<void> {
  if (typeof lifecycle !== 'object' || lifecycle === null || !('server' in lifecycle)) {
    throw new InvalidOptionError('routeWarmup(lifecycle)', lifecycle, 'the lifecycle returned by createLifecycle()');
  }
  const o = plainObject('routeWarmup options', options);
  knownKeys('routeWarmup', o, ['paths', 'times', 'expectStatus', 'headers']);
  if (!Array.isArray(o.paths) || o.paths.length === 0) {
    throw new InvalidOptionError('routeWarmup.paths', o.paths, 'a non-empty array of paths such as ["/", "/api/items"]');
  }
  const routes = o.paths.map((route: unknown, i: number) => validRoute(`routeWarmup.paths[${i}]`, route));
  const times = positiveInteger('routeWarmup.times', o.times, HTTP_DEFAULTS.times, 100_000);
  const expectStatus = validExpectStatus('routeWarmup.expectStatus', o.expectStatus);
  const headers = { 'user-agent': HTTP_DEFAULTS.userAgent, ...validHeaders('routeWarmup.headers', o.headers) };

  return async (signal) => {
    const target = mainPortTarget(lifecycle.server);
    for (let round = 0; round < times; round += 1) {
      for (const route of routes) {
        if (signal.aborted) throw signal.reason;
        const what = `warmup request ${route.method} ${route.path}`;
        const body = route.body;
        const status = await exchange(what, signal, (onResponse) => {
          const req = target.send(
            {
              ...target.options,
              path: route.path,
              method: route.method,
              headers: { ...headers, ...route.headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) },
              signal,
            },
            onResponse,
          );
          if (body !== undefined) req.write(body);
          return req;
        });
        if (!statusMatches(status, expectStatus)) throw new UnexpectedStatusError(what, status, expectStatus);
      }
    }
  };
}
