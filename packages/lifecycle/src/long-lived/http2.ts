/**
 * Draining an HTTP/2 server (`http2.createServer()`, h2c, or `createSecureServer()`, TLS).
 *
 * HTTP/2 has no `Connection: close`: a client keeps opening streams on its session for as long as
 * the session lives, and Node before 24 leaves sessions open on `server.close()`. The clean signal
 * is GOAWAY with NO_ERROR: the client opens its next streams on a new connection (through the load
 * balancer, to another replica) while the streams it has in flight finish. So:
 * - From the drain's start (the drain delay included) every session, and each one opened during
 *   it, gets a GOAWAY whose last stream id is the highest the session has processed (Node's native
 *   goaway picks it when given none), so no stream the client already sent is refused.
 * - At "stop accepting" the listener closes and every session is closed gracefully
 *   (`session.close()`: its streams finish, then it closes); close() resolves when all are closed.
 * - Streams count as requests in the in-flight gauge: one shared 'close' listener per stream and
 *   a counter. Unlike HTTP/1 (where Node's own record of the response on the wire is read), there
 *   is nothing to read instead, so this is what HTTP/2 pays per stream while ready.
 */
import { constants, type Http2Session, type ServerHttp2Stream } from 'node:http2';
import { stopListening, type Http2MainServer } from '../servers.js';
import { Waiters } from '../waiters.js';

export class Http2Drain {
  readonly sessions = new Set<Http2Session>();
  private readonly servers = new Set<Http2MainServer>();
  /** Streams opened and not closed yet. */
  streams = 0;
  private draining = false;
  private closing = false;
  private readonly allClosed = new Waiters();
  private readonly onSession: (session: Http2Session) => void;
  private readonly onStream: (stream: ServerHttp2Stream) => void;
  private readonly onStreamClose: () => void;

  /** `inFlight(+1 | -1)` is told of each stream that opens or closes while draining. */
  constructor(private readonly inFlight: (delta: number) => void) {
    this.onSession = (session) => this.add(session);
    this.onStreamClose = () => {
      this.streams -= 1;
      if (this.draining) this.inFlight(-1);
    };
    this.onStream = (stream) => {
      this.streams += 1;
      if (this.draining) this.inFlight(1);
      stream.once('close', this.onStreamClose);
    };
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

  /** Stop accepting; close every session once its streams are done. Resolves when all are closed. */
  close(): Promise<void> {
    this.startDraining();
    this.closing = true;
    for (const server of this.servers) stopListening(server);
    for (const session of this.sessions) if (!session.closed && !session.destroyed) session.close();
    return this.allClosed.until(this.sessions.size);
  }

  destroyAll(): void {
    for (const session of this.sessions) session.destroy();
  }

  private add(session: Http2Session): void {
    this.sessions.add(session);
    // First in line: the server's own listener runs the request handler, which may answer at once.
    session.prependListener('stream', this.onStream);
    session.once('close', () => {
      this.sessions.delete(session);
      this.allClosed.settle(this.sessions.size);
    });
    if (this.closing) session.close();
    else if (this.draining) goAway(session);
  }
}

function goAway(session: Http2Session): void {
  // No last stream id: Node's native goaway then sends the highest stream id the session has processed.
  if (!session.closed && !session.destroyed) session.goaway(constants.NGHTTP2_NO_ERROR);
}
