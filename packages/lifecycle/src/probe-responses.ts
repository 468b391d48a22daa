/**
 * Every probe answer podkit gives, in one module: the probe listener (in its worker thread or on
 * the main thread) and the Express/Fastify routes all call `answerProbe` and only copy its status,
 * headers and body onto their response. Answers come from a snapshot reader alone (the shared
 * memory the main thread writes): no I/O, no awaits, nothing asked of the main loop.
 *
 * The kubelet reads only the status code (200–399 is success) and at most 10 KiB of body, over a
 * fresh connection each time: https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/
 * The text format follows kube-apiserver's `/readyz?verbose` ("[+]name ok" / "[-]name failed").
 */
import { isAlive, isReady, isStarted, type CheckVerdictReader, type SnapshotReader } from './state.js';

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

/** Bodies stay far below the kubelet's 10 KiB read limit. */
const MAX_BODY_BYTES = 8 * 1024;
const PROBE_PATHS = ['/livez', '/readyz', '/startupz'] as const;
type ProbeName = 'livez' | 'readyz' | 'startupz';

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
  if (method !== 'GET' && !head) {
    const answer = finish(405, 'text', 'method not allowed\n', false);
    answer.headers.allow = 'GET, HEAD';
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
    const body = json
      ? JSON.stringify({ status: pass ? 'pass' : 'fail', checks: { [check.name]: checkJson(check, options.exposeErrors) } })
      : `${checkLine(check, options.exposeErrors, false)}\n${pass ? 'ok' : `${check.name} check failed`}\n`;
    return finish(pass ? 200 : 503, json ? json : 'text', body, head);
  }

  const probe = route.probe;
  const pass = probe === 'livez' ? isAlive(snapshot) : probe === 'startupz' ? isStarted(snapshot) : isReady(snapshot, exclude);
  if (json) return finish(pass ? 200 : 503, json, jsonText(jsonBody(snapshot, probe, pass, exclude, options.exposeErrors)), head);
  if (pass && !verbose) return finish(200, 'text', 'ok\n', head);
  return finish(pass ? 200 : 503, 'text', textBody(snapshot, probe, pass, exclude, options.exposeErrors), head);
}

/** True when `url` (path part) is one of the probe routes under `prefix`. */
export function isProbePath(url: string, prefix = '', metrics = false): boolean {
  return matchRoute(splitUrl(url, prefix).path, metrics) !== undefined;
}

type Route = { kind: 'probe'; probe: ProbeName } | { kind: 'one-check'; check: string } | { kind: 'metrics' };

function matchRoute(path: string, metrics: boolean): Route | undefined {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  if ((PROBE_PATHS as readonly string[]).includes(trimmed)) return { kind: 'probe', probe: trimmed.slice(1) as ProbeName };
  if (trimmed.startsWith('/readyz/') && trimmed.length > '/readyz/'.length) {
    try {
      return { kind: 'one-check', check: decodeURIComponent(trimmed.slice('/readyz/'.length)) };
    } catch {
      return undefined;
    }
  }
  if (metrics && trimmed === '/metrics') return { kind: 'metrics' };
  return undefined;
}

function splitUrl(rawUrl: string, prefix: string): { path: string; query: URLSearchParams } {
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
  const base = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (base) {
    // Outside the prefix nothing is a probe route: with routes under /health, the app's own
    // /livez (or /healthlivez) stays the app's.
    path = path === base || path.startsWith(`${base}/`) ? path.slice(base.length) || '/' : '';
  }
  return { path, query: new URLSearchParams(q === -1 ? '' : url.slice(q + 1)) };
}

function wantsJson(accept: string | undefined): 'json' | 'health+json' | false {
  if (!accept) return false;
  if (accept.includes('application/health+json')) return 'health+json';
  if (accept.includes('application/json')) return 'json';
  return false;
}

function checkLine(check: CheckVerdictReader, exposeErrors: boolean, excluded: boolean): string {
  const role = check.critical ? '' : ' (non-critical)';
  if (excluded) return `[+]${check.name} excluded: ${check.status === 'ok' ? 'ok' : 'failed'}`;
  if (check.status === 'ok') return `[+]${check.name} ok${role}`;
  if (check.status === 'pending') return `[-]${check.name} pending${role}`;
  const detail = exposeErrors ? (check.lastErrorMessage ?? check.lastErrorKind) : check.lastErrorKind;
  return `[-]${check.name} failed${role}${detail ? `: ${oneLine(detail)}` : ''}`;
}

