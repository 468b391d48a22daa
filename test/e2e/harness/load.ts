/**
 * A bounded load generator that counts every failure exactly as a client sees it.
 *
 * Requests start on a fixed schedule (open loop), at most `concurrency` at a time. Most reuse keep-alive
 * connections from one shared agent (as a service mesh client, an ingress or a browser does);
 * a share opens a fresh connection per request, which is what a client behind kube-proxy does
 * when it reconnects. A request fails when its status is not 2xx, or when the connection is
 * reset, refused, hung up before a complete response, or when no complete response arrives
 * within the timeout. Nothing is retried: a retry would hide the failure this exists to count.
 *
 * Bounded twice: by `maxDurationMs` and by `maxRequests`, whichever comes first, even if the
 * caller never calls `stop()`.
 */
import { Agent, request as httpRequest, type ClientRequestArgs } from 'node:http';
import { createConnection, type Socket } from 'node:net';
import { pathToFileURL } from 'node:url';

/** The address a load is sent to. */
export interface LoadTarget {
  host: string;
  port: number;
}

/**
 * A request mix built where the load runs — in another process when that process sits in a
 * network namespace — from a module: its export is a `RequestSpec[]`, or a function of the target
 * that returns one (and may first seed data through the target).
 */
export interface RequestMix {
  /** Path or file URL of the module. */
  module: string;
  /** @default 'default' */
  export?: string;
}

/** Builds the mix a `RequestMix` names, for `target`. */
export async function loadRequestMix(mix: RequestMix, target: LoadTarget): Promise<RequestSpec[]> {
  const url = mix.module.startsWith('file:') ? mix.module : pathToFileURL(mix.module).href;
  const mod = (await import(url)) as Record<string, unknown>;
  const name = mix.export ?? 'default';
  const value = mod[name];
  const specs = typeof value === 'function' ? await (value as (t: LoadTarget) => RequestSpec[] | Promise<RequestSpec[]>)(target) : value;
  if (!Array.isArray(specs)) throw new Error(`request mix: ${mix.module} exports no ${name} (a RequestSpec[] or a function returning one)`);
  return specs as RequestSpec[];
}

/** One kind of request in the mix. */
export interface RequestSpec {
  /** Name in the summary, e.g. `fast` or `slow`. */
  name: string;
  /** @default 'GET' */
  method?: string;
  /** Path with query, or a function that builds one per request. */
  path: string | (() => string);
  /** Request body (sent with `content-type: application/json` unless `headers` say otherwise). */
  body?: string | (() => string);
  headers?: Record<string, string>;
  /** Relative share of the mix. @default 1 */
  weight?: number;
}

export interface LoadOptions {
  /** @default '127.0.0.1' */
  host?: string;
  port: number;
  /** The mix of requests. */
  requests: RequestSpec[];
  /** Requests in flight at most (and the keep-alive agent's socket limit). @default 32 */
  concurrency?: number;
  /** Requests started per second, on a fixed schedule. @default 100 */
  ratePerSecond?: number;
  /** Share of requests sent on a fresh connection (`Connection: close`), from 0 to 1. @default 0.2 */
  freshConnectionShare?: number;
  /** No complete response within this counts as a timeout, in ms. @default 10000 */
  requestTimeoutMs?: number;
  /** The load stops by itself after this, in ms. @default 120000 */
  maxDurationMs?: number;
  /** The load stops by itself after this many requests. @default 100000 */
  maxRequests?: number;
  /** Seed of the request mix, so a run can be repeated. @default 1 */
  seed?: number;
  /** Failures kept with their details for the report. @default 50 */
  maxFailureSamples?: number;
  /** Keep a record of every request (start, duration, outcome, connection) in the summary, for a timeline. @default false */
  recordRequests?: boolean;
  /**
   * Bind each new connection to the next port of this range (wrapping), so that every connection,
   * refused ones included, can be matched to the dataplane's record of it (conntrack). Default:
   * the kernel picks.
   */
  localPorts?: { from: number; to: number };
}

/** One request, as `recordRequests` keeps it. */
export interface RequestRecord {
  /** When it was sent, since the load began, in ms. */
  atMs: number;
  /** Until it completed or failed, in ms. */
  ms: number;
  request: string;
  ok: boolean;
  kind?: FailureKind;
  fresh: boolean;
  /** The client's port of the connection it went on (with `localPorts`: also for connections that failed to open). */
  localPort?: number;
}

