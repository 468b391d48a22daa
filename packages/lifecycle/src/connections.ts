/**
 * The open connections of the servers podkit drains, followed at the cost of a Set entry and a
 * shared 'close' listener each, and everything podkit reads of Node's HTTP server internals, in one
 * place.
 *
 * What Node keeps (lib/_http_server.js; its own closeIdleConnections reads the same fields):
 * - `socket._httpMessage` is the response on the wire, from the moment its request's headers are
 *   parsed until it has been flushed ('finish'). Responses pipelined behind it wait in a queue in
 *   a closure nobody else can reach; Node puts the next one on the wire when one finishes, unless
 *   that one carried `Connection: close`, after which it closes the socket and drops the queue.
 * - `server[kConnections]` (symbol `http.server.connections`, there once the server listens) holds
 *   the parser of every HTTP connection; `active()` lists those that have not received a whole
 *   request since their last one (a request half-way in, or none yet). It does not hold HTTPS
 *   connections still in their TLS handshake, nor sockets handed to an 'upgrade' listener.
 * - `socket.server` is the server of a connection, `socket.parser` its parser (`null` once the
 *   socket was upgraded), and a TLS socket's `_parent` the raw TCP socket it wraps.
 *
 * Upgrades: an 'upgrade' listener of podkit's marks a socket whose request asked for
 * `Upgrade: websocket`, so the drain can close it with a WebSocket close frame. It is only there
 * while the server has an 'upgrade' listener of someone else's: with any listener at all, Node
 * hands upgrade requests to 'upgrade' instead of 'request', so one of podkit's alone would leave
 * them unanswered. It is added (first in line) when another one is, and removed with the last one.
 *
 * Why a Set of podkit's own besides Node's list: it also holds connections handed over with
 * `server.emit('connection')` (Node's list only exists once the server listens), HTTPS connections
 * in their handshake and upgraded sockets. One listener function of each kind serves every server
 * and every socket, so following a connection allocates no closure: while the service is ready,
 * this Set is all podkit keeps, and requests are never looked at (see drain.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { isHttp1Server, type Http1Server } from './servers.js';

/** Set on a socket whose upgrade request asked for `Upgrade: websocket`. */
const kWebSocket = Symbol('podkit.websocket');

/** Node's own bookkeeping on a server-side socket. */
type NodeSocket = Socket & {
  [kWebSocket]?: true;
  _httpMessage?: ServerResponse | null;
  server?: unknown;
  parser?: unknown;
  _parent?: unknown;
};

/** What the drain hears from the connections it follows. */
export interface ConnectionEvents {
  /** A connection was accepted: `handshaking` for the raw socket of an HTTPS one. */
  opened(socket: Socket, server: Http1Server | undefined, handshaking: boolean): void;
  /** An HTTPS connection finished its handshake: `socket` (TLS) now carries what `raw` did. */
  secured(socket: Socket, raw: Socket | undefined, server: Http1Server): void;
  closed(socket: Socket): void;
}

export class Connections {
  /** Every open HTTP connection of the followed servers: the TLS socket for HTTPS. */
  readonly http = new Set<Socket>();
  /** Raw TCP sockets of HTTPS connections still in their TLS handshake: no HTTP on them yet. */
  readonly handshakes = new Set<Socket>();
  private readonly followed = new WeakSet<Http1Server>();
  // Plain functions, so Node's `this` (the server, the socket) tells them which one.
  private readonly onConnection: (this: Http1Server, socket: Socket) => void;
  private readonly onHandshakeStart: (this: Http1Server, socket: Socket) => void;
  private readonly onSecureConnection: (this: Http1Server, socket: Socket) => void;
  private readonly onClose: (this: Socket) => void;
  private readonly onNewListener: (this: Http1Server, event: string | symbol, listener: unknown) => void;
  private readonly onRemoveListener: (this: Http1Server, event: string | symbol) => void;

  constructor(private readonly events: ConnectionEvents) {
    const connections = this;
    this.onConnection = function (socket) {
      if (connections.add(socket, false)) events.opened(socket, this, false);
    };
    this.onHandshakeStart = function (socket) {
      if (connections.add(socket, true)) events.opened(socket, this, true);
    };
    this.onSecureConnection = function (socket) {
      connections.secured(socket, this);
    };
    this.onClose = function () {
      connections.http.delete(this);
      connections.handshakes.delete(this);
      events.closed(this);
    };
    this.onNewListener = function (event, listener) {
      if (event === 'upgrade' && listener !== onUpgrade) listenForUpgrades(this);
    };
    this.onRemoveListener = function (event) {
      if (event === 'upgrade' && this.listeners('upgrade').every((listener) => listener === onUpgrade)) this.removeListener('upgrade', onUpgrade);
    };
  }

  /** Follows every connection the server accepts from now on; returns those it already had. Idempotent. */
  follow(server: Http1Server): Socket[] {
    if (this.followed.has(server)) return [];
    this.followed.add(server);
    keepAliveOutlastsItsHint(server);
    if ('setSecureContext' in server) {
      // TLS: a connection is recorded the moment it is accepted, so one still in its handshake when
      // the listener closes gets the same grace as a plain one; at 'secureConnection' it moves to
      // the TLS socket, which is the one that carries requests.
      server.on('connection', this.onHandshakeStart);
      server.on('secureConnection', this.onSecureConnection);
    } else {
      server.on('connection', this.onConnection);
    }
    if (server.listenerCount('upgrade') > 0) listenForUpgrades(server);
    server.on('newListener', this.onNewListener);
    server.on('removeListener', this.onRemoveListener);
    return listedSockets(server, 'all').filter((socket) => this.add(socket, false));
  }

