/**
 * A fault-injecting TCP proxy for tests: put it between a client and a real server (Redis,
 * Postgres, an HTTP service…) and break the link on demand, without touching the server itself
 * (shared servers are never stopped or reconfigured by a test).
 *
 *   const proxy = await startFaultProxy({ port: 6379 });   // target 127.0.0.1:6379; listens on 127.0.0.1:<free port>
 *   const redis = new Redis({ port: proxy.port });
 *
 *   proxy.down();       // "server down": each NEW connection is accepted and reset at once (the client sees
 *                       // ECONNRESET right after connecting); established connections live on, call cut() too
 *   proxy.cut();        // reset every established connection now (both sides); the mode is unchanged
 *   proxy.hang();       // black hole: new and established connections stay open but nothing moves either way;
 *                       // new connections do not even reach the server. Bytes are held, not dropped
 *   proxy.latency(200); // pass through, every chunk delayed 200 ms in each direction (order kept)
 *   proxy.pass();       // back to normal: held bytes are delivered, held connections reach the server
 *
 *   proxy.mode          // 'pass' | 'down' | 'hang' | 'latency'
 *   proxy.accepted      // connections accepted since start, refused ones included: "connection attempts"
 *   proxy.open          // connections open right now
 *   proxy.onConnection(fn) // fn() on every accepted connection; returns an unsubscribe function
 *   await proxy.stop(); // closes the listener and destroys every connection
 *
 * Why "down" resets instead of closing the port: a closed port would really refuse (ECONNREFUSED),
 * but getting the same port back later is not guaranteed (outgoing connections take ephemeral ports
 * too), and to a client a reset right after connecting is the same "server is not there" failure.
 *
 * Only loopback: the proxy listens on 127.0.0.1 unless `host` says otherwise.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export type FaultMode = 'pass' | 'down' | 'hang' | 'latency';

export interface FaultProxyOptions {
  /** Port of the real server. */
  port: number;
  /** Host of the real server. @default '127.0.0.1' */
  host?: string;
  /** Address the proxy listens on. @default '127.0.0.1' */
  listenHost?: string;
  /** Port the proxy listens on (0: any free one). @default 0 */
  listenPort?: number;
  /** Mode at start. @default 'pass' */
  mode?: FaultMode;
}

export interface FaultProxy {
  /** The port clients should connect to. */
  readonly port: number;
  readonly host: string;
  readonly mode: FaultMode;
  /** Current added latency per chunk and direction, in ms (0 unless in 'latency' mode). */
  readonly latencyMs: number;
  /** Connections accepted since start (including those reset in 'down' mode). */
  readonly accepted: number;
  /** Connections open now. */
  readonly open: number;
  pass(): void;
  down(): void;
  hang(): void;
  latency(ms: number): void;
  cut(): void;
  onConnection(listener: () => void): () => void;
  stop(): Promise<void>;
}

type Item = { chunk: Buffer; dueAt: number } | { end: true; dueAt: number };

/** One direction of one link: a queue released by time (latency) and by mode (hang holds it). */
class Channel {
  private readonly queue: Item[] = [];
  private timer: NodeJS.Timeout | undefined;
  private ended = false;

  constructor(
    private readonly proxy: { mode: FaultMode; latencyMs: number },
    private readonly sink: () => Socket | undefined,
  ) {}

  push(chunk: Buffer): void {
    this.queue.push({ chunk, dueAt: performance.now() + this.proxy.latencyMs });
    this.pump();
  }

  end(): void {
    this.queue.push({ end: true, dueAt: performance.now() + this.proxy.latencyMs });
    this.pump();
  }

  get endQueued(): boolean {
    return this.queue.some((item) => 'end' in item) || this.ended;
  }

  pump(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const sink = this.sink();
    if (this.proxy.mode === 'hang' || !sink || sink.connecting || sink.destroyed) return;
    const now = performance.now();
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.dueAt > now) {
        this.timer = setTimeout(() => this.pump(), Math.ceil(head.dueAt - now));
        return;
      }
      this.queue.shift();
      if ('end' in head) {
        this.ended = true;
        sink.end();
        return;
      }
      sink.write(head.chunk);
    }
  }

  clear(): void {
    clearTimeout(this.timer);
    this.queue.length = 0;
  }
}

class Link {
  upstream: Socket | undefined;
  readonly toUpstream: Channel;
  readonly toClient: Channel;