/** How a failure looked to the client. */
export type FailureKind =
  /** A complete response whose status is not 2xx. */
  | 'status'
  /** The connection was reset (ECONNRESET, EPIPE) while sending or waiting. */
  | 'reset'
  /** The connection was refused (ECONNREFUSED). */
  | 'refused'
  /** The peer closed the connection before sending a response ("socket hang up"). */
  | 'hangup'
  /** The response began but the connection ended before its body was complete. */
  | 'truncated'
  /** No complete response within `requestTimeoutMs`. */
  | 'timeout'
  /** Any other client-side error (its code is in the sample). */
  | 'other';

export const FAILURE_KINDS: readonly FailureKind[] = ['status', 'reset', 'refused', 'hangup', 'truncated', 'timeout', 'other'];

export interface FailureSample {
  /** Since the load began, in ms. */
  atMs: number;
  kind: FailureKind;
  /** Status code, error code or message. */
  detail: string;
  request: string;
  fresh: boolean;
  /** The request went out on a keep-alive socket that had already carried a request. */
  reusedSocket: boolean;
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface LoadSummary {
  /** Requests begun. */
  sent: number;
  ok: number;
  failed: number;
  failures: Record<FailureKind, number>;
  /** Non-2xx responses by status code. */
  statuses: Record<string, number>;
  byRequest: Record<string, { sent: number; ok: number; failed: number }>;
  freshConnections: { sent: number; failed: number };
  keepAlive: { sent: number; failed: number; reusedSocket: number };
  /** Latency of successful requests, in ms. */
  latencyMs: LatencySummary;
  /** Scheduled requests not sent because `concurrency` requests were already in flight. */
  skipped: number;
  durationMs: number;
  /** Requests per second achieved. */
  rate: number;
  samples: FailureSample[];
  /** When the load began: `performance.timeOrigin + performance.now()` (comparable across processes), in ms. */
  startedAtEpochMs: number;
  /** Every request, with `recordRequests` (else empty). */
  records: RequestRecord[];
}

export interface Load {
  /** The summary so far (the load keeps running). */
  snapshot(): LoadSummary;
  /** Stops sending, waits for requests in flight, and returns the final summary. */
  stop(): Promise<LoadSummary>;
  /** Resolves when the load has stopped (by `stop()` or a bound). */
  readonly done: Promise<LoadSummary>;
}

interface Outcome {
  ok: boolean;
  kind?: FailureKind;
  detail?: string;
  reusedSocket: boolean;
  latencyMs: number;
  localPort: number | undefined;
}

const LOAD_DEFAULTS = {
  host: '127.0.0.1',
  concurrency: 32,
  ratePerSecond: 100,
  freshConnectionShare: 0.2,
  requestTimeoutMs: 10_000,
  maxDurationMs: 120_000,
  maxRequests: 100_000,
  seed: 1,
  maxFailureSamples: 50,
  recordRequests: false,
} as const;

/** Small deterministic PRNG (mulberry32), so a run's mix can be repeated. */
function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Maps a client-side error to what the client saw. */
export function classifyError(error: NodeJS.ErrnoException, responseStarted: boolean): FailureKind {
  if (responseStarted) return 'truncated';
  if (error.code === 'ECONNREFUSED') return 'refused';
  // Node reports a peer that closed the connection before any response as "socket hang up".
  if (error.code === 'ECONNRESET' && error.message === 'socket hang up') return 'hangup';
  if (error.code === 'ECONNRESET' || error.code === 'EPIPE') return 'reset';
  return 'other';
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

export function startLoad(options: LoadOptions): Load {
  const o = { ...LOAD_DEFAULTS, ...options };
  if (o.requests.length === 0) throw new Error('startLoad: requests must list at least one request');
  if (o.freshConnectionShare < 0 || o.freshConnectionShare > 1) throw new Error(`startLoad: freshConnectionShare must be from 0 to 1, got ${o.freshConnectionShare}`);
  const random = createRandom(o.seed);
  const weights = o.requests.map((r) => r.weight ?? 1);
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  // LIFO keeps a hot set of sockets busy and lets the others idle, as real client pools do.
  const agent = new Agent({ keepAlive: true, maxSockets: o.concurrency, scheduling: 'lifo' });
  const range = options.localPorts;
  if (range && !(Number.isInteger(range.from) && Number.isInteger(range.to) && range.from > 0 && range.to <= 65_535 && range.from < range.to)) {
    throw new Error(`startLoad: localPorts must be a range of ports, got ${JSON.stringify(range)}`);
  }
  let nextLocalPort = range?.from ?? 0;
  const boundPort = new WeakMap<Socket, number>();
  /** Opens a connection from the next port of `localPorts`, remembered on the socket before it connects. */
  const connectFromNextPort = (opts: ClientRequestArgs): Socket => {
    const localPort = nextLocalPort;
    nextLocalPort = nextLocalPort >= range!.to ? range!.from : nextLocalPort + 1;
    const socket = createConnection({ host: opts.host ?? o.host, port: Number(opts.port), localPort });
    boundPort.set(socket, localPort);
    return socket;
  };
  if (range) agent.createConnection = connectFromNextPort as unknown as Agent['createConnection'];
  const records: RequestRecord[] = [];
  const begun = performance.now();
  let latencies = new Float64Array(1024);
  let latencyCount = 0;
  let stopping = false;
  let skipped = 0;

  const summary: Omit<LoadSummary, 'latencyMs' | 'durationMs' | 'rate' | 'skipped' | 'startedAtEpochMs' | 'records'> = {
    sent: 0,
    ok: 0,
    failed: 0,
    failures: Object.fromEntries(FAILURE_KINDS.map((k) => [k, 0])) as Record<FailureKind, number>,
    statuses: {},
    byRequest: Object.fromEntries(o.requests.map((r) => [r.name, { sent: 0, ok: 0, failed: 0 }])),
    freshConnections: { sent: 0, failed: 0 },
    keepAlive: { sent: 0, failed: 0, reusedSocket: 0 },
    samples: [],
  };
  let ended: number | undefined;

  function pick(): RequestSpec {
    let r = random() * totalWeight;
    for (let i = 0; i < o.requests.length; i += 1) {
      r -= weights[i]!;
      if (r < 0) return o.requests[i]!;
    }
    return o.requests[o.requests.length - 1]!;
  }

  function send(spec: RequestSpec, fresh: boolean): Promise<Outcome> {
    return new Promise((resolve) => {
      const started = performance.now();
      const body = typeof spec.body === 'function' ? spec.body() : spec.body;
      const headers: Record<string, string> = { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...spec.headers };
      if (fresh) headers.connection = 'close';
      let responseStarted = false;
      let settled = false;
      let timedOut = false;
      const req = httpRequest({
        host: o.host,
        port: o.port,
        method: spec.method ?? 'GET',
        path: typeof spec.path === 'function' ? spec.path() : spec.path,
        headers,
        // A new connection for this request only: `agent: false`, or no agent and our own connection.
        ...(fresh ? (range ? { createConnection: connectFromNextPort as unknown as ClientRequestArgs['createConnection'] } : { agent: false }) : { agent }),
      });
      let socket: Socket | undefined;
      req.on('socket', (s: Socket) => {
        socket = s;
      });
      const settle = (outcome: Omit<Outcome, 'latencyMs' | 'reusedSocket' | 'localPort'>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        // Whatever the destroyed socket reported next, the client gave up waiting.
        const seen = timedOut ? { ok: false, kind: 'timeout' as const, detail: `no complete response in ${o.requestTimeoutMs} ms` } : outcome;
        const localPort = socket ? (boundPort.get(socket) ?? socket.localPort) : undefined;
        resolve({ ...seen, reusedSocket: req.reusedSocket, latencyMs: performance.now() - started, localPort });
      };
      // A total deadline, not the socket's idle timeout: a response that trickles still times out.
      const timer = setTimeout(() => {
        timedOut = true;
        req.destroy(Object.assign(new Error('load: request timeout'), { code: 'ETIMEDOUT' }));
      }, o.requestTimeoutMs);
      req.on('response', (res) => {
        responseStarted = true;
        res.resume();
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) settle({ ok: true });
          else settle({ ok: false, kind: 'status', detail: String(status) });
        });
        res.on('error', (error: NodeJS.ErrnoException) => settle({ ok: false, kind: classifyError(error, true), detail: error.code ?? error.message }));
        // The peer cut the body short (some Node versions emit no 'error' for that).
        res.on('close', () => {
          if (!res.complete) settle({ ok: false, kind: 'truncated', detail: 'incomplete' });
        });
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        settle({ ok: false, kind: classifyError(error, responseStarted), detail: error.code ? `${error.code}: ${error.message}` : error.message });
      });
      req.end(body);
    });
  }

  function record(spec: RequestSpec, fresh: boolean, outcome: Outcome, atMs: number): void {
    const perRequest = summary.byRequest[spec.name]!;
    if (o.recordRequests) {
      records.push({
        atMs: Math.round(atMs * 10) / 10,
        ms: Math.round(outcome.latencyMs * 10) / 10,
        request: spec.name,
        ok: outcome.ok,
        ...(outcome.ok ? {} : { kind: outcome.kind ?? 'other' }),
        fresh,
        ...(outcome.localPort === undefined ? {} : { localPort: outcome.localPort }),
      });
    }
    if (!fresh && outcome.reusedSocket) summary.keepAlive.reusedSocket += 1;
    if (outcome.ok) {
      summary.ok += 1;
      perRequest.ok += 1;
      if (latencyCount === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[latencyCount++] = outcome.latencyMs;
      return;
    }
    const kind = outcome.kind ?? 'other';
    summary.failed += 1;
    perRequest.failed += 1;
    summary.failures[kind] += 1;
    if (fresh) summary.freshConnections.failed += 1;
    else summary.keepAlive.failed += 1;
    if (kind === 'status') summary.statuses[outcome.detail ?? '?'] = (summary.statuses[outcome.detail ?? '?'] ?? 0) + 1;
    if (summary.samples.length < o.maxFailureSamples) {
      summary.samples.push({
        atMs: Math.round(performance.now() - begun),
        kind,
        detail: outcome.detail ?? '',
        request: spec.name,
        fresh,
        reusedSocket: outcome.reusedSocket,
      });
    }
  }

  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  const intervalMs = 1000 / o.ratePerSecond;
  const inFlight = new Set<Promise<void>>();

  function launch(): void {
    const spec = pick();
    const fresh = random() < o.freshConnectionShare;
    summary.sent += 1;
    summary.byRequest[spec.name]!.sent += 1;
    if (fresh) summary.freshConnections.sent += 1;
    else summary.keepAlive.sent += 1;
    const atMs = performance.now() - begun;
    const pending: Promise<void> = send(spec, fresh).then((outcome) => {
      record(spec, fresh, outcome, atMs);
      inFlight.delete(pending);
    });
    inFlight.add(pending);
  }

  /**
   * Open loop: requests start on a fixed schedule whatever the latency, so a slow replica does not
   * quietly lower the load it gets (a closed loop would). At most `concurrency` are in flight; a
   * slot that finds them all busy is skipped and counted, never queued.
   */
  async function schedule(): Promise<void> {
    let next = performance.now();
    for (;;) {
      const now = performance.now();
      if (stopping || summary.sent >= o.maxRequests || now - begun >= o.maxDurationMs) break;
      // Several slots may be due after a late timer; more than 100 ms behind, start afresh rather than burst.
      if (now - next > 100) next = now;
      while (next <= now && summary.sent < o.maxRequests) {
        if (inFlight.size < o.concurrency) launch();
        else skipped += 1;
        next += intervalMs;
      }
      await sleep(Math.max(0, next - performance.now()));
    }
    while (inFlight.size > 0) await Promise.all(inFlight);
  }

  function snapshot(): LoadSummary {
    const sorted = latencies.slice(0, latencyCount).sort();
    const durationMs = (ended ?? performance.now()) - begun;
    return {
      ...summary,
      failures: { ...summary.failures },
      statuses: { ...summary.statuses },
      byRequest: Object.fromEntries(Object.entries(summary.byRequest).map(([k, v]) => [k, { ...v }])),
      freshConnections: { ...summary.freshConnections },
      keepAlive: { ...summary.keepAlive },
      samples: [...summary.samples],
      latencyMs: {
        p50: percentile(sorted, 50),
        p90: percentile(sorted, 90),
        p99: percentile(sorted, 99),
        max: latencyCount ? sorted[latencyCount - 1]! : 0,
      },
      skipped,
      durationMs,
      rate: durationMs > 0 ? (summary.sent * 1000) / durationMs : 0,
      startedAtEpochMs: performance.timeOrigin + begun,
      records: [...records],
    };
  }

  const done = schedule().then(() => {
    ended = performance.now();
    agent.destroy();
    return snapshot();
  });

  return {
    snapshot,
    done,
    stop() {
      stopping = true;
      return done;
    },
  };
}
