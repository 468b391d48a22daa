/**
 * The probe listener: a bare `node:http` server on its own port. No framework, no middleware,
 * nothing that awaits; and limits tight enough that a slow or hostile client cannot starve it.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { ResolvedProbeOptions } from '../options-resolved.js';
import type { DiagnosticsHandler } from '../diagnostics/http.js';
import type { ProbeAnswer, ProbeRequest } from './answers.js';
import type { LateRoute } from './pre-stop.js';

/** A probe listener, wherever it runs (see probes/index.ts). */
export interface ProbeListener {
  /** Opens the port; rejects with the listen error (EADDRINUSE…) as `server.listen` gives it. */
  listen(): Promise<AddressInfo>;
  /** Closes the port and every probe connection. */
  close(): Promise<void>;
}

export interface ProbeServer extends ProbeListener {
  readonly server: Server;
}

/** How long a socket that sent a malformed request may go on sending before it is destroyed, in ms. */
const LINGER_MS = 500;
const discard = (): void => {};

/**
 * Lingering close: closing a socket while its client is still sending makes the kernel answer with
 * a reset, which throws away the response before the client reads it (the client sees EPIPE or
 * ECONNRESET instead of the status). Send FIN, read and discard what is still coming, and close
 * when the client does, or after LINGER_MS at the most.
 */
function lingeringClose(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.writable) socket.end();
  socket.on('data', discard);
  socket.resume();
  socket.once('end', () => socket.destroy());
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

function send(res: ServerResponse, result: ProbeAnswer): void {
  res.shouldKeepAlive = false;
  res.writeHead(result.status, { ...result.headers, connection: 'close' });
  res.end(result.body);
}

/** Sockets that have not yet sent a complete request; the only ones ever evicted. */
const kWaiting = Symbol('podkit.probe.waiting');
type ProbeSocket = Socket & { [kWaiting]?: boolean };

/**
 * `late`: a route answered later (the preStop endpoint), asked first; the probe answers take what it leaves.
 * `diagnostics`: the guarded diagnostic routes, when enabled; it takes the requests it handles (and
 * streams their answers itself) and leaves the rest to the others.
 */
export function createProbeServer(
  answer: (request: ProbeRequest) => ProbeAnswer,
  options: ResolvedProbeOptions,
  late?: LateRoute,
  diagnostics?: DiagnosticsHandler,
): ProbeServer {
  const server = createServer(
    {
      maxHeaderSize: options.maxHeaderSize,
      headersTimeout: options.headersTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      // Node checks those two timeouts on this interval (30 s by default): check often enough
      // for the limits to mean something.
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(options.headersTimeoutMs / 2))),
      // The kubelet opens a fresh connection per probe; keep-alive would only let clients hold sockets.
      keepAlive: false,
      noDelay: true,
    },
    (req: IncomingMessage, res: ServerResponse) => {
      (req.socket as ProbeSocket)[kWaiting] = false;
      if (diagnostics?.(req, res)) return;
      const request = { method: req.method ?? 'GET', url: req.url ?? '/', accept: req.headers.accept };
      // A request body is never read; drop it instead of buffering it.
      req.resume();
      const routed = late?.({ ...request, authorization: req.headers.authorization });
      if (routed instanceof Promise) {
        // Answered when the drain delay is over: the idle timeout below must not cut it meanwhile.
        req.socket.setTimeout(0);
        void routed.then((result) => {
          // The caller may have gone meanwhile (the probe port closing cuts it too).
          if (!res.destroyed) send(res, result);
        });
        return;
      }
      send(res, routed ?? answer(request));
    },
  );
  server.keepAliveTimeout = 1;

  // Connection cap. Past `maxConnections`, the oldest socket still waiting for its request is
  // dropped to make room: the newest caller (the kubelet, every 10 s) always gets through, while a
  // slowloris holding hundreds of half-sent requests only ever loses its own oldest ones.
  const sockets = new Set<ProbeSocket>();
  server.on('connection', (socket: ProbeSocket) => {
    socket[kWaiting] = true;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    // Belt and braces for what headersTimeout does not cover (a socket that never sends a byte).
    socket.setTimeout(options.requestTimeoutMs, () => socket.destroy());
    // Node closes a socket after its `Connection: close` response with destroySoon(): make that a
    // lingering close too, so a client that pipelined more still reads the answer it got.
    socket.destroySoon = () => lingeringClose(socket);
    if (sockets.size > options.maxConnections && !sweeping) {
      // Not here, but after this turn of the loop has read what already arrived: a caller that sent
      // its whole request with its connection (the kubelet does) is answered, not waiting, by then.
      // Evicting at once would let a burst of reconnecting attackers push it out unread.
      sweeping = true;
      setImmediate(evictOldestWaiting);
    }
  });

  let sweeping = false;
  function evictOldestWaiting(): void {
    sweeping = false;
    // Insertion order: oldest first. The newest connection is never the one dropped.
    for (const candidate of sockets) {
      if (sockets.size <= options.maxConnections) break;
      if (candidate[kWaiting]) {
        candidate.destroy();
        sockets.delete(candidate);
      }
    }
  }

  // CONNECT never reaches the request handler: Node hands it to 'connect' listeners and, when there
  // are none, closes the socket without a word. Answer it like any other method (405, or 404 for a
  // target that is no probe path), so that every request on the probe port gets a status.
  server.on('connect', (req: IncomingMessage, socket: Socket) => {
    (socket as ProbeSocket)[kWaiting] = false;
    const result = answer({ method: req.method ?? 'CONNECT', url: req.url ?? '', accept: req.headers.accept });
    const headers = Object.entries({ ...result.headers, connection: 'close' }).map(([name, value]) => `${name}: ${value}\r\n`);
    socket.end(`HTTP/1.1 ${result.status} ${STATUS_CODES[result.status] ?? ''}\r\n${headers.join('')}\r\n${result.body}`);
  });

  // Malformed or oversized requests get an answer and a closed socket; never a crash.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (socket.writable && !socket.destroyed) {
      const status =
        error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      lingeringClose(socket);
      return;
    }
    socket.destroy();
  });

  let closed = false;
  const close = () =>
    new Promise<void>((resolve) => {
      closed = true;
      if (!server.listening) {
        resolve();
        return;
      }
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });

  return {
    server,
    listen: () =>
      new Promise<AddressInfo>((resolve, reject) => {
        const onError = (error: Error) => reject(error);
        server.once('error', onError);
        server.listen({ port: options.port, host: options.host }, () => {
          server.off('error', onError);
          const address = server.address() as AddressInfo;
          // close() came while the port was being bound (stop() raced start()): close it now.
          if (closed) void close();
          resolve(address);
        });
      }),
    close,
  };
}
