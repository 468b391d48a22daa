/**
 * Every probe answer podkit gives, in one module: the probe listener (in its worker thread or on
 * the main thread) and the Express/Fastify routes all call `answerProbe` and only copy its status,
 * headers and body onto their response. Answers come from a snapshot reader alone (the shared
 * memory the main thread writes): no I/O, no awaits, nothing asked of the main loop.
 *
 * The kubelet reads only the status code (200–399 is success) and at most 10 KiB of body, over a
 * fresh connection each time: https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/
 * Routes and methods are decided in paths.ts, bodies in bodies.ts and metrics.ts.
 */
import { isAlive, isReady, isStarted, type SnapshotReader } from '../state.js';
import { checkJson, checkLine, jsonBody, jsonText, MAX_BODY_BYTES, textBody } from './bodies.js';
import { renderMetrics } from './metrics.js';
import { matchRoute, PROBE_METHODS, splitUrl } from './paths.js';

export interface ProbeRequest {
  method: string;
  /** Path and query, as in `req.url`. */
  url: string;
  /** The Accept header. */
  accept?: string | undefined;
}

export interface ProbeAnswer {
  status: number;
  headers: Record<string, string>;
  /** Empty for HEAD. */
  body: string;
}

export interface ProbeAnswerOptions {
  /** Include check error messages (credentials stripped) instead of only their kind. */
  exposeErrors: boolean;
  /** Serve `/metrics`. */
  metrics: boolean;
  /** Path prefix the routes are mounted under ('' for the probe port). */
  prefix?: string;
}

const BASE_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

export function answerProbe(snapshot: SnapshotReader, request: ProbeRequest, options: ProbeAnswerOptions): ProbeAnswer {
  const { path, query } = splitUrl(request.url, options.prefix ?? '');
  const method = request.method.toUpperCase();
  const head = method === 'HEAD';

  const route = matchRoute(path, options.metrics);
  if (!route) return finish(404, 'text', 'not found\n', head);
  if (!(PROBE_METHODS as readonly string[]).includes(method)) {
    const answer = finish(405, 'text', 'method not allowed\n', false);
    answer.headers.allow = PROBE_METHODS.join(', ');
    return answer;
  }
  if (route.kind === 'metrics') return finish(200, 'metrics', renderMetrics(snapshot), head);

  const json = wantsJson(request.accept);
  const verbose = query.has('verbose') && query.get('verbose') !== 'false' && query.get('verbose') !== '0';
  const exclude = new Set(query.getAll('exclude').flatMap((v) => v.split(',')).filter(Boolean));

  if (route.kind === 'one-check') {
    const check = snapshot.checks.get(route.check);
    if (!check) return finish(404, 'text', `no check named ${JSON.stringify(route.check).slice(0, 200)}\n`, head);
    const pass = check.status === 'ok';
    // A slow pass is still a pass (200): the body says `warn`, as the check's own entry does.
    const body = json
      ? JSON.stringify({ status: pass ? (check.slow ? 'warn' : 'pass') : 'fail', checks: { [check.name]: checkJson(check, options.exposeErrors) } })
      : `${checkLine(check, options.exposeErrors, false)}\n${pass ? 'ok' : `${check.name} check failed`}\n`;
    return finish(pass ? 200 : 503, json ? json : 'text', body, head);
  }

  const probe = route.probe;
  const pass = probe === 'livez' ? isAlive(snapshot) : probe === 'startupz' ? isStarted(snapshot) : isReady(snapshot, exclude);
  if (json) return finish(pass ? 200 : 503, json, jsonText(jsonBody(snapshot, probe, pass, exclude, options.exposeErrors)), head);
  if (pass && !verbose) return finish(200, 'text', 'ok\n', head);
  return finish(pass ? 200 : 503, 'text', textBody(snapshot, probe, pass, exclude, options.exposeErrors), head);
}

function wantsJson(accept: string | undefined): 'json' | 'health+json' | false {
  if (!accept) return false;
  if (accept.includes('application/health+json')) return 'health+json';
  if (accept.includes('application/json')) return 'json';
  return false;
}

const CONTENT_TYPES = {
  text: 'text/plain; charset=utf-8',
  json: 'application/json; charset=utf-8',
  'health+json': 'application/health+json; charset=utf-8',
  metrics: 'text/plain; version=0.0.4; charset=utf-8',
} as const;

function finish(status: number, type: keyof typeof CONTENT_TYPES, body: string, head: boolean): ProbeAnswer {
  let text = body;
  // The kubelet reads 10 KiB of a probe body at most; Prometheus reads all of /metrics, and a cut
  // there would only break its parser.
  if (type !== 'metrics' && Buffer.byteLength(text) > MAX_BODY_BYTES) text = `${Buffer.from(text).subarray(0, MAX_BODY_BYTES - 16).toString()}\n…truncated\n`;
  return {
    status,
    headers: { ...BASE_HEADERS, 'content-type': CONTENT_TYPES[type], 'content-length': String(Buffer.byteLength(text)) },
    body: head ? '' : text,
  };
}