function textBody(snapshot: SnapshotReader, probe: ProbeName, pass: boolean, exclude: ReadonlySet<string>, exposeErrors: boolean): string {
  const lines: string[] = [];
  if (probe === 'livez') {
    lines.push(`${snapshot.state === 'failed' ? '[-]' : '[+]'}state ${snapshot.state}`);
    if (snapshot.eventLoopStalled) lines.push(stalledLine(snapshot));
  } else if (probe === 'startupz') {
    lines.push(`${isStarted(snapshot) ? '[+]' : '[-]'}warmup ${snapshot.warmedUp ? 'finished' : 'not finished'}`);
  } else {
    lines.push(`${snapshot.state === 'ready' ? '[+]' : '[-]'}state ${snapshot.state}`);
    if (snapshot.eventLoopStalled) lines.push(stalledLine(snapshot));
    const checkLines = [...snapshot.checks.values()].map((check) => ({
      text: checkLine(check, exposeErrors, exclude.has(check.name)),
      passing: check.status === 'ok' || exclude.has(check.name),
    }));
    lines.push(...fitCheckLines(checkLines));
  }
  lines.push(`${probe} check ${pass ? 'passed' : 'failed'}`);
  return `${lines.join('\n')}\n`;
}

/** Why liveness (and readiness) fail while the main loop does not turn: how long since it last did. */
function stalledLine(snapshot: SnapshotReader): string {
  return `[-]event-loop stalled: no heartbeat for ${Math.round(snapshot.heartbeatAgeMs ?? 0)} ms (liveness.heartbeatTimeoutMs ${snapshot.heartbeatTimeoutMs})`;
}

/** Room left for check details once the state, verdict and "not shown" lines are in. */
const CHECK_DETAIL_BUDGET = MAX_BODY_BYTES - 512;

/**
 * Every check line when they fit; otherwise the failing ones first, as many as fit, then a count of
 * the rest, so that the verdict line stays last and a long list never hides what is failing.
 */
function fitCheckLines(lines: Array<{ text: string; passing: boolean }>): string[] {
  const size = (text: string) => Buffer.byteLength(text) + 1;
  if (lines.reduce((sum, line) => sum + size(line.text), 0) <= CHECK_DETAIL_BUDGET) return lines.map((line) => line.text);
  const shown: string[] = [];
  let used = 0;
  let hiddenFailing = 0;
  for (const line of [...lines.filter((l) => !l.passing), ...lines.filter((l) => l.passing)]) {
    if (used + size(line.text) > CHECK_DETAIL_BUDGET) {
      if (!line.passing) hiddenFailing += 1;
      continue;
    }
    used += size(line.text);
    shown.push(line.text);
  }
  shown.push(`[…] ${lines.length - shown.length} more checks not shown (${hiddenFailing} of them not passing)`);
  return shown;
}

function checkJson(check: CheckVerdictReader, exposeErrors: boolean): Record<string, unknown> {
  const status = check.status === 'ok' ? 'pass' : check.status === 'pending' ? 'pending' : check.critical ? 'fail' : 'warn';
  return {
    status,
    critical: check.critical,
    durationMs: check.lastDurationMs ?? null,
    lastChange: new Date(check.lastChangeAt).toISOString(),
    lastRun: check.lastRunAt === undefined ? null : new Date(check.lastRunAt).toISOString(),
    ...(check.status === 'failing'
      ? { error: check.lastErrorKind ?? 'error', ...(exposeErrors && check.lastErrorMessage ? { message: check.lastErrorMessage } : {}) }
      : {}),
  };
}

