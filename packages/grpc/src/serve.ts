/**
 * A grpc-js `Server` run by the lifecycle, from bind to exit:
 *
 *   start:    bindAsync (a warmup: its failure is the start-failure path, exit 75 with the reason)
 *             → a real Health/Check RPC to itself, over TLS when TLS is configured → ready
 *   SIGTERM:  Health answers NOT_SERVING in the same tick, Watch streams are told at once
 *             → the lifecycle's drain delay: RPCs keep being served
 *             → "stop accepting" (lifecycle.signal): Watch streams end, `tryShutdown()` closes the
 *               listener and sends GOAWAY on every connection; in-flight RPCs and streams finish;
 *               a hold keeps the shutdown hooks waiting until they have
 *             → the lifecycle's deadline, if it comes first: `forceShutdown()` (RST_STREAM CANCEL)
 *
 * Every timing is the lifecycle's (drainDelayMs, shutdownTimeoutMs, the warmup timeout); this module
 * decides none. It uses only the core's public API: warmup(), hold(), signal, on('exit').
 */
import { Client, credentials as channelCredentials, ServerCredentials, type ChannelCredentials, type ChannelOptions, type Server } from '@grpc/grpc-js';
import { InvalidOptionError, PodkitError, type Lifecycle } from '@podkit/lifecycle';
import { GRPC_DEFAULTS } from './defaults.js';
import { callCheck, GrpcHealthError, HEALTH_SERVICE, type ServingStatus } from './health-protocol.js';
import { createHealthService, type HealthOptions, type HealthService } from './health-service.js';
import { assertLifecycle, durationMs, knownKeys, plainObject, string, stringList } from './validate.js';

/** The server's Health/Check RPC to itself, before it reports ready. */
export interface SelfCheckOptions {
  /** Deadline of the RPC, in ms. @default 5000 */
  deadlineMs?: number;
  /**
   * Host to dial. @default the bound host; `127.0.0.1` for `0.0.0.0`, `[::1]` for `[::]`
   */
  host?: string;
  /**
   * The CA (PEM) that signed the server's certificate, when the server speaks TLS: the self-dial
   * verifies the certificate as real clients will. @default the system's root CAs
   */
  rootCerts?: Buffer;
  /**
   * The name on the server's certificate: sent as SNI and checked against the certificate, since
   * the self-dial usually dials a loopback address the certificate does not name.
   * @default the dialled host
   */
  servername?: string;
  /** Client credentials for the self-dial, instead of the ones built from `rootCerts` (mutual TLS: add a client certificate). @default built from the server's credentials */
  credentials?: ChannelCredentials;
}

export interface ServeGrpcOptions {
  /** Where to bind, as `server.bindAsync` takes it: `'0.0.0.0:50051'`, `'[::]:50051'`, `'127.0.0.1:0'`, `'unix:/run/app.sock'`. */
  address: string;
  /** @default ServerCredentials.createInsecure() */
  credentials?: ServerCredentials;
  /** Add `grpc.health.v1.Health` (Check, Watch) answering from the lifecycle; `false` to leave it out. @default true */
  health?: boolean | HealthOptions;
  /** The Health/Check RPC the server makes to itself before ready; `false` to skip it. @default {} */
  selfCheck?: SelfCheckOptions | false;
  /** Name of the warmup (bind + self-check) and of the shutdown hold; give each server its own. @default 'grpc' */
  name?: string;
}

export interface GrpcServing {
  /** The server, as given. */
  readonly server: Server;
  /** The bound port once the warmup has bound it (the one picked, with port 0), else undefined. */
  readonly port: number | undefined;
  /** What the health service answers for `service` now (`SERVICE_UNKNOWN` where Check answers NOT_FOUND); undefined without it. */
  healthStatus(service?: string): ServingStatus | undefined;
}

