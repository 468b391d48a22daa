/**
 * Clients that stay connected through a rolling restart, each reconnecting (through the Service)
 * whenever its connection is closed, and counting every close that was not a clean goodbye:
 *   - WebSocket (`ws`): clean is a close frame 1001 Going Away or 1012 Service Restart; anything
 *     else (1006: the socket ended without a close frame, a reset, a refused connect) is abnormal;
 *   - Server-Sent Events (a raw reader on node:http): clean is the end of the stream (the last
 *     chunk of the chunked body); a stream cut short, a reset, a refusal or a non-200 is abnormal.
 *     It reconnects after the `retry:` the server sent, as EventSource does;
 *   - SSE over HTTP/2 (`node:http2`, h2c): a session of its own per stream; clean is END_STREAM
 *     without RST_STREAM; a reset, a stream or session error, a non-200 is abnormal;
 *   - HTTP/2 (`node:http2`, h2c): a session making requests one after another; on GOAWAY the next
 *     requests go on a new session. Abnormal: a failed request (stream reset, error, non-200) or a
 *     session error. A request the server refused unprocessed (RST_STREAM REFUSED_STREAM, or
 *     above a GOAWAY's last stream id) is retried on a new session, as RFC 9113 §8.7 allows, and
 *     counted apart.
 * Every server answer names its replica (`x-replica` header, or the WebSocket's first message), so
 * the report says which replicas each client was connected to, in order.
 *
 * Run by the harness's agent inside the namespace (RollingRestartOptions.clients) or anywhere.
 */
import { request, type IncomingMessage } from 'node:http';
import { connect as connectHttp2, constants, type ClientHttp2Session } from 'node:http2';
import { WebSocket } from 'ws';
import type { RunningClients } from './harness/agent-protocol.js';
import type { LoadTarget } from './harness/load.js';

export interface LongLivedClientOptions {
  webSockets?: number;
  eventStreams?: number;
  http2Sessions?: number;
  /** SSE readers over HTTP/2, each on its own session. */
  http2EventStreams?: number;
  /** Between two HTTP/2 requests of one client, in ms. @default 20 */
  http2IntervalMs?: number;
  /** Before reconnecting after a clean close without a `retry:`, in ms. @default 100 */
  reconnectMs?: number;
}

export type ClientKind = 'websocket' | 'sse' | 'http2' | 'http2-sse';

export interface Abnormal {
  client: string;
  kind: ClientKind;
  /** What the client saw: `close 1006`, `reset`, `refused`, `stream error …`, `status 503`… */
  what: string;
  /** The replica it was connected to, when it knew. */
  replica?: string;
  atMs: number;
}

export interface ClientRecord {
  name: string;
  kind: ClientKind;
  /** The replicas it was connected to (or answered by), in order, repeats collapsed. */
  replicas: string[];
  /** Connections that ended cleanly (close frame 1001/1012, end of stream, GOAWAY). */
  cleanCloses: number;
  /** HTTP/2: requests answered 200. */
  requests: number;
  /** HTTP/2: requests refused unprocessed and sent again. */
  retried: number;
}

export interface LongLivedReport {
  clients: ClientRecord[];
  abnormal: Abnormal[];
  /** Close codes of WebSocket connections the server closed, by code. */
  webSocketCloseCodes: Record<string, number>;
}

const CLEAN_WS_CODES = new Set([1001, 1012]);

