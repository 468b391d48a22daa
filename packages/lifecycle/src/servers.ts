/**
 * The kinds of main server podkit drains, told apart in one place, and how to stop one accepting.
 */
import type { Server as HttpServer } from 'node:http';
import type { Http2SecureServer, Http2Server } from 'node:http2';
import type { Server as HttpsServer } from 'node:https';
import { Server as NetServer } from 'node:net';

export type Http1Server = HttpServer | HttpsServer;
export type Http2MainServer = Http2Server | Http2SecureServer;
/** A server `start()` takes as the main server: HTTP/1 (http, https) or HTTP/2 (h2c, TLS). */
export type MainServer = Http1Server | Http2MainServer;

/** An http(s).Server, and not some other emitter found on a socket. */
export function isHttp1Server(value: unknown): value is Http1Server {
  return value instanceof NetServer && typeof (value as Http1Server).closeAllConnections === 'function';
}

/** An http2.Server (h2c) or http2.SecureServer: told apart from http(s).Server by its class, as Node exports no constructor for it. */
export function isHttp2Server(value: unknown): value is Http2MainServer {
  if (!(value instanceof NetServer)) return false;
  const name = value.constructor.name;
  return name === 'Http2Server' || name === 'Http2SecureServer';
}

/** The one decision "is this a main server": HTTP/1 (drained connection by connection, drain.ts) or HTTP/2 (long-lived/http2.ts). */
export function isMainServer(value: unknown): value is MainServer {
  return isHttp1Server(value) || isHttp2Server(value);
}

/**
 * Stop accepting, and nothing else: net.Server's close only closes the listening socket. The
 * servers' own close is not used: http.Server's pre-close step destroys idle sockets (in Node ≥ 19
 * every socket without a request in progress, including one whose first request is on the wire,
 * and every upgraded one), and Node ≥ 24's Http2Server#close also closes sessions.
 */
export function stopListening(server: MainServer): void {
  if (server.listening) (NetServer.prototype.close as (this: MainServer) => void).call(server);
}