function jsonBody(snapshot: SnapshotReader, probe: ProbeName, pass: boolean, exclude: ReadonlySet<string>, exposeErrors: boolean): Record<string, unknown> {
  const base: Record<string, unknown> = { status: pass ? 'pass' : 'fail', state: snapshot.state };
  // The heartbeat's age only when it matters, so a healthy answer stays byte for byte what it was.
  const stalled = snapshot.eventLoopStalled ? { eventLoopStalled: true, heartbeatAgeMs: Math.round(snapshot.heartbeatAgeMs ?? 0) } : undefined;
  if (probe === 'livez') return { ...base, eventLoopStalled: false, ...stalled };
  if (probe === 'startupz') return { ...base, warmedUp: snapshot.warmedUp };
  const checks: Record<string, unknown> = {};
  let degraded = false;
  for (const check of snapshot.checks.values()) {
    checks[check.name] = { ...checkJson(check, exposeErrors), ...(exclude.has(check.name) ? { excluded: true } : {}) };
    if (check.status !== 'ok' && (!check.critical || exclude.has(check.name))) degraded = true;
  }
  // health+json: "warn" is healthy with concerns, here a non-critical check failing.
  return { ...base, status: pass ? (degraded ? 'warn' : 'pass') : 'fail', ...stalled, checks };
}

/**
 * The JSON body, kept whole and parseable under the size limit: with too many checks to detail,
 * the ones not passing come first, then passing ones while they fit, and `omitted` counts the rest
 * (cutting the text at a byte count, as for plain text, would leave invalid JSON).
 */
function jsonText(body: Record<string, unknown>): string {
  const full = JSON.stringify(body);
  const checks = body.checks as Record<string, { status: string }> | undefined;
  if (Buffer.byteLength(full) <= MAX_BODY_BYTES || !checks) return full;
  const entries = Object.entries(checks);
  const ordered = [...entries.filter(([, c]) => c.status !== 'pass'), ...entries.filter(([, c]) => c.status === 'pass')];
  const kept: Record<string, unknown> = {};
  let used = 0;
  for (const [name, check] of ordered) {
    const size = Buffer.byteLength(JSON.stringify(name)) + Buffer.byteLength(JSON.stringify(check)) + 2;
    if (used + size > CHECK_DETAIL_BUDGET) continue;
    used += size;
    kept[name] = check;
  }
  return JSON.stringify({ ...body, checks: kept, omitted: entries.length - Object.keys(kept).length });
}

function renderMetrics(snapshot: SnapshotReader): string {
  const lines = [
    '# HELP podkit_state Current lifecycle state (1 for the current one).',
    '# TYPE podkit_state gauge',
    ...(['starting', 'warming', 'ready', 'draining', 'stopping', 'stopped', 'failed'] as const).map(
      (s) => `podkit_state{state="${s}"} ${snapshot.state === s ? 1 : 0}`,
    ),
    '# HELP podkit_ready Whether /readyz answers 200.',
    '# TYPE podkit_ready gauge',
    `podkit_ready ${isReady(snapshot) ? 1 : 0}`,
    '# HELP podkit_inflight_requests Requests in flight on the main server.',
    '# TYPE podkit_inflight_requests gauge',
    `podkit_inflight_requests ${snapshot.inFlight}`,
    '# HELP podkit_check_up Whether a check passes (1), fails (0) or has not run yet (-1).',
    '# TYPE podkit_check_up gauge',
  ];
  const label = (name: string) => name.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  for (const c of snapshot.checks.values()) {
    lines.push(`podkit_check_up{check="${label(c.name)}",critical="${c.critical}"} ${c.status === 'ok' ? 1 : c.status === 'failing' ? 0 : -1}`);
  }
  lines.push('# HELP podkit_check_duration_seconds Duration of the last run of a check.', '# TYPE podkit_check_duration_seconds gauge');
  for (const c of snapshot.checks.values()) {
    if (c.lastDurationMs !== undefined) lines.push(`podkit_check_duration_seconds{check="${label(c.name)}"} ${c.lastDurationMs / 1000}`);
  }
  lines.push('# HELP podkit_check_runs_total Check runs.', '# TYPE podkit_check_runs_total counter');
  for (const c of snapshot.checks.values()) lines.push(`podkit_check_runs_total{check="${label(c.name)}"} ${c.runs}`);
  lines.push('# HELP podkit_check_failures_total Failed check runs.', '# TYPE podkit_check_failures_total counter');
  for (const c of snapshot.checks.values()) lines.push(`podkit_check_failures_total{check="${label(c.name)}"} ${c.failures}`);
  return `${lines.join('\n')}\n`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').slice(0, 200);
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
