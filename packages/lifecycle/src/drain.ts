/**
 * Draining the main server: `Connection: close` during the drain, the in-flight count, and closing
 * every connection the moment it has nothing left to answer, without resetting anybody.
 *
 * Why not http-terminator: it is unmaintained since 2022, it accepts connections that arrive while
 * it terminates and then resets them, and it destroys every socket still open when its timer
 * fires. Node ≥ 18.2 gives what it emulated (`closeIdleConnections`, `closeAllConnections`); the
 * one thing neither does is the bookkeeping below: know per connection whether a response is still
 * owed, so a connection is closed the moment its last response is out, and let a connection
 * accepted just before the listener closed deliver the request it carries instead of killing it
 * unread.
 *
 * Nothing is paid per request while the service is ready:
 * - Until the drain begins there is no 'request' listener of podkit's on the main server, and no
 *   request is looked at. Connections are followed instead (connections.ts: a Set entry and a
 *   shared 'close' listener each), and what a drain needs to know of their requests Node already
 *   keeps: the response on each wire.
 * - The in-flight gauge while ready is the number of connections with a response on the wire,
 *   counted when asked: `lifecycle.inFlight` counts on each read; /metrics reads a sample taken
 *   every IN_FLIGHT_SAMPLE_MS (only when metrics are served, from an unref'd timer), so the probe
 *   listener reads one number and never walks the main server's sockets. Requests pipelined
 *   behind one another on a connection are not told apart while ready: the connection counts once.
 * - `track(req, res)` (adapters) while ready only notes, once per server, a server podkit was not
 *   given (an app mounted on a server the user listens on) and follows its connections from then
 *   on. It closes none of them and leaves that server's listener to its owner.
 *
 * When the drain begins (startDraining) the accounting starts, and is exact from then on:
 * - podkit's 'request' listener is prepended, first in line, on every followed server: each
 *   request that arrives is counted (once, however many adapters see it too) until its response
 *   or its socket closes, and marked `Connection: close`.
 * - The connections already open are accounted for once, from what Node knows of them: a response
 *   on the wire is counted in flight and gets `Connection: close` if its headers have not left
 *   (else its socket is closed after it); a socket that has read nothing is fresh and gets its
 *   grace from the drain's start; one Node lists as mid-request (part of a request in) is treated
 *   as such; an idle keep-alive socket records its byte count, so bytes read after it are a
 *   request arriving.
 * - Responses pipelined behind the one on the wire are out of reach, and need not be reached: if
 *   the one on the wire carries `Connection: close`, Node closes the socket after it and drops the
 *   queue; if its headers had already left, Node puts the next one on the wire before the first
 *   one's 'close', where release() counts it and tells it to close. closeIfIdle() asks Node's
 *   record of the wire as well as podkit's count, so no response is cut, counted or not.
 *
 * Long-lived connections, at "stop accepting" (close()), with a budget of their own
 * (`longLived.budgetMs`, inside the shutdown's): WebSocket connections (upgraded with
 * `Upgrade: websocket`) get a close frame 1001 Going Away (long-lived/websocket.ts) and
 * `closeTimeoutMs` to close; Server-Sent Events streams (a response on the wire with
 * `Content-Type: text/event-stream`) are ended (long-lived/sse.ts). Each one at a random moment of
 * `closeWindowMs`, so their clients do not all reconnect in the same millisecond. close() resolves
 * once they are closed too, so shutdown hooks run after them. With `webSocketGoodbye: 'app'`
 * WebSocket connections are left to the app: open through holds and hooks, ended after them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import { Connections, isHttp1Server, isUpgraded, isWebSocket, listedSockets, responseOnWire, serverOf, type Http1Server, type MainServer } from './connections.js';
import { Http2Drain, isHttp2Server } from './long-lived/http2.js';
import { endEventStream, isEventStream } from './long-lived/sse.js';
import { sayGoingAway } from './long-lived/websocket.js';
import { pathOf, type InFlightRequest } from './forensics.js';
import { DEFAULTS, type ResolvedLongLivedOptions } from './options.js';
import type { HealthSnapshot } from './state.js';

export type { MainServer } from './connections.js';

/**
 * A socket that has never carried a request was accepted moments ago and may have a request on
 * the wire: it gets this long to send it (and be answered with `Connection: close`) before it is
 * closed. So does an HTTPS connection still in its TLS handshake, and a kept-alive socket whose
 * next request is half-way in (bytes read since its last response, not yet a full request). Idle
 * keep-alive sockets are closed at once.
 */
