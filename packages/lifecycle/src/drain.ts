/**
 * Draining the main server: in-flight tracking, `Connection: close` during the drain, and closing
 * without resetting anybody.
 *
 * Why not http-terminator: it is unmaintained since 2022, it accepts connections that arrive while
 * it terminates and then resets them, and it destroys every socket still open when its timer
 * fires. Node ≥ 18.2 gives what it emulated (`closeIdleConnections`, `closeAllConnections`); the
 * one thing neither does is the bookkeeping below: count requests per socket so a socket is closed
 * the moment its last response is out, and let a socket accepted just before the listener closed
 * deliver the request it carries instead of killing it unread.
 */
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { Server as NetServer, Socket } from 'node:net';
import type { HealthSnapshot } from './state.js';

export type MainServer = HttpServer | HttpsServer;

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

/** Marks a request already seen, so the server listener and an adapter never count it twice. */
const kTracked = Symbol('podkit.tracked');

interface SocketState {
  /**
   * Responses counted on this socket whose 'close' has not come yet. Kept per socket, not in one
   * set, because a socket that dies takes them all: responses queued behind the one on the wire
   * (HTTP pipelining) are never given the socket and never emit 'close', so they are released
   * with the socket's own 'close'. An array: it almost always holds one response.
   */
  readonly responses: ServerResponse[];
  served: number;
  openedAt: number;
  /** When its last response closed, and `socket.bytesRead` then: more bytes since mean a request is arriving. */
  idleAt: number;
  bytesReadWhenIdle: number;
  /** The raw TCP socket of an HTTPS connection whose TLS handshake is not done: no HTTP on it yet. */
  handshaking: boolean;
}

export class RequestDrain {
  /**
   * Every HTTP socket of every tracked server, by the socket that carries requests (the TLS socket
   * for HTTPS), plus the raw TCP sockets of HTTPS connections still in their handshake.
   */
  private readonly sockets = new Map<Socket, SocketState>();
  /** Sockets handed to an 'upgrade' (WebSocket) or 'connect' listener, found at the drain: ended after the hooks. */
  private readonly upgraded = new Set<Socket>();
  private readonly servers = new Set<MainServer>();
  private draining = false;
  private closing = false;
  private closingAt = 0;
  private endingUpgraded = false;
  private freshTimer: NodeJS.Timeout | undefined;
  private idleWaiters: Array<() => void> = [];
  private upgradedWaiters: Array<() => void> = [];

  constructor(private readonly snapshot: HealthSnapshot) {}