  constructor(
    readonly client: Socket,
    private readonly proxy: { mode: FaultMode; latencyMs: number; target: { host: string; port: number } },
    private readonly onClosed: (link: Link) => void,
  ) {
    this.toUpstream = new Channel(proxy, () => this.upstream);
    this.toClient = new Channel(proxy, () => this.client);
    client.on('data', (chunk: Buffer) => this.toUpstream.push(chunk));
    client.on('end', () => this.toUpstream.end());
    client.on('error', () => {});
    client.on('close', () => {
      // A client that closed cleanly lets its last bytes and its FIN through (when not held);
      // anything else tears the server side down at once.
      if (!this.toUpstream.endQueued || this.proxy.mode === 'hang' || !this.upstream) this.upstream?.destroy();
      this.closedIfBoth();
    });
    if (proxy.mode !== 'hang') this.connectUpstream();
  }

  /** Opens the server side; in 'hang' mode this waits, so a black-holed connection never reaches the server. */
  connectUpstream(): void {
    if (this.upstream || this.client.destroyed) return;
    const upstream = createConnection({ host: this.proxy.target.host, port: this.proxy.target.port });
    this.upstream = upstream;
    upstream.on('connect', () => this.toUpstream.pump());
    upstream.on('data', (chunk: Buffer) => this.toClient.push(chunk));
    upstream.on('end', () => this.toClient.end());
    upstream.on('error', () => {});
    upstream.on('close', () => {
      // A server that closed cleanly has its FIN queued behind its last bytes (and held in a hang);
      // a server that vanished takes the client's connection down with it.
      if (!this.toClient.endQueued) this.reset(this.client);
      this.closedIfBoth();
    });
  }

  /** Called on every mode change. */
  resume(): void {
    if (this.proxy.mode === 'down' && !this.upstream) {
      this.cut();
      return;
    }
    if (this.proxy.mode !== 'hang') this.connectUpstream();
    this.toUpstream.pump();
    this.toClient.pump();
  }

  cut(): void {
    this.toUpstream.clear();
    this.toClient.clear();
    this.reset(this.client);
    this.upstream?.destroy();
    this.closedIfBoth();
  }

  private reset(socket: Socket): void {
    if (socket.destroyed) return;
    // An RST, not a FIN: the abrupt failure a crashed server or a dropped network path produces.
    if (typeof socket.resetAndDestroy === 'function' && !socket.connecting) socket.resetAndDestroy();
    else socket.destroy();
  }

  private closedIfBoth(): void {
    if (this.client.destroyed && (!this.upstream || this.upstream.destroyed)) {
      this.toUpstream.clear();
      this.toClient.clear();
      this.onClosed(this);
    }
  }
}

/** Starts a proxy in front of `host:port` and resolves once it listens. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const state = {
    mode: options.mode ?? ('pass' as FaultMode),
    latencyMs: 0,
    target: { host: options.host ?? '127.0.0.1', port: options.port },
  };
  const links = new Set<Link>();
  const listeners = new Set<() => void>();
  let accepted = 0;

  const server: Server = createServer((socket) => {
    accepted += 1;
    for (const listener of listeners) listener();
    socket.setNoDelay(true);
    if (state.mode === 'down') {
      socket.on('error', () => {});
      socket.resetAndDestroy();
      return;
    }
    links.add(new Link(socket, state, (link) => links.delete(link)));
  });

  const listenHost = options.listenHost ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listenPort ?? 0, listenHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fault proxy: unexpected listen address');

  const setMode = (mode: FaultMode, latencyMs = 0) => {
    state.mode = mode;
    state.latencyMs = latencyMs;
    for (const link of [...links]) link.resume();
  };

  return {
    port: address.port,
    host: listenHost,
    get mode() {
      return state.mode;
    },
    get latencyMs() {
      return state.latencyMs;
    },
    get accepted() {
      return accepted;
    },
    get open() {
      return links.size;
    },
    pass: () => setMode('pass'),
    down: () => setMode('down'),
    hang: () => setMode('hang'),
    latency: (ms: number) => {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`fault proxy: latency must be a number of ms from 0, got ${ms}`);
      setMode('latency', ms);
    },
    cut: () => {
      for (const link of [...links]) link.cut();
    },
    onConnection(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        listeners.clear();
        for (const link of [...links]) link.cut();
        server.close(() => resolve());
      }),
  };
}
