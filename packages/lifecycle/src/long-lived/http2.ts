/**
 * Draining an HTTP/2 server (`http2.createServer()`, h2c, or `createSecureServer()`, TLS).
 *
 * HTTP/2 has no `Connection: close`: a client keeps opening streams on its session for as long as
 * the session lives, and Node before 24 leaves sessions open on `server.close()`. The clean signal
 * is GOAWAY with NO_ERROR: the client opens its next streams on a new connection (through the load
 * balancer, to another replica) while the streams it has in flight finish. So:
 * - From the drain's start (the drain delay included) every session gets a GOAWAY whose last
 *   stream id is the highest the session has processed (Node's native goaway picks it when given
 *   none); a session opened during the drain delay gets it once its first stream is in. A stream
 *   the client sent while the GOAWAY was on its way is refused (REFUSED_STREAM) unprocessed, which
 *   HTTP/2 lets the client retry elsewhere; nghttp2 refuses new streams after any GOAWAY it sent,
 *   and its two-step shutdown notice is not reachable through node:http2.
 * - At "stop accepting" the listener closes and every session is closed gracefully
 *   (`session.close()`: its streams finish, then it closes); close() resolves when all are closed.
 * - Streams count as requests in the in-flight gauge: one shared 'close' listener per stream and
 *   a Set entry. Unlike HTTP/1 (where Node's own record of the response on the wire is read), there
 *   is nothing to read instead (Node keeps a session's streams to itself), so this is what HTTP/2
 *   pays per stream while ready.
 * - A Server-Sent Events stream (its response headers out with `Content-Type: text/event-stream`)
 *   never finishes on its own, so the graceful `session.close()` would wait for it until the
 *   shutdown's deadline and then reset it. From "stop accepting" on, each one is ended as an
 *   HTTP/1 SSE response is (long-lived/sse.ts): the `retry:` field when configured, then END_STREAM,
 *   at a random moment of `closeWindowMs`; one still open past `budgetMs` is cancelled.
 */
import type { Http2Session, ServerHttp2Stream } from 'node:http2';
import type { ResolvedLongLivedOptions } from '../options-resolved.js';
import { stopListening, type Http2MainServer } from '../servers.js';
import { Waiters } from '../waiters.js';
import type { RecordLongLivedClose } from './outcomes.js';

// HTTP/2 error codes (RFC 9113 §7), here rather than from `node:http2`'s `constants`: importing
// `node:http2` costs every service about 20 ms and 4 MiB at start-up, HTTP/2 or not.
const NGHTTP2_NO_ERROR = 0x0;
const NGHTTP2_CANCEL = 0x8;
import { endHttp2EventStream, isHttp2EventStream } from './sse.js';

/** While sessions are being closed, how often open streams are looked at for an SSE stream whose headers went out since. */
const STREAM_SCAN_MS = 100;

export class Http2Drain {
  readonly sessions = new Set<Http2Session>();
  private readonly servers = new Set<Http2MainServer>();
  /** Streams opened and not closed yet. */
  private readonly open = new Set<ServerHttp2Stream>();
  /** SSE streams found at or after "stop accepting", ended (or to be) by podkit. */
  private readonly eventStreams = new Set<ServerHttp2Stream>();
  /** Sessions and SSE streams podkit destroyed or cancelled at a bound: their close is counted a timeout. */
  private readonly cut = new WeakSet<Http2Session | ServerHttp2Stream>();
  private draining = false;
  private closing = false;
  private closingAt = 0;
  private streamScan: NodeJS.Timeout | undefined;
  private readonly allClosed = new Waiters();
  private readonly onSession: (session: Http2Session) => void;
  private readonly onStream: (stream: ServerHttp2Stream) => void;
  private readonly onStreamClose: () => void;

  /**
   * `inFlight(+1 | -1)` is told of each stream that opens or closes while draining; `record` of each
   * session closed from the drain's start on, and of each SSE stream closed from "stop accepting" on.
   */
  constructor(
    private readonly inFlight: (delta: number) => void,
    private readonly longLived: ResolvedLongLivedOptions,
    private readonly record: RecordLongLivedClose,
  ) {
    const drain = this;
    this.onSession = (session) => this.add(session);
    // A plain function: Node calls it with the stream as `this`, so one function serves every stream.
    this.onStreamClose = function (this: ServerHttp2Stream) {
      drain.open.delete(this);
      drain.eventStreams.delete(this);
      if (drain.draining) drain.inFlight(-1);
    };
    this.onStream = (stream) => {
      this.open.add(stream);
      if (this.draining) this.inFlight(1);
      stream.once('close', this.onStreamClose);
    };
  }