  /** Follow a server's connections and requests. Idempotent. */
  attach(server: MainServer): void {
    if (this.servers.has(server)) return;
    this.servers.add(server);
    if (this.closing) {
      // Handed over after the drain began (stop() raced start()): it must never take traffic.
      if (server.listening) stopListening(server);
      else server.once('listening', () => stopListening(server));
    }
    if ('setSecureContext' in server) {
      // TLS: a connection is recorded the moment it is accepted, so one still in its handshake when
      // the listener closes gets the same grace as a plain one; at 'secureConnection' its record
      // moves to the TLS socket, which is the one that carries requests.
      server.on('connection', (raw: Socket) => this.addSocket(raw, true));
      server.on('secureConnection', (socket: Socket) => this.secured(socket));
    } else {
      server.on('connection', (socket: Socket) => this.addSocket(socket));
    }
    // First in line, so the header is set before any framework writes the response.
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => this.track(req, res));
  }

  /** Count a request as in flight until its response (or its socket) closes. Idempotent per request. */
  track(req: IncomingMessage, res: ServerResponse): void {
    // A flag on the request rather than a WeakSet: this runs on every request, and tens of
    // thousands of short-lived WeakSet entries a second are a measurable GC cost (ephemerons).
    const flagged = req as IncomingMessage & { [kTracked]?: true };
    if (flagged[kTracked]) return;
    flagged[kTracked] = true;
    const socket = req.socket as Socket | null;
    // Already gone (a middleware awaited while the client left, or track() came late): its
    // 'close' was emitted before this or never will be, so counting it would hold inFlight and the
    // drain until the shutdown timeout. Nothing can be written to it anyway.
    if (!socket || socket.destroyed || res.destroyed || res.closed || res.writableFinished) return;
    const state = this.addSocket(socket);
    state.responses.push(res);
    state.served += 1;
    this.snapshot.addInFlight(1);
    if (this.draining) this.closeAfterResponse(res);
    // 'close' fires once per response; `on` spares the wrapper `once` allocates.
    res.on('close', () => this.release(socket, state, res));
  }

  get inFlight(): number {
    return this.snapshot.inFlight;
  }

  get openSockets(): number {
    return this.sockets.size + this.upgraded.size;
  }

  /**
   * Drain step 1: from now on every response carries `Connection: close`, so keep-alive clients
   * finish their current request and reconnect, through the load balancer, to another replica.
   * kube-proxy only steers new connections; an established keep-alive connection keeps
   * arriving here until the server closes it.
   */
  startDraining(): void {
    this.draining = true;
    for (const state of this.sockets.values()) for (const res of state.responses) this.closeAfterResponse(res);
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
    for (const server of this.servers) stopListening(server);
    for (const socket of this.sockets.keys()) this.closeIfIdle(socket);
    await this.drained();
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
    for (const socket of this.sockets.keys()) socket.destroy();
    for (const socket of this.upgraded) socket.destroy();
    for (const server of this.servers) {
      if (server.listening) server.close();
      server.closeAllConnections();
    }
  }

  private drained(): Promise<void> {
    if (this.sockets.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private notifyIfDrained(): void {
    if (this.sockets.size === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      // Reset the handle too: a socket that arrives later still needs a timer of its own.
      clearTimeout(this.freshTimer);
      this.freshTimer = undefined;
      for (const resolve of waiters) resolve();
    }
    if (this.upgraded.size === 0 && this.upgradedWaiters.length > 0) {
      const waiters = this.upgradedWaiters;
      this.upgradedWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private addSocket(socket: Socket, handshaking = false, openedAt = Date.now()): SocketState {
    let state = this.sockets.get(socket);
    if (state) return state;
    const created: SocketState = { responses: [], served: 0, openedAt, idleAt: 0, bytesReadWhenIdle: 0, handshaking };
    state = created;
    this.sockets.set(socket, created);
    socket.once('close', () => {
      // Responses still counted here never will close on their own: release them with the socket.
      if (created.responses.length > 0) {
        this.snapshot.addInFlight(-created.responses.length);
        created.responses.length = 0;
      }
      // A handshaking socket's record may have moved to its TLS socket: only remove our own.
      if (this.sockets.get(socket) === created) this.sockets.delete(socket);
      this.upgraded.delete(socket);
      this.notifyIfDrained();
    });
    if (this.closing) this.closeIfIdle(socket);
    return created;
  }

  /** An HTTPS connection finished its handshake: its record moves from the raw socket to the TLS socket. */
  private secured(socket: Socket): void {
    const raw = this.handshakeOf(socket);
    const pending = raw && this.sockets.get(raw);
    if (raw && pending) this.sockets.delete(raw);
    // The grace counts from when the connection was accepted, not from the end of the handshake.
    this.addSocket(socket, false, pending ? pending.openedAt : Date.now());
  }

  /** The raw socket a TLS socket wraps: Node keeps it as `_parent`; else the handshaking socket from the same peer. */
  private handshakeOf(socket: Socket): Socket | undefined {
    const parent = (socket as Socket & { _parent?: unknown })._parent;
    if (parent instanceof Socket && this.sockets.get(parent)?.handshaking) return parent;
    for (const [candidate, state] of this.sockets) {
      if (state.handshaking && candidate.remotePort === socket.remotePort && candidate.remoteAddress === socket.remoteAddress) return candidate;
    }
    return undefined;
  }

  private release(socket: Socket, state: SocketState, res: ServerResponse): void {
    const index = state.responses.indexOf(res);
    // Released already, with its socket.
    if (index === -1) return;
    state.responses.splice(index, 1);
    this.snapshot.addInFlight(-1);
    if (this.closing) {
      state.idleAt = Date.now();
      state.bytesReadWhenIdle = socket.bytesRead;
      // Node's own bookkeeping for this response runs first; then a socket kept alive by a
      // response that began before the drain is closed here.
      setImmediate(() => this.closeIfIdle(socket));
    } else {
      state.bytesReadWhenIdle = socket.bytesRead;
    }
    this.notifyIfDrained();
  }

  private closeAfterResponse(res: ServerResponse): void {
    if (!res.headersSent) res.setHeader('connection', 'close');
    // Headers already out: the socket is closed once this response completes (see release()).
  }

  private closeIfIdle(socket: Socket): void {
    const state = this.sockets.get(socket);
    if (!state || state.responses.length > 0 || socket.destroyed) return;
    if (!state.handshaking && isUpgraded(socket)) {
      // No longer HTTP's: it stays open while holds and hooks run (a hook may say goodbye on it).
      this.sockets.delete(socket);
      this.upgraded.add(socket);
      if (this.endingUpgraded) endUpgraded(socket);
      this.notifyIfDrained();
      return;
    }
    // Node's parser consumes the socket natively, so bytes read since the last response are the
    // only sign of a request that has begun to arrive (Node's closeIdleConnections spares those too).
    const midRequest = state.served > 0 && socket.bytesRead > state.bytesReadWhenIdle;
    const waited = Date.now() - (state.served === 0 ? state.openedAt : Math.max(state.idleAt, this.closingAt));
    if ((state.served > 0 && !midRequest) || waited >= FRESH_SOCKET_GRACE_MS) {
      // A handshake has nothing to flush. Otherwise destroySoon: flush what is written, then close.
      if (state.handshaking) socket.destroy();
      else socket.destroySoon();
      return;
    }
    // A fresh socket, or one mid-request: look again when its grace is over (one timer for all of them).
    if (!this.freshTimer) {
      this.freshTimer = setTimeout(() => {
        this.freshTimer = undefined;
        for (const s of this.sockets.keys()) this.closeIfIdle(s);
      }, FRESH_SOCKET_GRACE_MS - waited + 1);
    }
  }
}

/**
 * Node frees a socket's HTTP parser when it hands the socket to an 'upgrade' (WebSocket) or
 * 'connect' listener (lib/_http_server.js, onParserExecuteCommon): a live socket whose parser is
 * `null` is no longer an HTTP connection to be closed as idle. (Adding an 'upgrade' listener to
 * learn of it would change Node's behaviour: with one, an upgrade request no longer reaches
 * 'request'.)
 */
function isUpgraded(socket: Socket): boolean {
  return (socket as Socket & { parser?: unknown }).parser === null;
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
function stopListening(server: MainServer): void {
  if (server.listening) (NetServer.prototype.close as (this: MainServer) => void).call(server);
}
