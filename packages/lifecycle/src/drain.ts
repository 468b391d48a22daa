/**
 * Draining the main server: `Connection: close` during the drain, the in-flight count, and closing
 * every connection the moment it has nothing left to answer, without resetting anybody. In order:
 * startDraining(), close() (stop accepting), closeUpgraded() after the hooks; destroyAll() past the
 * shutdown's budget. The parts: request-accounting.ts, close-when-idle.ts, sampled-gauges.ts, long-lived/.
 *
 * Why not http-terminator: it is unmaintained since 2022, it accepts connections that arrive while
 * it terminates and then resets them, and it destroys every socket still open when its timer
 * fires. Node ≥ 18.2 gives what it emulated (`closeIdleConnections`, `closeAllConnections`); the
 * one thing neither does is the bookkeeping of request-accounting.ts: know per connection whether a
 * response is still owed, so a connection is closed the moment its last response is out, and let a
 * connection accepted just before the listener closed deliver the request it carries instead of
 * killing it unread.
 *
 * Nothing is paid per request while the service is ready:
 * - Until the drain begins there is no 'request' listener of podkit's on the main server, and no
 *   request is looked at. Connections are followed instead (connections.ts: a Set entry and a
 *   shared 'close' listener each), and what a drain needs to know of their requests Node already
 *   keeps: the response on each wire.
 * - The gauges while ready are counted from what Node keeps, when asked (sampled-gauges.ts), and
 *   `track(req, res)` only notes the servers of requests once (see it).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { IdleCloser } from './close-when-idle.js';
import { Connections, listedSockets, serverOf } from './connections.js';
import { countLongLived } from './long-lived/census.js';
import { longLivedHeld, requestsInFlight } from './drain-forensics.js';
import type { InFlightRequest } from './forensics.js';
import { LongLivedClosing } from './long-lived/closing.js';
import { Http2Drain } from './long-lived/http2.js';
import { DEFAULTS } from './defaults.js';
import type { ResolvedLongLivedOptions } from './options-resolved.js';
import { RequestAccounting } from './request-accounting.js';
import { SampledGauges } from './sampled-gauges.js';
import { isHttp1Server, isHttp2Server, stopListening, type Http1Server, type MainServer } from './servers.js';
import type { HealthSnapshot } from './state.js';
import { Waiters } from './waiters.js';

export type { MainServer } from './servers.js';

export class RequestDrain {
  private readonly connections: Connections;
  private readonly accounting: RequestAccounting;
  /** WebSocket connections, SSE streams and other upgraded sockets, from "stop accepting" on. */
  private readonly longLived: LongLivedClosing;
  /** Servers given to podkit (start(), serve(), an adapter's attach()): their listener is closed at the drain. */
  private readonly owned = new Set<Http1Server>();
  /** Servers with podkit's 'request' listener, which only the drain adds. */
  private readonly listened = new WeakSet<Http1Server>();
  /** HTTP/2 servers: sessions told to go away, streams counted (long-lived/http2.ts). */
  private readonly h2: Http2Drain;
  /** The server of the last request track() saw while ready: the one comparison it makes per request. */
  private lastMet: unknown;
  /** Closes each HTTP connection once it has nothing left to answer, from "stop accepting" on. */
  private readonly idle: IdleCloser;
  /** The in-flight and long-lived gauges, counted from what Node keeps (in flight: exactly during the drain). */
  readonly gauges: SampledGauges;
  private draining = false;
  /** close() waits here for every HTTP connection to be closed. */
  private readonly httpClosed = new Waiters();
  private readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => this.track(req, res);

  constructor(
    private readonly snapshot: HealthSnapshot,
    longLived: ResolvedLongLivedOptions = { ...DEFAULTS.longLived },
  ) {
    const record = snapshot.countLongLivedClosed.bind(snapshot);
    this.h2 = new Http2Drain((delta) => this.snapshot.addInFlight(delta), longLived, record);
    this.gauges = new SampledGauges(snapshot, () => this.connections.responsesOnWire() + this.h2.streams, () =>
      countLongLived({ http: this.connections.http, closingWebSockets: this.longLived.openWebSockets, http2Sessions: this.h2.sessions.size, http2EventStreams: this.h2.openEventStreams() }),
    );
    this.accounting = new RequestAccounting(snapshot, (socket) => {
      // Node's own bookkeeping for this response runs first; then a socket kept alive by a
      // response that began before the drain is closed here.
      if (this.idle.closing) setImmediate(() => this.idle.closeIfIdle(socket));
      this.notifyIfDrained();
    });
    this.longLived = new LongLivedClosing(longLived, () => this.accounting.responses(), record);
    this.connections = new Connections({
      opened: (socket, server, handshaking) => this.opened(socket, server, handshaking, Date.now()),
      secured: (socket, raw, server) => {
        const pending = raw && this.accounting.forget(raw);
        // The grace counts from when the connection was accepted, not from the end of the handshake.
        this.opened(socket, server, false, pending ? pending.openedAt : Date.now());
      },
      closed: (socket) => this.closed(socket),
    });
    this.idle = new IdleCloser(this.connections, this.accounting, this.longLived, () => this.notifyIfDrained());
  }

  /** Drain this server at shutdown: follow its connections now, close its listener at the drain. Idempotent. */
  attach(server: MainServer): void {
    if (isHttp2Server(server)) {
      this.h2.attach(server);
      return;
    }
    if (this.owned.has(server)) return;
    this.owned.add(server);
    if (this.idle.closing) {
      // Handed over after the drain began (stop() raced start()): it must never take traffic.
      if (server.listening) stopListening(server);
      else server.once('listening', () => stopListening(server));
    }
    this.follow(server);
  }

  /**
   * For adapters, and code that sees requests of a server podkit may not have been given. While
   * ready: nothing per request; the request's server (one podkit was not given: an app mounted on a
   * server the user listens on) is noted once and followed from then on; none of its connections is
   * closed, and its listener is left to its owner. While draining: the request is counted until its response (or its socket) closes, and marked
   * `Connection: close`. Idempotent per request.
   */
  track(req: IncomingMessage, res: ServerResponse): void {
    if (!this.draining) {
      const server = (req.socket as (Socket & { server?: unknown }) | null)?.server;
      if (server !== this.lastMet) {
        this.lastMet = server;
        if (isHttp1Server(server)) this.follow(server);
      }
      return;
    }
    if (this.accounting.isCounted(req)) return;
    const socket = req.socket as Socket | null;
    if (!socket || socket.destroyed) {
      this.accounting.passOver(req);
      return;
    }
    // A server met for the first time during the drain is followed (its busy connections counted)
    // from now; a socket whose server podkit cannot see is followed on its own.
    const server = serverOf(socket);
    if (server) this.follow(server);
    if (this.connections.add(socket, false)) this.opened(socket, server, false, Date.now());
    const account = this.accounting.get(socket);
    if (account) this.accounting.count(socket, account, req, res, true);
  }

  /** Forensics: the requests in flight and the long-lived connections open now (drain-forensics.ts). */
  heldBy(): { requests: InFlightRequest[]; longLived: Record<string, number> } {
    const responses = this.draining ? [...this.accounting.responses()] : this.connections.onWire();
    return {
      requests: requestsInFlight(responses, (res) => this.accounting.countedOf(res)),
      longLived: longLivedHeld(this.gauges.longLivedOpen, [...this.connections.http, ...this.longLived.upgraded], this.h2.streams),
    };
  }

  get openSockets(): number {
    return this.connections.http.size + this.connections.handshakes.size + this.longLived.upgraded.size + this.h2.sessions.size;
  }

  /**
   * Drain step 1: from now on every response carries `Connection: close`, so keep-alive clients
   * finish their current request and reconnect, through the load balancer, to another replica.
   * kube-proxy only steers new connections; an established keep-alive connection keeps
   * arriving here until the server closes it. The accounting starts here (request-accounting.ts).
   */
  startDraining(): void {
    if (this.draining) return;
    this.draining = true;
    this.gauges.countExactly();
    // HTTP/2 sessions get their GOAWAY now, during the drain delay: there is no Connection: close.
    this.h2.startDraining();
    const now = Date.now();
    const servers = new Set(this.owned);
    for (const socket of this.connections.http) {
      const server = serverOf(socket);
      if (server) servers.add(server);
    }
    const midRequest = new Set<Socket>();
    for (const server of servers) {
      this.listenForRequests(server);
      for (const socket of listedSockets(server, 'active')) midRequest.add(socket);
    }
    for (const socket of this.connections.http) this.accounting.open(socket, false, now, midRequest.has(socket));
    for (const socket of this.connections.handshakes) this.accounting.open(socket, true, now, false);
  }

  /**
   * Drain step 2: stop accepting, close idle sockets, let in-flight requests finish, close
   * long-lived connections. Resolves when every HTTP socket and every WebSocket podkit said goodbye
   * on is closed; other upgraded connections stay open for holds and shutdown hooks and are ended
   * by `closeUpgraded()`. `http.Server#close` is not used (servers.ts says why).
   */
  async close(): Promise<void> {
    this.startDraining();
    for (const server of this.owned) stopListening(server);
    // Long-lived first: an upgraded WebSocket the sweep finds gets its goodbye at once.
    this.longLived.start();
    this.idle.start();
    this.longLived.scanStreams();
    await Promise.all([this.httpClosed.until(this.httpLeft()), this.longLived.goodbyesDone(), this.h2.close()]);
  }

  /** After holds and shutdown hooks: end every upgraded connection (long-lived/closing.ts). */
  closeUpgraded(): Promise<void> {
    return this.longLived.closeUpgraded();
  }

  /** Past the shutdown budget: cut every connection that is left. */
  destroyAll(): void {
    this.h2.destroyAll();
    this.longLived.destroyAll();
    for (const socket of [...this.connections.http, ...this.connections.handshakes]) socket.destroy();
    for (const server of this.owned) {
      if (server.listening) server.close();
      server.closeAllConnections();
    }
  }

  private follow(server: Http1Server): void {
    const alreadyOpen = this.connections.follow(server);
    if (!this.draining) return;
    this.listenForRequests(server);
    const midRequest = new Set(listedSockets(server, 'active'));
    for (const socket of alreadyOpen) this.opened(socket, server, false, Date.now(), midRequest.has(socket));
  }

  private listenForRequests(server: Http1Server): void {
    if (this.listened.has(server)) return;
    this.listened.add(server);
    // First in line, so the header is set before any framework writes the response.
    server.prependListener('request', this.onRequest);
  }

  private opened(socket: Socket, server: Http1Server | undefined, handshaking: boolean, openedAt: number, midRequest = false): void {
    if (!this.draining) return;
    if (server) this.listenForRequests(server);
    this.accounting.open(socket, handshaking, openedAt, midRequest);
    this.idle.closeIfIdle(socket);
  }

  private closed(socket: Socket): void {
    this.longLived.closed(socket);
    this.accounting.closed(socket);
    this.notifyIfDrained();
  }

  private httpLeft(): number {
    return this.connections.http.size + this.connections.handshakes.size;
  }

  private notifyIfDrained(): void {
    if (!this.httpClosed.settle(this.httpLeft())) return;
    this.idle.reset();
    this.longLived.stopScanning();
  }
}
