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
import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { MainServer } from '../drain.js';
import { InvalidOptionError, PodkitError } from '../errors.js';
import { knownKeys, plainObject, positiveInteger } from '../validate.js';

/** An accepted status: one code (`204`) or an inclusive range (`[200, 299]`). */
export type ExpectStatus = number | readonly [min: number, max: number];

export interface HttpCheckOptions {
  /** Request method. @default 'GET' */
  method?: string;
  /** Request headers, e.g. `{ authorization: 'Bearer …' }`. @default {} */
  headers?: Record<string, string>;
  /**
   * The statuses that pass. Redirects are not followed: a 3xx is judged as it is, as the kubelet
   * does (it counts 200–399 as success).
   * @default [200, 399]
   */
  expectStatus?: ExpectStatus;
}

/** One warmup request: a path, or a path with a method, headers and a body (to warm POST routes and their body parsers). */
export type RouteRequest =
  | string
  | {
      /** Path and query, starting with `/`. */
      path: string;
      /** @default 'GET' */
      method?: string;
      /** Added to (and overriding) the warmup's `headers`. @default {} */
      headers?: Record<string, string>;
      /** Request body. @default undefined (none) */
      body?: string;
    };

export interface RouteWarmupOptions {
  /** The routes to request, in order, on the service's own main port. */
  paths: readonly RouteRequest[];
  /** Rounds over `paths` (each round requests every path once, one request at a time). @default 1 */
  times?: number;
  /** The statuses a warmup request must get, or the warmup fails. @default [200, 399] */
  expectStatus?: ExpectStatus;
  /** Headers sent with every request. `user-agent` defaults to `podkit-warmup`, so the app can tell these requests apart (logs, metrics). @default {} */
  headers?: Record<string, string>;
}

/** Every default of this module, in one place. */
export const HTTP_DEFAULTS = {
  method: 'GET',
  expectStatus: [200, 399] as const,
  times: 1,
  userAgent: 'podkit-warmup',
} as const;

/** The dependency answered with a status outside `expectStatus` (`ERR_PODKIT_UNEXPECTED_STATUS`); `kind` (`HTTP_503`) is what probes show as the error's kind. */
export class UnexpectedStatusError extends PodkitError {
  readonly kind: string;
  readonly status: number;

  constructor(what: string, status: number, expected: ExpectStatus) {
    super('ERR_PODKIT_UNEXPECTED_STATUS', `${what} answered ${status}; expected ${describeExpected(expected)}`);
    this.name = 'UnexpectedStatusError';
    this.kind = `HTTP_${status}`;
    this.status = status;
  }
}

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

// --- internals ------------------------------------------------------------------------------------

type Send = typeof httpRequest;
type Respond = (res: IncomingMessage) => void;

