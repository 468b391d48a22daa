/**
 * Long-lived connections, at "stop accepting" (the drain's close()), with a budget of their own
 * (`longLived.budgetMs`, inside the shutdown's): WebSocket connections (upgraded with
 * `Upgrade: websocket`) get a close frame 1001 Going Away (websocket.ts) and `closeTimeoutMs` to
 * close; Server-Sent Events streams (a response on the wire with `Content-Type: text/event-stream`)
 * are ended (sse.ts). Each one at a random moment of `closeWindowMs`, so their clients do not all
 * reconnect in the same millisecond. The drain's close() resolves once they are closed too, so
 * shutdown hooks run after them. With `webSocketGoodbye: 'app'` WebSocket connections are left to
 * the app: open through holds and hooks, ended after them (closeUpgraded()), as is any other
 * upgraded connection (a 'connect' tunnel, an upgrade to another protocol).
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { isWebSocket } from '../connections.js';
import type { ResolvedLongLivedOptions } from '../options-resolved.js';
import { Waiters } from '../waiters.js';
import { endEventStream, isEventStream } from './sse.js';
import { sayGoingAway } from './websocket.js';

/**
 * An upgraded connection (WebSocket…) is ended once holds and shutdown hooks are done; a peer
 * that has not closed its side this long after that is destroyed.
 */
const UPGRADED_END_BOUND_MS = 1000;

/** While long-lived connections are being closed, how often responses are looked at for an SSE stream that began since. */
const STREAM_SCAN_MS = 100;

export class LongLivedClosing {
  /** Sockets handed to an 'upgrade' (WebSocket) or 'connect' listener, found by the drain: ended after the hooks. */
  readonly upgraded = new Set<Socket>();
  /** From "stop accepting" on: long-lived connections are closed as they are found. */
  private startedAt: number | undefined;
  private endingUpgraded = false;
  /** WebSocket connections podkit says goodbye on, until they close. */
  private readonly goodbyes = new Set<Socket>();
  /** SSE streams found, ended (or to be) by podkit. */
  private readonly streams = new Set<ServerResponse>();
  private streamScan: NodeJS.Timeout | undefined;
  private readonly goodbyesLeft = new Waiters();
  private readonly upgradedLeft = new Waiters();

  /** `responses()` lists the responses the drain counts in flight: SSE streams are found among them. */
  constructor(
    private readonly options: ResolvedLongLivedOptions,
    private readonly responses: () => Iterable<ServerResponse>,
  ) {}

  /** "Stop accepting": the budget starts, and SSE streams are looked for until the drain is done. Idempotent. */
  start(): void {
    if (this.startedAt !== undefined) return;
    this.startedAt = Date.now();
    // Their budget: whatever is still open past it is cut. Unref'd: the shutdown's own deadline
    // (ref'd) bounds the process; this one only makes the step shorter.
    setTimeout(() => {
      for (const socket of this.goodbyes) socket.destroy();
      for (const res of this.streams) if (!res.closed) res.socket?.destroy();
    }, this.options.budgetMs).unref();
    // A response that turns into a stream after this (its headers not out yet) is found here.
    this.streamScan = setInterval(() => this.scanStreams(), STREAM_SCAN_MS).unref();
  }

  /** Every HTTP connection is closed: no stream is left to find. */
  stopScanning(): void {
    clearInterval(this.streamScan);
  }

  /** Ends every SSE stream among the responses in flight, each at its moment of the close window. */
  scanStreams(): void {
    for (const res of this.responses()) {
      if (this.streams.has(res) || !isEventStream(res)) continue;
      this.streams.add(res);
      res.once('close', () => this.streams.delete(res));
      setTimeout(() => endEventStream(res, this.options.sseRetryMs), this.jitter());
    }
  }

  /** A socket the drain found upgraded: no longer HTTP's, it stays open while holds and hooks run (a hook may say goodbye on it). */
  adopt(socket: Socket): void {
    this.upgraded.add(socket);
    if (!this.sayGoodbye(socket) && this.endingUpgraded) endUpgraded(socket);
  }

  /** Resolves once every WebSocket podkit said goodbye on is closed (or cut at the budget). */
  goodbyesDone(): Promise<void> {
    return this.goodbyesLeft.until(this.goodbyes.size);
  }

  /**
   * After holds and shutdown hooks (which may have said goodbye over them): end every upgraded
   * connection, and destroy one whose peer does not close its side within UPGRADED_END_BOUND_MS.
   * Resolves when all of them are closed.
   */
  closeUpgraded(): Promise<void> {
    this.endingUpgraded = true;
    for (const socket of this.upgraded) endUpgraded(socket);
    return this.upgradedLeft.until(this.upgraded.size);
  }

  /** A followed socket closed. */
  closed(socket: Socket): void {
    this.upgraded.delete(socket);
    this.goodbyes.delete(socket);
    this.goodbyesLeft.settle(this.goodbyes.size);
    this.upgradedLeft.settle(this.upgraded.size);
  }

  /** Past the shutdown budget. */
  destroyAll(): void {
    this.stopScanning();
    for (const socket of this.upgraded) socket.destroy();
  }

  /** A random moment of what is left of the close window: reconnections are spread, not stampeded. */
  private jitter(): number {
    const elapsed = Date.now() - (this.startedAt ?? Date.now());
    return Math.random() * Math.max(0, this.options.closeWindowMs - elapsed);
  }

  /** Schedules podkit's close frame on an upgraded WebSocket connection. False when it is not podkit's to close. */
  private sayGoodbye(socket: Socket): boolean {
    if (this.startedAt === undefined || this.options.webSocketGoodbye !== 'podkit' || !isWebSocket(socket)) return false;
    if (this.goodbyes.has(socket)) return true;
    this.goodbyes.add(socket);
    setTimeout(() => sayGoingAway(socket, this.options.closeTimeoutMs, endUpgraded), this.jitter());
    return true;
  }
}

/** FIN after whatever the hooks wrote; destroyed if the peer has not closed its side in time. */
function endUpgraded(socket: Socket): void {
  if (socket.destroyed) return;
  socket.end();
  const timer = setTimeout(() => socket.destroy(), UPGRADED_END_BOUND_MS);
  socket.once('close', () => clearTimeout(timer));
}