/** The server could not bind its address (`ERR_PODKIT_GRPC_BIND_FAILED`): the start fails, exit 75. */
export class GrpcBindError extends PodkitError {
  /** What probes and logs show as the error's kind. */
  readonly kind = 'GRPC_BIND_FAILED';
  readonly address: string;

  constructor(address: string, cause: unknown) {
    super('ERR_PODKIT_GRPC_BIND_FAILED', `could not bind ${address}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'GrpcBindError';
    this.address = address;
  }
}

type ResolvedSelfCheck = Omit<SelfCheckOptions, 'deadlineMs'> & { deadlineMs: number };

/**
 * When, after "stop accepting", to look again for connections that became sessions late (TLS
 * handshakes that were under way), in ms. Handshakes take milliseconds; the last sweep is for a slow client.
 */
const LATE_SESSION_SWEEPS_MS = [250, 1000, 3000] as const;

interface ResolvedServeOptions {
  address: string;
  credentials: ServerCredentials;
  health: { services: string[] } | false;
  selfCheck: ResolvedSelfCheck | false;
  name: string;
}

function resolveServeOptions(value: unknown): ResolvedServeOptions {
  const o = plainObject('serveGrpc options', value);
  knownKeys('serveGrpc options', o, ['address', 'credentials', 'health', 'selfCheck', 'name']);
  if (typeof o.address !== 'string' || o.address.trim() === '') {
    throw new InvalidOptionError('address', o.address, "an address to bind, such as '0.0.0.0:50051'");
  }
  // Duck-typed rather than instanceof, which a second copy of grpc-js in node_modules would fail.
  if (o.credentials !== undefined && (typeof o.credentials !== 'object' || o.credentials === null || typeof (o.credentials as ServerCredentials)._isSecure !== 'function')) {
    throw new InvalidOptionError('credentials', o.credentials, 'ServerCredentials from @grpc/grpc-js (createInsecure() or createSsl(…))');
  }
  let health: ResolvedServeOptions['health'];
  const wanted = o.health ?? GRPC_DEFAULTS.health;
  if (wanted === true) health = { services: [] };
  else if (wanted === false) health = false;
  else {
    const h = plainObject('health', wanted);
    knownKeys('health', h, ['services']);
    health = { services: stringList('health.services', h.services) };
  }
  let selfCheck: ResolvedServeOptions['selfCheck'];
  if (o.selfCheck === false) selfCheck = false;
  else {
    const s = o.selfCheck === undefined ? {} : plainObject('selfCheck', o.selfCheck);
    knownKeys('selfCheck', s, ['deadlineMs', 'host', 'rootCerts', 'servername', 'credentials']);
    if (s.rootCerts !== undefined && !Buffer.isBuffer(s.rootCerts)) throw new InvalidOptionError('selfCheck.rootCerts', s.rootCerts, 'a Buffer holding PEM certificates');
    if (s.credentials !== undefined && (typeof s.credentials !== 'object' || s.credentials === null || typeof (s.credentials as ChannelCredentials)._isSecure !== 'function')) {
      throw new InvalidOptionError('selfCheck.credentials', s.credentials, 'ChannelCredentials from @grpc/grpc-js (credentials.createSsl(…) …)');
    }
    selfCheck = {
      deadlineMs: durationMs('selfCheck.deadlineMs', s.deadlineMs, GRPC_DEFAULTS.selfCheckDeadlineMs),
      ...(s.host === undefined ? {} : { host: string('selfCheck.host', s.host, '', { allowEmpty: false }) }),
      ...(s.servername === undefined ? {} : { servername: string('selfCheck.servername', s.servername, '', { allowEmpty: false }) }),
      ...(s.rootCerts === undefined ? {} : { rootCerts: s.rootCerts as Buffer }),
      ...(s.credentials === undefined ? {} : { credentials: s.credentials as ChannelCredentials }),
    };
  }
  return {
    address: o.address,
    credentials: (o.credentials as ServerCredentials | undefined) ?? ServerCredentials.createInsecure(),
    health,
    selfCheck,
    name: string('name', o.name, GRPC_DEFAULTS.name, { allowEmpty: false }),
  };
}

/**
 * The address the self-dial uses: the bound one, with the port actually bound (port 0), and a
 * loopback address instead of a wildcard (`0.0.0.0` accepts connections, it cannot be dialled).
 */
export function selfTarget(address: string, port: number, host?: string): string {
  if (address.startsWith('unix:') || address.startsWith('unix-abstract:')) return address;
  const bare = address.replace(/^(dns:(\/\/[^/]*\/)?|ipv4:|ipv6:)/, '');
  const bracketed = /^\[([^\]]*)\](?::\d+)?$/.exec(bare);
  let bound = bracketed ? bracketed[1]! : bare.includes(':') ? bare.slice(0, bare.lastIndexOf(':')) : bare;
  if (host !== undefined) bound = host.replace(/^\[(.*)\]$/, '$1');
  else if (bound === '0.0.0.0' || bound === '') bound = '127.0.0.1';
  else if (bound === '::') bound = '::1';
  return bound.includes(':') ? `[${bound}]:${port}` : `${bound}:${port}`;
}

/** The self-dial speaks what the server speaks: plaintext to a plaintext server, TLS (verified) to a TLS one. */
function selfCredentials(server: ServerCredentials, options: SelfCheckOptions): ChannelCredentials {
  if (options.credentials) return options.credentials;
  // `_isSecure()` is how grpc-js itself tells TLS server credentials from insecure ones (public in its typings).
  return server._isSecure() ? channelCredentials.createSsl(options.rootCerts ?? null) : channelCredentials.createInsecure();
}

/**
 * Runs `server` under `lifecycle`: registers the warmup that binds it and makes its self-check, adds
 * the health service, and drains it at shutdown. Call it before `lifecycle.start()`; warmups run in
 * registration order, so register it first to bind before the other warmups run (readiness stays
 * NOT_SERVING until they are all done), or last to bind only once they have succeeded.
 *
 * ```ts
 * serveGrpc(lifecycle, server, { address: '0.0.0.0:50051' });
 * await lifecycle.start();                               // gRPC only
 * // or: await lifecycle.start(() => app.listen(3000));   // HTTP and gRPC under one lifecycle
 * ```
 */
export function serveGrpc(lifecycle: Lifecycle, server: Server, options: ServeGrpcOptions): GrpcServing {
  assertLifecycle('serveGrpc(lifecycle)', lifecycle);
  if (typeof server !== 'object' || server === null || typeof server.bindAsync !== 'function' || typeof server.tryShutdown !== 'function') {
    throw new InvalidOptionError('serveGrpc(server)', server, 'a Server from @grpc/grpc-js');
  }
  const config = resolveServeOptions(options);
  let port: number | undefined;
  // Set when the shutdown reaches "stop accepting": a bind that completes after it must not serve.
  let closing = false;
  let closed = false;

  // First, so that a call after start() throws the core's ERR_PODKIT_WARMUP_AFTER_START before anything changed.
  lifecycle.warmup(config.name, async (signal) => {
    port = await bind();
    signal.throwIfAborted();
    if (config.selfCheck) await selfCheck(port, config.selfCheck, signal);
  });

  const health: HealthService | undefined = config.health ? createHealthService(lifecycle, config.health.services) : undefined;
  if (health) server.addService(HEALTH_SERVICE, health.implementation);

  // Held from now on, released once the server has shut down: the shutdown hooks (closing the
  // pools the RPC handlers use) run only after the last RPC has finished.
  const release = lifecycle.hold(config.name);

  function bind(): Promise<number> {
    return new Promise((resolve, reject) => {
      try {
        server.bindAsync(config.address, config.credentials, (error, bound) => {
          if (error) {
            reject(new GrpcBindError(config.address, error));
            return;
          }
          // The warmup timed out or the shutdown began while the port was being bound: nobody will
          // drain this listener, and nothing can be in flight on it yet.
          if (closing) server.forceShutdown();
          resolve(bound);
        });
      } catch (error) {
        // A malformed address, or a server already shut down, throws instead of calling back.
        reject(new GrpcBindError(config.address, error));
      }
    });
  }

  async function selfCheck(bound: number, options: ResolvedSelfCheck, signal: AbortSignal): Promise<void> {
    const target = selfTarget(config.address, bound, options.host);
    const channelOptions: ChannelOptions = options.servername
      ? { 'grpc.ssl_target_name_override': options.servername, 'grpc.default_authority': options.servername }
      : {};
    const client = new Client(target, selfCredentials(config.credentials, options), channelOptions);
    try {
      // Any serving status proves the path a client takes: bind, TLS, HTTP/2, the gRPC framing and a
      // handler. NOT_SERVING is what it says now: the lifecycle is still warming.
      await callCheck(client, { service: '', deadlineMs: options.deadlineMs, signal });
    } catch (error) {
      // Without the health service the server answers UNIMPLEMENTED: still a real gRPC answer.
      if (!health && error instanceof GrpcHealthError && error.kind === 'GRPC_UNIMPLEMENTED') return;
      if (signal.aborted) throw error;
      const tls = config.credentials._isSecure() && !options.credentials
        ? ' (TLS: set selfCheck.rootCerts to the CA that signed the server certificate, and selfCheck.servername to the name on it)'
        : '';
      throw new GrpcHealthError(
        `the server on ${config.address} did not answer its own Health/Check at ${target}: ${error instanceof Error ? error.message : String(error)}${tls}`,
        error instanceof GrpcHealthError ? error.kind : 'GRPC_SELF_CHECK_FAILED',
        error instanceof GrpcHealthError ? error.grpcCode : 0,
        { cause: error },
      );
    } finally {
      client.close();
    }
  }

  // "Stop accepting": the drain delay is over (or there was none: a failed start, a crash).
  const drain = () => {
    closing = true;
    // Watchers have had NOT_SERVING since the tick the shutdown began; their streams would hold
    // tryShutdown, which waits for every open call.
    health?.close();
    // Closes the listener, sends GOAWAY on every connection and waits for the calls in flight; a
    // client sees GOAWAY and opens its next connection elsewhere (grpc-js: a new pick through the
    // load balancer), and a call it raced onto this connection is refused unprocessed, which grpc-js
    // retries transparently.
    let sweeps: NodeJS.Timeout[] = [];
    server.tryShutdown(() => {
      closed = true;
      for (const timer of sweeps) clearTimeout(timer);
      release();
    });
    // tryShutdown() says goodbye to the connections that exist when it is called. A TLS connection
    // whose handshake was under way when the listener closed becomes an HTTP/2 session only once
    // the handshake is done: it would never get GOAWAY, and the drain would wait for it until the
    // deadline. Calling tryShutdown() again closes the sessions that appeared since (the ones it
    // already closed are left as they are); a few sweeps, since each adds a listener inside grpc-js.
    // (Its callback runs at once when nothing was bound: then there is nothing to sweep.)
    if (!closed) sweeps = LATE_SESSION_SWEEPS_MS.map((ms) => setTimeout(() => server.tryShutdown(() => {}), ms).unref());
  };
  if (lifecycle.signal.aborted) drain();
  else lifecycle.signal.addEventListener('abort', drain, { once: true });

  // The lifecycle's deadline (shutdownTimeoutMs, or crashTimeoutMs after a crash or failed start)
  // has cut the HTTP sockets and is exiting: cut the gRPC streams too (RST_STREAM CANCEL) instead of
  // leaving them to the process's end. After a clean drain there is nothing left to cut.
  lifecycle.on('exit', () => {
    if (closed) return;
    closing = true;
    server.forceShutdown();
    closed = true;
    release();
  });

  return {
    server,
    get port() {
      return port;
    },
    healthStatus(service = '') {
      return health?.status(service);
    },
  };
}
