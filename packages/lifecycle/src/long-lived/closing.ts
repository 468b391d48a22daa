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
 *
 * How each WebSocket connection and SSE stream closed is counted (outcomes.ts): a WebSocket by
 * what podkit last did to it before its 'close' (nothing yet, the close frame, the FIN, a destroy
 * at a bound), an SSE stream by whether its end went out whole.
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { isWebSocket } from '../connections.js';
import type { ResolvedLongLivedOptions } from '../options-resolved.js';
import { Waiters } from '../waiters.js';
import type { LongLivedOutcome, RecordLongLivedClose } from './outcomes.js';
import { endEventStream, isEventStream } from './sse.js';
import { sayGoingAway } from './websocket.js';

/**
 * An upgraded connection (WebSocket…) is ended once holds and shutdown hooks are done; a peer
 * that has not closed its side this long after that is destroyed.
 */
const UPGRADED_END_BOUND_MS = 1000;

/** While long-lived connections are being closed, how often responses are looked at for an SSE stream that began since. */
const STREAM_SCAN_MS = 100;

/**
 * What podkit last did to a WebSocket it closes: nothing yet (`open`), its close frame sent
 * (`goodbye`), the frame answered (`answered`), a FIN after no answer or after the hooks (`ended`),
 * or destroyed at a bound (`cut`).
 */
type Phase = 'open' | 'goodbye' | 'answered' | 'ended' | 'cut';

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
  /** Every WebSocket found, until it closes: how far its goodbye went. */
  private readonly phases = new Map<Socket, Phase>();
  /** SSE streams destroyed at a bound. */
  private readonly cutStreams = new WeakSet<ServerResponse>();
  private streamScan: NodeJS.Timeout | undefined;
  private readonly goodbyesLeft = new Waiters();
  private readonly upgradedLeft = new Waiters();

  /** `responses()` lists the responses the drain counts in flight: SSE streams are found among them. `record` counts each close. */
  constructor(
    private readonly options: ResolvedLongLivedOptions,
    private readonly responses: () => Iterable<ServerResponse>,
    private readonly record: RecordLongLivedClose,
  ) {}

  /** "Stop accepting": the budget starts, and SSE streams are looked for until the drain is done. Idempotent. */
  start(): void {
    if (this.startedAt !== undefined) return;
    this.startedAt = Date.now();
    // Their budget: whatever is still open past it is cut. Unref'd: the shutdown's own deadline
    // (ref'd) bounds the process; this one only makes the step shorter.
    setTimeout(() => {
      for (const socket of this.goodbyes) this.cut(socket);
      for (const res of this.streams) this.cutStream(res);
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
      res.once('close', () => {
        this.streams.delete(res);
        // Ended whole: the client saw the end of the stream. Gone before that: the client left first.
        this.record('sse', this.cutStreams.has(res) ? 'timeout' : res.writableFinished ? 'clean' : 'client');
      });
      setTimeout(() => endEventStream(res, this.options.sseRetryMs), this.jitter());
    }
  }

  /** A socket the drain found upgraded: no longer HTTP's, it stays open while holds and hooks run (a hook may say goodbye on it). */
  adopt(socket: Socket): void {
    this.upgraded.add(socket);
    if (isWebSocket(socket)) this.phases.set(socket, 'open');
    if (!this.sayGoodbye(socket) && this.endingUpgraded) this.end(socket);
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
    for (const socket of this.upgraded) this.end(socket);
    return this.upgradedLeft.until(this.upgraded.size);
  }

  /** A followed socket closed. */
  closed(socket: Socket): void {
    const phase = this.phases.get(socket);
    if (phase) {
      this.phases.delete(socket);
      this.record('websocket', websocketOutcome(phase, this.options.webSocketGoodbye));
    }
    this.upgraded.delete(socket);
    this.goodbyes.delete(socket);
    this.goodbyesLeft.settle(this.goodbyes.size);
    this.upgradedLeft.settle(this.upgraded.size);
  }

  /** Past the shutdown budget. */
  destroyAll(): void {
    this.stopScanning();
    for (const socket of this.upgraded) this.cut(socket);
    for (const res of this.streams) this.cutStream(res);
  }

  /** WebSocket connections podkit closes, open now (found at "stop accepting" or since). */
  get openWebSockets(): number {
    return this.phases.size;
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
    setTimeout(() => {
      if (!socket.destroyed) this.mark(socket, 'goodbye');
      sayGoingAway(socket, this.options.closeTimeoutMs, (s, answered) => {
        if (answered) this.mark(s, 'answered');
        this.end(s);
      });
    }, this.jitter());
    return true;
  }

  /** FIN after whatever the hooks wrote; destroyed if the peer has not closed its side in time. */
  private end(socket: Socket): void {
    if (socket.destroyed) return;
    if (this.phases.get(socket) !== 'answered') this.mark(socket, 'ended');
    socket.end();
    const timer = setTimeout(() => this.cut(socket), UPGRADED_END_BOUND_MS);
    socket.once('close', () => clearTimeout(timer));
  }

  /** Destroyed at a bound. A WebSocket whose client answered the close frame stays `clean`. */
  private cut(socket: Socket): void {
    if (this.phases.get(socket) !== 'answered' && !socket.destroyed) this.mark(socket, 'cut');
    socket.destroy();
  }

  /** Notes what podkit did to a WebSocket still open (one that closed was counted already). */
  private mark(socket: Socket, phase: Phase): void {
    if (this.phases.has(socket)) this.phases.set(socket, phase);
  }

  private cutStream(res: ServerResponse): void {
    if (res.closed) return;
    this.cutStreams.add(res);
    res.socket?.destroy();
  }
}

function websocketOutcome(phase: Phase, goodbye: ResolvedLongLivedOptions['webSocketGoodbye']): LongLivedOutcome {
  switch (phase) {
    case 'answered':
    case 'goodbye':
      // A close while the close frame waited for its answer is the client closing in answer.
      return 'clean';
    case 'ended':
      return 'ended';
    case 'cut':
      return 'timeout';
    case 'open':
      return goodbye === 'app' ? 'app' : 'client';
  }
}