/** Sends a request and resolves with the status once the body is read (and discarded). */
function exchange(what: string, signal: AbortSignal, open: (onResponse: Respond) => ClientRequest): Promise<number> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<number>((resolve, reject) => {
    const fail = (error: unknown) => {
      // An abort is reported with the signal's reason (the TimeoutError that says which task and
      // how long), not Node's generic AbortError.
      if (signal.aborted) return reject(signal.reason);
      const code = (error as { code?: unknown }).code;
      const wrapped = new Error(`${what} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      // The cause's code (ECONNREFUSED, ECONNRESET…) is what probes show as the kind of failure.
      if (typeof code === 'string') Object.assign(wrapped, { code });
      reject(wrapped);
    };
    let req: ClientRequest;
    try {
      req = open((res) => {
        res.on('error', fail);
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.resume();
      });
    } catch (error) {
      fail(error);
      return;
    }
    req.on('error', fail);
    req.end();
  });
}

interface MainPortTarget {
  send: Send;
  options: RequestOptions;
}

/** Where the service's own server listens, reachable from inside the process. */
function mainPortTarget(server: MainServer | undefined): MainPortTarget {
  if (!server || !server.listening) {
    throw new PodkitError(
      'ERR_PODKIT_MAIN_PORT_CLOSED',
      'routeWarmup: the main server is not listening during warmup. Keep openMainPort "before-warmup" (the default) and pass the server to start(), e.g. lifecycle.start(() => app.listen(3000)).',
    );
  }
  const address = server.address() as AddressInfo | string | null;
  // Each warmup request on its own connection (agent: false): nothing is left open to slow the drain.
  const common: RequestOptions = { agent: false };
  const tls = 'setSecureContext' in server;
  // Our own certificate is issued for the service's public name, not for the loopback address
  // these requests use; there is nobody in between to verify against.
  const tlsOptions = tls ? ({ rejectUnauthorized: false } as RequestOptions) : {};
  const send: Send = tls ? (httpsRequest as unknown as Send) : httpRequest;
  if (typeof address === 'string') return { send, options: { ...common, ...tlsOptions, socketPath: address } };
  if (!address) throw new PodkitError('ERR_PODKIT_MAIN_PORT_CLOSED', 'routeWarmup: the main server has no address.');
  // A server bound to every interface is reached on loopback.
  const host = address.address === '::' ? '::1' : address.address === '0.0.0.0' ? '127.0.0.1' : address.address;
  return { send, options: { ...common, ...tlsOptions, host, port: address.port } };
}

function statusMatches(status: number, expected: ExpectStatus): boolean {
  return typeof expected === 'number' ? status === expected : status >= expected[0] && status <= expected[1];
}

function describeExpected(expected: ExpectStatus): string {
  return typeof expected === 'number' ? String(expected) : `${expected[0]}–${expected[1]}`;
}

/** Scheme, host and path only: credentials and the query string (tokens live there) stay out of messages. */
function describeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

function parseUrl(what: string, url: unknown): URL {
  let parsed: URL | undefined;
  try {
    parsed = url instanceof URL ? url : typeof url === 'string' ? new URL(url) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new InvalidOptionError(what, url, 'an absolute http:// or https:// URL');
  }
  return parsed;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function validMethod(name: string, value: unknown): string {
  if (value === undefined) return HTTP_DEFAULTS.method;
  if (typeof value !== 'string' || !TOKEN.test(value)) throw new InvalidOptionError(name, value, 'an HTTP method such as "GET" or "HEAD"');
  return value.toUpperCase();
}

function validHeaders(name: string, value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidOptionError(name, value, 'an object of header names to string values');
  for (const [key, v] of Object.entries(value)) {
    if (!TOKEN.test(key) || typeof v !== 'string') throw new InvalidOptionError(`${name}.${key}`, v, 'a string value under a valid header name');
  }
  return { ...(value as Record<string, string>) };
}

function validExpectStatus(name: string, value: unknown): ExpectStatus {
  if (value === undefined) return HTTP_DEFAULTS.expectStatus;
  const isStatus = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 100 && v <= 599;
  if (isStatus(value)) return value;
  if (Array.isArray(value) && value.length === 2 && isStatus(value[0]) && isStatus(value[1]) && value[0] <= value[1]) {
    return [value[0], value[1]] as const;
  }
  throw new InvalidOptionError(name, value, 'a status code (100–599) or an inclusive range [min, max] such as [200, 299]');
}

interface Route {
  path: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

function validRoute(name: string, value: unknown): Route {
  const validPath = (p: unknown): p is string => typeof p === 'string' && p.startsWith('/') && !/\s/.test(p);
  if (typeof value === 'string') {
    if (!validPath(value)) throw new InvalidOptionError(name, value, 'a path starting with "/" (no spaces)');
    return { path: value, method: 'GET', headers: {}, body: undefined };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidOptionError(name, value, 'a path or { path, method?, headers?, body? }');
  const o = value as Record<string, unknown>;
  knownKeys(name, o, ['path', 'method', 'headers', 'body']);
  if (!validPath(o.path)) throw new InvalidOptionError(`${name}.path`, o.path, 'a path starting with "/" (no spaces)');
  if (o.body !== undefined && typeof o.body !== 'string') throw new InvalidOptionError(`${name}.body`, o.body, 'a string');
  return { path: o.path, method: validMethod(`${name}.method`, o.method), headers: validHeaders(`${name}.headers`, o.headers), body: o.body as string | undefined };
}