const FRESH_SOCKET_GRACE_MS = 500;

/**
 * An upgraded connection (WebSocket…) is ended once holds and shutdown hooks are done; a peer
 * that has not closed its side this long after that is destroyed.
 */
const UPGRADED_END_BOUND_MS = 1000;

/** While long-lived connections are being closed, how often responses are looked at for an SSE stream that began since. */
const STREAM_SCAN_MS = 100;

/** While ready, how often the gauge /metrics reads is refreshed. Prometheus scrapes every 15–60 s. */
const IN_FLIGHT_SAMPLE_MS = 1000;

/** Marks a request already counted, so the listener, the connection sweep and an adapter never count it twice. */
const kTracked = Symbol('podkit.tracked');
type Tracked = IncomingMessage & { [kTracked]?: true };

/**
 * When a response was counted, for forensics: `exact` when its request arrived during the drain
 * (its age is exact); otherwise it was found in flight when the drain began and is at least that old.
 */
const kCounted = Symbol('podkit.counted');
type Counted = ServerResponse & { [kCounted]?: { at: number; exact: boolean } };

/** A connection's record, from the drain's start on. While ready there is none. */
interface SocketAccount {
  /**
   * Responses counted on this socket whose 'close' has not come yet. Kept per socket, not in one
   * set, because a socket that dies takes them all: responses queued behind the one on the wire
   * (HTTP pipelining) are never given the socket and never emit 'close', so they are released
   * with the socket's own 'close'. An array: it almost always holds one response.
   */
  readonly responses: ServerResponse[];
  /** When it was accepted, or when the drain began for one accepted before: a fresh socket's grace counts from here. */
  readonly openedAt: number;
  /** When its last response closed, and `socket.bytesRead` then: more bytes since mean a request is arriving. */
  idleAt: number;
  bytesReadWhenIdle: number;
  /** The raw TCP socket of an HTTPS connection whose TLS handshake is not done: no HTTP on it yet. */
  readonly handshaking: boolean;
}

export class RequestDrain {
  private readonly connections: Connections;
  private readonly accounts = new Map<Socket, SocketAccount>();
  /** Sockets handed to an 'upgrade' (WebSocket) or 'connect' listener, found at the drain: ended after the hooks. */
  private readonly upgraded = new Set<Socket>();
  /** Servers given to podkit (start(), serve(), an adapter's attach()): their listener is closed at the drain. */
  private readonly owned = new Set<Http1Server>();
  /** Servers with podkit's 'request' listener, which only the drain adds. */
  private readonly listened = new WeakSet<Http1Server>();
  /** HTTP/2 servers: sessions told to go away, streams counted (long-lived/http2.ts). */
  private readonly h2: Http2Drain;
  /** The server of the last request track() saw while ready: the one comparison it makes per request. */
  private lastMet: unknown;
  private draining = false;
  private closing = false;
  private closingAt = 0;
  private endingUpgraded = false;
  private sampler: NodeJS.Timeout | undefined;
  private freshTimer: NodeJS.Timeout | undefined;
  private idleWaiters: Array<() => void> = [];
  private upgradedWaiters: Array<() => void> = [];
  /** From "stop accepting" on: long-lived connections are closed as they are found. */
  private longLivedAt: number | undefined;
  /** WebSocket connections podkit says goodbye on, until they close. */
  private readonly goodbyes = new Set<Socket>();
  /** SSE streams found, ended (or to be) by podkit. */
  private readonly streams = new Set<ServerResponse>();
  private goodbyeWaiters: Array<() => void> = [];
  private streamScan: NodeJS.Timeout | undefined;
  private readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => this.track(req, res);

