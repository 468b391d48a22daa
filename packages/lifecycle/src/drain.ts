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
import { Server as NetServer, type Socket } from 'node:net';
import type { HealthSnapshot } from './state.js';

export type MainServer = HttpServer | HttpsServer;

/**
 * A socket that has never carried a request was accepted moments ago and may have a request on
 * the wire: it gets this long to send it (and be answered with `Connection: close`) before it is
 * closed. So does a kept-alive socket whose next request is half-way in (bytes read since its last
 * response, not yet a full request). Idle keep-alive sockets are closed at once.
 */
const FRESH_SOCKET_GRACE_MS = 500;

/** Marks a request already counted, so the server listener and an adapter never count it twice. */
const kTracked = Symbol('podkit.tracked');

interface SocketState {
  active: number;
  served: number;
  openedAt: number;
  /** When its last response closed, and `socket.bytesRead` then: more bytes since mean a request is arriving. */
  idleAt: number;
  bytesReadWhenIdle: number;
}

export class RequestDrain {
  /** Every socket of every tracked server, by the socket that carries requests (TLS socket for HTTPS). */
  private readonly sockets = new Map<Socket, SocketState>();
  private readonly responses = new Set<ServerResponse>();
  private readonly servers = new Set<MainServer>();
  private draining = false;
  private closing = false;
  private closingAt = 0;
  private freshTimer: NodeJS.Timeout | undefined;
  private idleWaiters: Array<() => void> = [];

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
    // TLS: the socket that carries requests is the TLS socket, announced by 'secureConnection'.
    const connectionEvent = 'setSecureContext' in server ? 'secureConnection' : 'connection';
    server.on(connectionEvent, (socket: Socket) => this.addSocket(socket));
    // First in line, so the header is set before any framework writes the response.
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => this.track(req, res));
  }

  /** Count a request as in flight until its response closes. Idempotent per request. */
  track(req: IncomingMessage, res: ServerResponse): void {
    // A flag on the request rather than a WeakSet: this runs on every request, and tens of
    // thousands of short-lived WeakSet entries a second are a measurable GC cost (ephemerons).
    const flagged = req as IncomingMessage & { [kTracked]?: true };
    if (flagged[kTracked]) return;
    flagged[kTracked] = true;
    const socket = req.socket;
    const state = this.addSocket(socket);
    state.active += 1;
    state.served += 1;
    this.snapshot.inFlight += 1;
    this.responses.add(res);
    if (this.draining) this.closeAfterResponse(res);
    // 'close' fires once per response; `on` spares the wrapper `once` allocates.
    res.on('close', () => {
      state.active -= 1;
      this.snapshot.inFlight -= 1;
      this.responses.delete(res);
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
    });
  }

  get inFlight(): number {
    return this.responses.size;
  }

  get openSockets(): number {
    return this.sockets.size;
  }

  /**
   * Drain step 1: from now on every response carries `Connection: close`, so keep-alive clients
   * finish their current request and reconnect, through the load balancer, to another replica.
   * kube-proxy only steers new connections; an established keep-alive connection keeps
   * arriving here until the server closes it.
   */
  startDraining(): void {
    this.draining = true;
    for (const res of this.responses) this.closeAfterResponse(res);
  }

  /**
   * Drain step 2: stop accepting, close idle sockets, let in-flight requests finish. Resolves when
   * every socket is closed. `http.Server#close` is not used because in Node ≥ 19 it also destroys
   * every socket without a request in progress, including one whose first request is on the wire.
   */
  async close(): Promise<void> {
    this.startDraining();
    this.closing = true;
    this.closingAt = Date.now();
    for (const server of this.servers) stopListening(server);
    for (const socket of this.sockets.keys()) this.closeIfIdle(socket);
    await this.drained();
  }

  /** Past the shutdown budget: cut every connection that is left. */
  destroyAll(): void {
    for (const socket of this.sockets.keys()) socket.destroy();
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
      clearTimeout(this.freshTimer);
      for (const resolve of waiters) resolve();
    }
  }

  private addSocket(socket: Socket): SocketState {
    let state = this.sockets.get(socket);
    if (state) return state;
    state = { active: 0, served: 0, openedAt: Date.now(), idleAt: 0, bytesReadWhenIdle: 0 };
    this.sockets.set(socket, state);
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.notifyIfDrained();
    });
    if (this.closing) this.closeIfIdle(socket);
    return state;
  }

  private closeAfterResponse(res: ServerResponse): void {
    if (!res.headersSent) res.setHeader('connection', 'close');
    // Headers already out: the socket is closed once this response completes (see track()).
  }

  private closeIfIdle(socket: Socket): void {
    const state = this.sockets.get(socket);
    if (!state || state.active > 0 || socket.destroyed) return;
    // Node's parser consumes the socket natively, so bytes read since the last response are the
    // only sign of a request that has begun to arrive (Node's closeIdleConnections spares those too).
    const midRequest = state.served > 0 && socket.bytesRead > state.bytesReadWhenIdle;
    const waited = Date.now() - (state.served === 0 ? state.openedAt : Math.max(state.idleAt, this.closingAt));
    if ((state.served > 0 && !midRequest) || waited >= FRESH_SOCKET_GRACE_MS) {
      // destroySoon: flush what is written, then close.
      socket.destroySoon();
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
 * Stop accepting without http.Server's pre-close step (which destroys idle sockets): http.Server
 * and https.Server both inherit net.Server's close, which only closes the listening socket.
 */
function stopListening(server: MainServer): void {
  if (server.listening) (NetServer.prototype.close as (this: MainServer) => void).call(server);
}
