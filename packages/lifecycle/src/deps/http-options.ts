/**
 * The options of `@podkit/lifecycle/http`, its defaults, and their validation: every wrong value is
 * named at the call, before any request is sent.
 */
import { InvalidOptionError } from '../errors.js';
import { knownKeys } from '../validate.js';

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

/** Scheme, host and path only: credentials and the query string (tokens live there) stay out of messages. */
export function describeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

export function parseUrl(what: string, url: unknown): URL {
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

export function validMethod(name: string, value: unknown): string {
  if (value === undefined) return HTTP_DEFAULTS.method;
  if (typeof value !== 'string' || !TOKEN.test(value)) throw new InvalidOptionError(name, value, 'an HTTP method such as "GET" or "HEAD"');
  return value.toUpperCase();
}

export function validHeaders(name: string, value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidOptionError(name, value, 'an object of header names to string values');
  for (const [key, v] of Object.entries(value)) {
    if (!TOKEN.test(key) || typeof v !== 'string') throw new InvalidOptionError(`${name}.${key}`, v, 'a string value under a valid header name');
  }
  return { ...(value as Record<string, string>) };
}

export function validExpectStatus(name: string, value: unknown): ExpectStatus {
  if (value === undefined) return HTTP_DEFAULTS.expectStatus;
  const isStatus = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 100 && v <= 599;
  if (isStatus(value)) return value;
  if (Array.isArray(value) && value.length === 2 && isStatus(value[0]) && isStatus(value[1]) && value[0] <= value[1]) {
    return [value[0], value[1]] as const;
  }
  throw new InvalidOptionError(name, value, 'a status code (100–599) or an inclusive range [min, max] such as [200, 299]');
}

export interface Route {
  path: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

export function validRoute(name: string, value: unknown): Route {
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