  /** Follows one connection (of a server followed late, or one podkit cannot see). True when it is new. */
  add(socket: Socket, handshaking: boolean): boolean {
    const set = handshaking ? this.handshakes : this.http;
    if (set.has(socket) || socket.destroyed) return false;
    set.add(socket);
    socket.on('close', this.onClose);
    return true;
  }

  /** The responses on the wire of every connection (forensics, while nothing is counted). */
  onWire(): ServerResponse[] {
    const responses: ServerResponse[] = [];
    for (const socket of this.http) {
      const res = responseOnWire(socket);
      if (res) responses.push(res);
    }
    return responses;
  }

  /** Connections with a response on the wire: the in-flight count, as far as Node tells it apart. */
  responsesOnWire(): number {
    let count = 0;
    for (const socket of this.http) if (responseOnWire(socket)) count += 1;
    return count;
  }

  private secured(socket: Socket, server: Http1Server): void {
    const raw = this.handshakeOf(socket);
    if (raw) this.handshakes.delete(raw);
    if (this.add(socket, false)) this.events.secured(socket, raw, server);
  }

  /** The raw socket a TLS socket wraps: Node keeps it as `_parent`; else the handshaking socket from the same peer. */
  private handshakeOf(socket: Socket): Socket | undefined {
    const parent = (socket as NodeSocket)._parent;
    if (parent instanceof Socket && this.handshakes.has(parent)) return parent;
    for (const candidate of this.handshakes) {
      if (candidate.remotePort === socket.remotePort && candidate.remoteAddress === socket.remoteAddress) return candidate;
    }
    return undefined;
  }
}

/** The server a connection belongs to, when it is one podkit can drain. */
export function serverOf(socket: Socket): Http1Server | undefined {
  const server = (socket as NodeSocket).server;
  return isHttp1Server(server) ? server : undefined;
}

/** The response Node has on this socket's wire and has not finished sending, if any. */
export function responseOnWire(socket: Socket): ServerResponse | undefined {
  const res = (socket as NodeSocket)._httpMessage;
  return res && !res.writableFinished && !socket.destroyed ? res : undefined;
}

/**
 * Node frees a socket's HTTP parser when it hands the socket to an 'upgrade' (WebSocket) or
 * 'connect' listener (onParserExecuteCommon): a live socket whose parser is `null` is no longer an
 * HTTP connection to be closed as idle. (Adding an 'upgrade' listener to learn of it would change
 * Node's behaviour: with one, an upgrade request no longer reaches 'request'.)
 */
export function isUpgraded(socket: Socket): boolean {
  return (socket as NodeSocket).parser === null;
}

/** True for an upgraded socket whose request asked for `Upgrade: websocket` (seen by podkit's 'upgrade' listener). */
export function isWebSocket(socket: Socket): boolean {
  return (socket as NodeSocket)[kWebSocket] === true;
}

/** One function for every server: `Upgrade: websocket` marks the socket, and nothing else is done. */
function onUpgrade(req: IncomingMessage, socket: Socket): void {
  const upgrade = req.headers.upgrade;
  if (typeof upgrade === 'string' && upgrade.toLowerCase() === 'websocket') (socket as NodeSocket)[kWebSocket] = true;
}

function listenForUpgrades(server: Http1Server): void {
  if (!server.listeners('upgrade').includes(onUpgrade)) server.prependListener('upgrade', onUpgrade);
}

interface ConnectionsList {
  all(): Array<{ socket?: unknown }>;
  active(): Array<{ socket?: unknown }>;
}

/**
 * The live sockets in Node's list of the server's HTTP connections: `all`, or the `active` ones.
 * Empty when the server never listened (connections handed over) or Node has no such list.
 */
export function listedSockets(server: Http1Server, which: 'all' | 'active'): Socket[] {
  const key = Object.getOwnPropertySymbols(server).find((symbol) => symbol.description === 'http.server.connections');
  const list = key === undefined ? undefined : ((server as unknown as Record<symbol, unknown>)[key] as Partial<ConnectionsList> | undefined);
  const read = list?.[which];
  if (typeof read !== 'function') return [];
  const sockets: Socket[] = [];
  for (const parser of read.call(list)) {
    if (parser.socket instanceof Socket && !parser.socket.destroyed) sockets.push(parser.socket);
  }
  return sockets;
}

/**
 * A keep-alive connection closed by the server at the very moment its client reuses it fails that
 * request ("socket hang up"), and no drain can help: the client sent it to a socket that was
 * already closing. Node's agent (and most clients) drop an idle socket after the `Keep-Alive:
 * timeout=N` the server advertises; until Node 24 the server closes it after exactly N seconds too,
 * so the two race. Node 24 keeps the socket a little longer than it advertises
 * (`keepAliveTimeoutBuffer`, 1 s); on older lines the same is had by raising `keepAliveTimeout` by
 * 999 ms, which the header (whole seconds, rounded down) does not show. A timeout the app chose off
 * the whole second, or 0 (keep-alive off), is left alone.
 */
function keepAliveOutlastsItsHint(server: Http1Server): void {
  // The types know the buffer from Node 22's; the Node running may not have it yet (20).
  const node = server as { keepAliveTimeout: number; keepAliveTimeoutBuffer?: number };
  if (node.keepAliveTimeoutBuffer !== undefined) return;
  if (node.keepAliveTimeout >= 1000 && node.keepAliveTimeout % 1000 === 0) node.keepAliveTimeout += 999;
}

