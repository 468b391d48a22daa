/**
 * The preStop endpoint, `GET /prestopz` on the probe port (off unless `probes.preStopToken` is set),
 * for a pod whose `preStop` hook is `httpGet`: the call starts the drain — readiness 503 and
 * `Connection: close` from that moment — and is answered when the drain delay is over, so the
 * kubelet sends SIGTERM only then; that SIGTERM carries on the same shutdown, with no second delay.
 *
 * The guard. The kubelet runs an `httpGet` hook with GET and whatever `httpHeaders` the manifest
 * gives, from the node; anybody else who can reach the probe port (every pod in the cluster, unless
 * a NetworkPolicy says otherwise) could take the pod out of service with one request, and a drain
 * once begun is not undone. So the call must carry `Authorization: Bearer <probes.preStopToken>`,
 * compared in constant time: without it, 401 and nothing starts. Only GET starts it (405 for any
 * other method, HEAD included: a method that only asks must not stop a service). A browser page
 * cannot send the header cross-origin without a CORS preflight the probe port never grants. The
 * token sits in the pod spec (`httpHeaders` take no Secret reference), so whoever can read pods
 * can read it: it keeps out the network, not the cluster's administrators.
 *
 * Where it runs: the route is decided here, in whichever thread the listener runs; starting the
 * drain is the main thread's (a message from the worker thread, a direct call on the main thread).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Logger } from '../logger.js';
import { onePerWindow } from '../windowed-log.js';
import type { ProbeAnswer, ProbeRequest } from './answers.js';
import { splitUrl } from './paths.js';

export const PRESTOP_PATH = '/prestopz';

/** A probe request with what the guard reads. */
export interface GuardedRequest extends ProbeRequest {
  authorization?: string | undefined;
}

/**
 * A route that may answer later. `undefined`: not this route's request (the probe answers take it).
 * A promise: the listener keeps the connection open, with no idle timeout, until it settles.
 */
export type LateRoute = (request: GuardedRequest) => ProbeAnswer | Promise<ProbeAnswer> | undefined;

/** What the main thread does with a preStop call. */
export interface PreStopHandlers {
  /** Starts the drain (or joins the one under way); resolves when its drain delay is over. */
  begin(): Promise<void>;
  /** A call the guard turned away (401 or 405): logged, so an attempt to drain the pod is seen. */
  refused(status: number, method: string): void;
}

/** Refusals are logged at most once per this many ms, with the count of those not logged: a flood must not flood the log. */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

/** The main thread's `refused`: one warning line, then at most one per REFUSAL_LOG_INTERVAL_MS saying how many more came. */
export function createPreStopRefusalLog(logger: Logger): PreStopHandlers['refused'] {
  const log = onePerWindow(REFUSAL_LOG_INTERVAL_MS, ({ status, method }: { status: number; method: string }, suppressed) => {
    logger.warn(
      { event: 'prestop', status, method, ...(suppressed > 0 ? { suppressedBefore: suppressed } : {}) },
      `${method} ${PRESTOP_PATH} refused with ${status}: ${status === 401 ? 'no valid bearer token' : 'only GET starts the drain'}; nothing started`,
    );
  });
  return (status, method) => log({ status, method });
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** The preStop route for `token`: `begin` for a call that passes the guard, `refused` for one that does not. */
export function createPreStopRoute(token: string, { begin, refused }: PreStopHandlers): LateRoute {
  // Digests of equal length, so that timingSafeEqual tells nothing, not even the token's length.
  const expected = digest(`Bearer ${token}`);
  return (request) => {
    const path = splitUrl(request.url, '').path;
    if (path !== PRESTOP_PATH && path !== `${PRESTOP_PATH}/`) return undefined;
    const method = request.method.toUpperCase();
    if (method !== 'GET') {
      refused(405, method);
      return answer(405, 'method not allowed\n', { allow: 'GET' });
    }
    const given = request.authorization?.trim().replace(/^bearer\s+/i, 'Bearer ') ?? '';
    if (!timingSafeEqual(digest(given), expected)) {
      refused(401, method);
      return answer(401, 'unauthorized\n', { 'www-authenticate': 'Bearer realm="podkit-prestop"' });
    }
    return begin().then(
      () => answer(200, 'drain delay over\n'),
      // begin() does not reject; should it, the kubelet still gets an answer (and sends SIGTERM).
      () => answer(500, 'drain could not start\n'),
    );
  };
}

function answer(status: number, body: string, extra: Record<string, string> = {}): ProbeAnswer {
  return {
    status,
    headers: {
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'content-type': 'text/plain; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      ...extra,
    },
    body,
  };
}