  constructor(
    private readonly snapshot: HealthSnapshot,
    private readonly longLived: ResolvedLongLivedOptions = { ...DEFAULTS.longLived },
  ) {
    this.h2 = new Http2Drain((delta) => this.snapshot.addInFlight(delta), this.longLived);
    this.connections = new Connections({
      opened: (socket, server, handshaking) => this.opened(socket, server, handshaking, Date.now()),
      secured: (socket, raw, server) => {
        const pending = raw && this.accounts.get(raw);
        if (raw) this.accounts.delete(raw);
        // The grace counts from when the connection was accepted, not from the end of the handshake.
        this.opened(socket, server, false, pending ? pending.openedAt : Date.now());
      },
      closed: (socket) => this.closed(socket),
    });
  }

  /** Drain this server at shutdown: follow its connections now, close its listener at the drain. Idempotent. */
  attach(server: MainServer): void {
    if (isHttp2Server(server)) {
      this.h2.attach(server);
      return;
    }
    if (this.owned.has(server)) return;
    this.owned.add(server);
    if (this.closing) {
      // Handed over after the drain began (stop() raced start()): it must never take traffic.
      if (server.listening) stopListening(server);
      else server.once('listening', () => stopListening(server));
    }
    this.follow(server);
  }

  /**
   * For adapters, and code that sees requests of a server podkit may not have been given. While
   * ready: nothing per request; the request's server is noted once and followed from then on.
   * While draining: the request is counted until its response (or its socket) closes, and marked
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
    if ((req as Tracked)[kTracked]) return;
    const socket = req.socket as Socket | null;
    if (!socket || socket.destroyed) {
      (req as Tracked)[kTracked] = true;
      return;
    }
    // A server met for the first time during the drain is followed (its busy connections counted)
    // from now; a socket whose server podkit cannot see is followed on its own.
    const server = serverOf(socket);
    if (server) this.follow(server);
    if (this.connections.add(socket, false)) this.opened(socket, server, false, Date.now());
    const account = this.accounts.get(socket);
    if (account) this.count(socket, account, req, res, true);
  }

  /** Requests in flight: counted exactly while draining; while ready, the connections with a response on the wire, counted now. */
  get inFlight(): number {
    return this.draining ? this.snapshot.inFlight : this.connections.responsesOnWire() + this.h2.streams;
  }

  /**
   * Forensics: each request in flight with its method, path (no query string) and age, SSE streams
   * left out (they are long-lived). While ready nothing is counted, so requests on the wire are
   * listed without an age.
   */
  inFlightRequests(): InFlightRequest[] {
    const now = Date.now();
    const responses = this.draining ? [...this.accounts.values()].flatMap((a) => a.responses) : this.connections.onWire();
    return responses
      .filter((res) => !isEventStream(res))
      .map((res) => {
        const counted = (res as Counted)[kCounted];
        const request = { method: res.req.method ?? 'GET', path: pathOf(res.req.url) };
        return counted ? { ...request, ageMs: now - counted.at, atLeast: !counted.exact } : request;
      });
  }

  /** Forensics: long-lived connections open now, by kind. */
  longLivedOpen(): Record<string, number> {
    let websocket = 0;
    let upgraded = 0;
    for (const socket of new Set([...this.connections.http, ...this.upgraded])) {
      if (socket.destroyed || !isUpgraded(socket)) continue;
      if (isWebSocket(socket)) websocket += 1;
      else upgraded += 1;
    }
    const responses = this.draining ? [...this.accounts.values()].flatMap((a) => a.responses) : this.connections.onWire();
    const sse = responses.filter((res) => !res.closed && isEventStream(res)).length;
    return { websocket, sse, upgraded, 'http2 sessions': this.h2.sessions.size, 'http2 streams': this.h2.streams };
  }

