/**
 * The probe routes and how a request names one: decided here once, for the probe port and for the
 * routes adapters mount on the app's own port (which only translate these decisions).
 *
 * - the paths: `/livez`, `/readyz`, `/readyz/<check>`, `/startupz`, and `/metrics` when enabled;
 *   a trailing slash is the same path; the absolute form of a request target names its path;
 * - the prefix rule: under a prefix (`/health`), only `/health/...` is a probe route, and the app's
 *   own `/livez` stays the app's;
 * - the methods: GET and HEAD; any other gets 405 with `Allow: GET, HEAD`.
 */
import { InvalidOptionError } from '../errors.js';

export type ProbeName = 'livez' | 'readyz' | 'startupz';

const PROBE_PATHS = ['/livez', '/readyz', '/startupz'] as const;
const ONE_CHECK_PATH = '/readyz/';
const METRICS_PATH = '/metrics';

/** The methods a probe route answers; the value of `Allow` on a 405. */
export const PROBE_METHODS = ['GET', 'HEAD'] as const;

/**
 * Every probe route, as a router pattern (`:check` names the per-check path's parameter), for
 * adapters that register routes: `/metrics` belongs to the probes only when the lifecycle serves
 * metrics (see `answerRoute`).
 */
export const PROBE_ROUTES = [...PROBE_PATHS, `${ONE_CHECK_PATH}:check`, METRICS_PATH] as const;

/**
 * The one prefix rule: '' or '/' mean none; otherwise a path starting with "/", without query,
 * fragment, route parameters or spaces; a trailing slash is dropped. `option` names the option in
 * the error.
 */
export function normalizeProbePrefix(prefix: unknown, option = 'prefix'): string {
  if (prefix === undefined || prefix === '' || prefix === '/') return '';
  if (typeof prefix !== 'string' || !prefix.startsWith('/') || /[?#:*\s]/.test(prefix)) {
    throw new InvalidOptionError(option, prefix, 'a path starting with "/" (such as "/health"), without query, parameters or spaces');
  }
  return withoutTrailingSlash(prefix);
}

function withoutTrailingSlash(path: string): string {
  return path.endsWith('/') ? path.slice(0, -1) : path;
}

/** True when `url` (path part) is one of the probe routes under `prefix`. */
export function isProbePath(url: string, prefix = '', metrics = false): boolean {
  return matchRoute(splitUrl(url, prefix).path, metrics) !== undefined;
}

export type Route = { kind: 'probe'; probe: ProbeName } | { kind: 'one-check'; check: string } | { kind: 'metrics' };

export function matchRoute(path: string, metrics: boolean): Route | undefined {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  if ((PROBE_PATHS as readonly string[]).includes(trimmed)) return { kind: 'probe', probe: trimmed.slice(1) as ProbeName };
  if (trimmed.startsWith(ONE_CHECK_PATH) && trimmed.length > ONE_CHECK_PATH.length) {
    try {
      return { kind: 'one-check', check: decodeURIComponent(trimmed.slice(ONE_CHECK_PATH.length)) };
    } catch {
      return undefined;
    }
  }
  if (metrics && trimmed === METRICS_PATH) return { kind: 'metrics' };
  return undefined;
}

export function splitUrl(rawUrl: string, prefix: string): { path: string; query: URLSearchParams } {
  // A server must accept the absolute form of a request target (GET http://host/readyz), which
  // proxies send, and Node passes it on as it came: only its path and query name the probe.
  // https://www.rfc-editor.org/rfc/rfc9112#section-3.2.2
  const origin = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(rawUrl);
  let url = origin ? rawUrl.slice(origin[0].length) || '/' : rawUrl;
  // A fragment is never part of a request target; Node lets one through.
  const hash = url.indexOf('#');
  if (hash !== -1) url = url.slice(0, hash);
  const q = url.indexOf('?');
  let path = q === -1 ? url : url.slice(0, q);
  const base = withoutTrailingSlash(prefix);
  if (base) {
    // Outside the prefix nothing is a probe route: with routes under /health, the app's own
    // /livez (or /healthlivez) stays the app's.
    path = path === base || path.startsWith(`${base}/`) ? path.slice(base.length) || '/' : '';
  }
  return { path, query: new URLSearchParams(q === -1 ? '' : url.slice(q + 1)) };
}