  /** Streams opened and not closed yet. */
  get streams(): number {
    return this.open.size;
  }

  /** SSE streams open now (the gauge's sample walks the open streams; nothing is kept per stream for it). */
  openEventStreams(): number {
    let count = 0;
    for (const stream of this.open) if (isHttp2EventStream(stream)) count += 1;
    return count;
  }

  attach(server: Http2MainServer): void {
    if (this.servers.has(server)) return;
    this.servers.add(server);
    server.on('session', this.onSession);
    if (this.closing) stopListening(server);
  }

  /** The drain begins: every session is told to go away; the in-flight count takes over the streams open now. */
  startDraining(): void {
    if (this.draining) return;
    this.draining = true;
    this.inFlight(this.streams);
    for (const session of this.sessions) goAway(session);
  }

  /**
   * Stop accepting; close every session once its streams are done, ending its SSE streams (see
   * the top of this file). Resolves when all are closed.
   */
  close(): Promise<void> {
    this.startDraining();
    if (!this.closing) {
      this.closing = true;
      this.closingAt = Date.now();
      for (const server of this.servers) stopListening(server);
      for (const session of this.sessions) if (!session.closed && !session.destroyed) session.close();
      this.endEventStreams();
      if (this.sessions.size > 0) {
        // A stream whose headers are not out yet may still turn into an SSE stream: looked at again
        // until every session is closed. Unref'd, like the budget: the shutdown's deadline bounds the process.
        this.streamScan = setInterval(() => this.endEventStreams(), STREAM_SCAN_MS).unref();
        setTimeout(() => {
          for (const stream of this.eventStreams) this.cancel(stream);
        }, this.longLived.budgetMs).unref();
      }
    }
    return this.allClosed.until(this.sessions.size);
  }

  destroyAll(): void {
    clearInterval(this.streamScan);
    for (const stream of this.eventStreams) this.cut.add(stream);
    for (const session of this.sessions) {
      this.cut.add(session);
      session.destroy();
    }
  }

  private cancel(stream: ServerHttp2Stream): void {
    if (stream.closed) return;
    this.cut.add(stream);
    stream.close(NGHTTP2_CANCEL);
  }

  private endEventStreams(): void {
    for (const stream of this.open) {
      if (this.eventStreams.has(stream) || !isHttp2EventStream(stream)) continue;
      this.eventStreams.add(stream);
      // Ended with END_STREAM, it closes with NO_ERROR; a client that reset it first left on its own.
      stream.once('close', () => this.record('sse', this.cut.has(stream) ? 'timeout' : stream.rstCode === NGHTTP2_NO_ERROR ? 'clean' : 'client'));
      // A random moment of what is left of the close window, as for HTTP/1 streams and WebSockets.
      // Ref'd: the end is what the session's close, and so the exit, waits for.
      const left = Math.max(0, this.longLived.closeWindowMs - (Date.now() - this.closingAt));
      setTimeout(() => endHttp2EventStream(stream, this.longLived.sseRetryMs), Math.random() * left);
    }
  }

  private add(session: Http2Session): void {
    this.sessions.add(session);
    // First in line: the server's own listener runs the request handler, which may answer at once.
    session.prependListener('stream', this.onStream);
    session.once('close', () => {
      this.sessions.delete(session);
      // From the drain's start every session has its GOAWAY: unless podkit cut it, it closed cleanly.
      if (this.draining) this.record('http2', this.cut.has(session) ? 'timeout' : 'clean');
      if (this.sessions.size > 0) return;
      clearInterval(this.streamScan);
      this.allClosed.settle(0);
    });
    if (this.closing) session.close();
    // Opened during the drain delay (the balancer has not caught up yet): its first request comes
    // with its connection preface, and a GOAWAY sent now would carry last stream id 0 and refuse it
    // unprocessed. Sent once that stream is in, it lets it be answered and moves the next ones on.
    else if (this.draining) session.once('stream', () => goAway(session));
  }
}

function goAway(session: Http2Session): void {
  // No last stream id: Node's native goaway then sends the highest stream id the session has processed.
  if (!session.closed && !session.destroyed) session.goaway(NGHTTP2_NO_ERROR);
}