/** StartClients for the harness: `targets.http` for WebSocket and SSE, `targets.h2c` for HTTP/2. */
export function longLivedClients(targets: Record<string, LoadTarget>, options: unknown): RunningClients {
  const o = (options ?? {}) as LongLivedClientOptions;
  const http = targets.http;
  const h2c = targets.h2c;
  if (!http) throw new Error('long-lived clients: no `http` target');
  if ((o.http2Sessions ?? 0) + (o.http2EventStreams ?? 0) > 0 && !h2c) throw new Error('long-lived clients: HTTP/2 clients need an `h2c` target');
  const begun = performance.now();
  const report: LongLivedReport = { clients: [], abnormal: [], webSocketCloseCodes: {} };
  let stopped = false;
  const closers = new Set<() => void>();
  const timers = new Set<NodeJS.Timeout>();
  const later = (fn: () => void, ms: number) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!stopped) fn();
    }, ms);
    timers.add(timer);
  };
  const reconnectMs = o.reconnectMs ?? 100;

  function record(name: string, kind: ClientKind): ClientRecord {
    const r: ClientRecord = { name, kind, replicas: [], cleanCloses: 0, requests: 0, retried: 0 };
    report.clients.push(r);
    return r;
  }
  const saw = (r: ClientRecord, replica: string | undefined) => {
    if (replica && r.replicas.at(-1) !== replica) r.replicas.push(replica);
  };
  const abnormal = (r: ClientRecord, what: string) => {
    if (stopped) return;
    report.abnormal.push({ client: r.name, kind: r.kind, what, ...(r.replicas.length ? { replica: r.replicas.at(-1)! } : {}), atMs: Math.round(performance.now() - begun) });
  };

  function webSocket(r: ClientRecord): void {
    const ws = new WebSocket(`ws://${http!.host}:${http!.port}/`);
    let error: string | undefined;
    const close = () => ws.close(1000);
    closers.add(close);
    ws.on('message', (data) => {
      const text = String(data);
      if (text.startsWith('replica ')) saw(r, text.slice('replica '.length));
    });
    ws.on('error', (e: NodeJS.ErrnoException) => (error ??= e.code ?? e.message));
    ws.on('close', (code) => {
      closers.delete(close);
      if (stopped) return;
      report.webSocketCloseCodes[code] = (report.webSocketCloseCodes[code] ?? 0) + 1;
      if (CLEAN_WS_CODES.has(code)) r.cleanCloses += 1;
      else abnormal(r, `close ${code}${error ? ` (${error})` : ''}`);
      later(() => webSocket(r), reconnectMs);
    });
  }

  function eventStream(r: ClientRecord): void {
    let retryMs = reconnectMs;
    let settled = false;
    const again = (what: string | undefined) => {
      if (settled) return;
      settled = true;
      closers.delete(close);
      if (stopped) return;
      if (what === undefined) r.cleanCloses += 1;
      else abnormal(r, what);
      later(() => eventStream(r), retryMs);
    };
    const req = request({ host: http!.host, port: http!.port, path: '/events', agent: false, headers: { accept: 'text/event-stream' } }, (res: IncomingMessage) => {
      saw(r, res.headers['x-replica'] as string | undefined);
      if (res.statusCode !== 200) {
        res.resume();
        again(`status ${res.statusCode}`);
        return;
      }
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (const m of buffer.matchAll(/^retry: (\d+)$/gm)) retryMs = Number(m[1]);
        buffer = buffer.slice(buffer.lastIndexOf('\n') + 1);
      });
      res.on('error', () => {});
      // `complete` only when the whole chunked body arrived: a stream cut short is not a clean end.
      res.on('close', () => again(res.complete ? undefined : 'stream cut short'));
    });
    const close = () => req.destroy();
    closers.add(close);
    req.on('error', (e: NodeJS.ErrnoException) => again(e.code === 'ECONNREFUSED' ? 'refused' : e.code === 'ECONNRESET' ? 'reset' : (e.code ?? e.message)));
    req.end();
  }

  function http2Client(r: ClientRecord): void {
    let session: ClientHttp2Session | undefined;
    const open = (): ClientHttp2Session => {
      const s = connectHttp2(`http://${h2c!.host}:${h2c!.port}`);
      const close = () => s.destroy();
      closers.add(close);
      s.on('error', (e: NodeJS.ErrnoException) => abnormal(r, `session error ${e.code ?? e.message}`));
      s.on('goaway', (code: number) => {
        // The next requests go on a new session; the ones in flight finish on this one.
        if (session === s) session = undefined;
        if (code === constants.NGHTTP2_NO_ERROR) r.cleanCloses += 1;
        else abnormal(r, `goaway ${code}`);
      });
      s.on('close', () => {
        closers.delete(close);
        if (session === s) session = undefined;
      });
      return s;
    };
    const next = () => {
      if (stopped) return;
      if (!session || session.closed || session.destroyed) session = open();
      const s = session;
      const stream = s.request({ ':path': '/' });
      let replica: string | undefined;
      let status = 0;
      stream.on('response', (headers) => {
        status = Number(headers[':status']);
        replica = headers['x-replica'] as string | undefined;
      });
      stream.resume();
      let done = false;
      const settle = (error?: NodeJS.ErrnoException) => {
        if (done) return;
        done = true;
        if (stopped) return;
        const refused = stream.rstCode === constants.NGHTTP2_REFUSED_STREAM || error?.code === 'ERR_HTTP2_GOAWAY_SESSION';
        if (refused && status === 0) {
          r.retried += 1;
          if (session === s) session = undefined;
        } else if (error || stream.rstCode || status !== 200) {
          abnormal(r, error ? `request ${error.code ?? error.message}` : stream.rstCode ? `stream reset ${stream.rstCode}` : `status ${status}`);
        } else {
          r.requests += 1;
          saw(r, replica);
        }
        later(next, o.http2IntervalMs ?? 20);
      };
      stream.on('error', settle);
      stream.on('close', () => settle());
    };
    next();
  }

  function http2EventStream(r: ClientRecord): void {
    let retryMs = reconnectMs;
    let settled = false;
    const session = connectHttp2(`http://${h2c!.host}:${h2c!.port}`);
    const close = () => session.destroy();
    closers.add(close);
    const again = (what: string | undefined) => {
      if (settled) return;
      settled = true;
      closers.delete(close);
      session.close();
      if (stopped) return;
      // Refused unprocessed (REFUSED_STREAM): sent again, as for the HTTP/2 requests above.
      if (stream.rstCode === constants.NGHTTP2_REFUSED_STREAM && !answered) r.retried += 1;
      else if (what === undefined) r.cleanCloses += 1;
      else abnormal(r, what);
      later(() => http2EventStream(r), retryMs);
    };
    let answered = false;
    session.on('error', (e: NodeJS.ErrnoException) => again(`session error ${e.code ?? e.message}`));
    const stream = session.request({ ':path': '/events', accept: 'text/event-stream' });
    stream.on('response', (headers) => {
      answered = true;
      saw(r, headers['x-replica'] as string | undefined);
      if (headers[':status'] !== 200) again(`status ${headers[':status']}`);
    });
    stream.setEncoding('utf8');
    let buffer = '';
    stream.on('data', (chunk: string) => {
      buffer += chunk;
      for (const m of buffer.matchAll(/^retry: (\d+)$/gm)) retryMs = Number(m[1]);
      buffer = buffer.slice(buffer.lastIndexOf('\n') + 1);
    });
    stream.on('error', (e: NodeJS.ErrnoException) => again(`stream error ${e.code ?? e.message}`));
    // END_STREAM: 'end', and a close without RST_STREAM (or with NO_ERROR).
    stream.on('close', () => again(stream.rstCode ? `stream reset ${stream.rstCode}` : stream.readableEnded ? undefined : 'stream cut short'));
    stream.resume();
  }

  for (let i = 0; i < (o.webSockets ?? 0); i += 1) webSocket(record(`ws-${i + 1}`, 'websocket'));
  for (let i = 0; i < (o.eventStreams ?? 0); i += 1) eventStream(record(`sse-${i + 1}`, 'sse'));
  for (let i = 0; i < (o.http2Sessions ?? 0); i += 1) http2Client(record(`h2-${i + 1}`, 'http2'));
  for (let i = 0; i < (o.http2EventStreams ?? 0); i += 1) http2EventStream(record(`h2-sse-${i + 1}`, 'http2-sse'));

  return {
    async stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      for (const close of [...closers]) close();
      return report;
    },
  };
}

/** Every abnormal close, one line each, for failure messages. */
export function formatAbnormal(report: LongLivedReport): string {
  return report.abnormal.map((a) => `${a.atMs} ms ${a.client} (${a.kind}) ${a.what}${a.replica ? ` on ${a.replica}` : ''}`).join('\n');
}