  get openSockets(): number {
    return this.connections.http.size + this.connections.handshakes.size + this.upgraded.size + this.h2.sessions.size;
  }

  /**
   * For lifecycles that serve /metrics: while ready, keeps the snapshot's in-flight count within
   * IN_FLIGHT_SAMPLE_MS of the truth; the drain's exact count takes over when it begins. Returns
   * the function that stops it.
   */
  sampleInFlight(): () => void {
    const sample = () => {
      if (!this.draining) this.snapshot.setInFlight(this.connections.responsesOnWire() + this.h2.streams);
    };
    sample();
    clearInterval(this.sampler);
    // Unref'd: a gauge never keeps the process alive.
    this.sampler = setInterval(sample, IN_FLIGHT_SAMPLE_MS).unref();
    return () => clearInterval(this.sampler);
  }

  /**
   * Drain step 1: from now on every response carries `Connection: close`, so keep-alive clients
   * finish their current request and reconnect, through the load balancer, to another replica.
   * kube-proxy only steers new connections; an established keep-alive connection keeps
   * arriving here until the server closes it. The accounting starts here (see the top of this file).
   */
  startDraining(): void {
    if (this.draining) return;
    this.draining = true;
    clearInterval(this.sampler);
    // The sample (or nothing) gives way to the exact count, built up from here.
    this.snapshot.setInFlight(0);
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
    for (const socket of this.connections.http) this.account(socket, false, now, midRequest.has(socket));
    for (const socket of this.connections.handshakes) this.account(socket, true, now, false);
  }

  /**
   * Drain step 2: stop accepting, close idle sockets, let in-flight requests finish. Resolves when
   * every HTTP socket is closed; upgraded connections stay open for holds and shutdown hooks and
   * are ended by `closeUpgraded()`. `http.Server#close` is not used because in Node ≥ 19 it also
   * destroys every socket without a request in progress, including one whose first request is on
   * the wire, and every upgraded one.
   */
  async close(): Promise<void> {
    this.startDraining();
    this.closing = true;
    this.closingAt = Date.now();
    for (const server of this.owned) stopListening(server);
    this.startClosingLongLived();
    this.sweep();
    this.scanStreams();
    await Promise.all([this.drained(), this.goodbyesDone(), this.h2.close()]);
  }

  /**
   * After holds and shutdown hooks (which may have said goodbye over them): end every upgraded
   * connection, and destroy one whose peer does not close its side within UPGRADED_END_BOUND_MS.
   * Resolves when all of them are closed.
   */
  closeUpgraded(): Promise<void> {
    this.endingUpgraded = true;
    for (const socket of this.upgraded) endUpgraded(socket);
    if (this.upgraded.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.upgradedWaiters.push(resolve));
  }

  /** Past the shutdown budget: cut every connection that is left. */
  destroyAll(): void {
    clearInterval(this.streamScan);
    this.h2.destroyAll();
    for (const socket of [...this.connections.http, ...this.connections.handshakes, ...this.upgraded]) socket.destroy();
    for (const server of this.owned) {
      if (server.listening) server.close();
      server.closeAllConnections();
    }
  }

  // --- connections -------------------------------------------------------------------------------

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
    this.account(socket, handshaking, openedAt, midRequest);
    if (this.closing) this.closeIfIdle(socket);
  }

  private closed(socket: Socket): void {
    this.upgraded.delete(socket);
    this.goodbyes.delete(socket);
    const account = this.accounts.get(socket);
    if (account) {
      this.accounts.delete(socket);
      // Responses still counted here never will close on their own: release them with the socket.
      this.snapshot.addInFlight(-account.responses.length);
      account.responses.length = 0;
    }
    this.notifyIfDrained();
  }

  // --- the drain's accounting --------------------------------------------------------------------

  private account(socket: Socket, handshaking: boolean, openedAt: number, midRequest: boolean): SocketAccount {
    const existing = this.accounts.get(socket);
    if (existing) return existing;
    // Mid-request: bytes of a request came before this record did, so "bytes since idle" starts at 0.
    const account: SocketAccount = { responses: [], openedAt, idleAt: openedAt, bytesReadWhenIdle: midRequest ? 0 : socket.bytesRead, handshaking };
    this.accounts.set(socket, account);
    if (!handshaking) this.countResponseOnWire(socket, account);
    return account;
  }

  /** Counts the response Node has on this socket's wire, unless it is counted already. True when there is one. */
  private countResponseOnWire(socket: Socket, account: SocketAccount): boolean {
    const res = responseOnWire(socket);
    if (!res) return false;
    this.count(socket, account, res.req, res);
    return true;
  }

  private count(socket: Socket, account: SocketAccount, req: IncomingMessage, res: ServerResponse, arriving = false): void {
    if ((req as Tracked)[kTracked]) return;
    (req as Tracked)[kTracked] = true;
    (res as Counted)[kCounted] = { at: Date.now(), exact: arriving };
    // Already gone (a middleware awaited while the client left, or track() came late): its
    // 'close' was emitted before this or never will be, so counting it would hold inFlight and the
    // drain until the shutdown timeout. Nothing can be written to it anyway.
    if (socket.destroyed || res.destroyed || res.closed || res.writableFinished) return;
    account.responses.push(res);
    this.snapshot.addInFlight(1);
    // Headers already out: the socket is closed once this response completes (release()).
    if (!res.headersSent) res.setHeader('connection', 'close');
    res.on('close', () => this.release(socket, account, res));
  }

  private release(socket: Socket, account: SocketAccount, res: ServerResponse): void {
    const index = account.responses.indexOf(res);
    // Released already, with its socket.
    if (index === -1) return;
    account.responses.splice(index, 1);
    this.snapshot.addInFlight(-1);
    account.idleAt = Date.now();
    account.bytesReadWhenIdle = socket.bytesRead;
    // HTTP pipelining: by this 'close' Node has put the next queued response on the wire. One
    // queued while the service was ready was never counted: it is now, and told to close.
    if (!socket.destroyed) this.countResponseOnWire(socket, account);
    // Node's own bookkeeping for this response runs first; then a socket kept alive by a
    // response that began before the drain is closed here.
    if (this.closing) setImmediate(() => this.closeIfIdle(socket));
    this.notifyIfDrained();
  }

  // --- long-lived connections ----------------------------------------------------------------------

  private startClosingLongLived(): void {
    if (this.longLivedAt !== undefined) return;
    this.longLivedAt = Date.now();
    // Their budget: whatever is still open past it is cut. Unref'd: the shutdown's own deadline
    // (ref'd) bounds the process; this one only makes the step shorter.
    setTimeout(() => {
      for (const socket of this.goodbyes) socket.destroy();
      for (const res of this.streams) if (!res.closed) res.socket?.destroy();
    }, this.longLived.budgetMs).unref();
    // A response that turns into a stream after this (its headers not out yet) is found here.
    this.streamScan = setInterval(() => this.scanStreams(), STREAM_SCAN_MS).unref();
  }

  /** A random moment of what is left of the close window: reconnections are spread, not stampeded. */
  private jitter(): number {
    const elapsed = Date.now() - (this.longLivedAt ?? Date.now());
    return Math.random() * Math.max(0, this.longLived.closeWindowMs - elapsed);
  }

  /** Schedules podkit's close frame on an upgraded WebSocket connection. False when it is not podkit's to close. */
  private sayGoodbye(socket: Socket): boolean {
    if (this.longLivedAt === undefined || this.longLived.webSocketGoodbye !== 'podkit' || !isWebSocket(socket)) return false;
    if (this.goodbyes.has(socket)) return true;
    this.goodbyes.add(socket);
    setTimeout(() => sayGoingAway(socket, this.longLived.closeTimeoutMs, endUpgraded), this.jitter());
    return true;
  }

  private scanStreams(): void {
    for (const account of this.accounts.values()) {
      for (const res of account.responses) {
        if (this.streams.has(res) || !isEventStream(res)) continue;
        this.streams.add(res);
        res.once('close', () => this.streams.delete(res));
        setTimeout(() => endEventStream(res, this.longLived.sseRetryMs), this.jitter());
      }
    }
  }

  private goodbyesDone(): Promise<void> {
    if (this.goodbyes.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.goodbyeWaiters.push(resolve));
  }

  // --- closing -----------------------------------------------------------------------------------

  private drained(): Promise<void> {
    if (this.httpLeft() === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private httpLeft(): number {
    return this.connections.http.size + this.connections.handshakes.size;
  }

  private notifyIfDrained(): void {
    if (this.httpLeft() === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      // Reset the handle too: a socket that arrives later still needs a timer of its own.
      clearTimeout(this.freshTimer);
      this.freshTimer = undefined;
      clearInterval(this.streamScan);
      for (const resolve of waiters) resolve();
    }
    if (this.goodbyes.size === 0 && this.goodbyeWaiters.length > 0) {
      const waiters = this.goodbyeWaiters;
      this.goodbyeWaiters = [];
      for (const resolve of waiters) resolve();
    }
    if (this.upgraded.size === 0 && this.upgradedWaiters.length > 0) {
      const waiters = this.upgradedWaiters;
      this.upgradedWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private sweep(): void {
    for (const socket of [...this.connections.http, ...this.connections.handshakes]) this.closeIfIdle(socket);
  }

  private closeIfIdle(socket: Socket): void {
    const account = this.accounts.get(socket);
    if (!account || account.responses.length > 0 || socket.destroyed) return;
    if (!account.handshaking) {
      if (isUpgraded(socket)) {
        // No longer HTTP's: it stays open while holds and hooks run (a hook may say goodbye on it).
        this.connections.http.delete(socket);
        this.accounts.delete(socket);
        this.upgraded.add(socket);
        if (!this.sayGoodbye(socket) && this.endingUpgraded) endUpgraded(socket);
        this.notifyIfDrained();
        return;
      }
      // Node's record as well as podkit's count: a response on the wire is never cut.
      if (this.countResponseOnWire(socket, account)) return;
    }
    // Node's parser consumes the socket natively, so bytes read since the last response are the
    // only sign of a request that has begun to arrive (Node's closeIdleConnections spares those too).
    const bytesRead = socket.bytesRead;
    const fresh = account.handshaking || bytesRead === 0;
    const midRequest = bytesRead > account.bytesReadWhenIdle;
    const waited = Date.now() - (fresh ? account.openedAt : Math.max(account.idleAt, this.closingAt));
    if ((!fresh && !midRequest) || waited >= FRESH_SOCKET_GRACE_MS) {
      // A handshake has nothing to flush. Otherwise destroySoon: flush what is written, then close.
      if (account.handshaking) socket.destroy();
      else socket.destroySoon();
      return;
    }
    // A fresh socket, or one mid-request: look again when its grace is over (one timer for all of them).
    if (!this.freshTimer) {
      this.freshTimer = setTimeout(() => {
        this.freshTimer = undefined;
        this.sweep();
      }, FRESH_SOCKET_GRACE_MS - waited + 1);
    }
  }
}

/** FIN after whatever the hooks wrote; destroyed if the peer has not closed its side in time. */
function endUpgraded(socket: Socket): void {
  if (socket.destroyed) return;
  socket.end();
  const timer = setTimeout(() => socket.destroy(), UPGRADED_END_BOUND_MS);
  socket.once('close', () => clearTimeout(timer));
}

/**
 * Stop accepting without http.Server's pre-close step (which destroys idle sockets): http.Server
 * and https.Server both inherit net.Server's close, which only closes the listening socket.
 */
function stopListening(server: Http1Server): void {
  if (server.listening) (NetServer.prototype.close as (this: Http1Server) => void).call(server);
}
