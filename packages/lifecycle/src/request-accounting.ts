/**
 * The drain's accounting of requests, connection by connection, from the drain's start on (while
 * ready there is none: drain.ts says why).
 *
 * When the drain begins the accounting starts, and is exact from then on:
 * - podkit's 'request' listener is prepended, first in line, on every followed server (drain.ts):
 *   each request that arrives is counted (once, however many adapters see it too) until its
 *   response or its socket closes, and marked `Connection: close`.
 * - The connections already open are accounted for once, from what Node knows of them: a response
 *   on the wire is counted in flight and gets `Connection: close` if its headers have not left
 *   (else its socket is closed after it); a socket that has read nothing is fresh and gets its
 *   grace from the drain's start; one Node lists as mid-request (part of a request in) is treated
 *   as such; an idle keep-alive socket records its byte count, so bytes read after it are a
 *   request arriving.
 * - Responses pipelined behind the one on the wire are out of reach, and need not be reached: if
 *   the one on the wire carries `Connection: close`, Node closes the socket after it and drops the
 *   queue; if its headers had already left, Node puts the next one on the wire before the first
 *   one's 'close', where release() counts it and tells it to close. closeIfIdle() (close-when-idle.ts) asks
 *   Node's record of the wire as well as this count, so no response is cut, counted or not.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { responseOnWire } from './connections.js';
import type { HealthSnapshot } from './state.js';

/** Marks a request already counted, so the listener, the connection sweep and an adapter never count it twice. */
const kTracked = Symbol('podkit.tracked');
type Tracked = IncomingMessage & { [kTracked]?: true };

/**
 * When a response was counted, for forensics: `exact` when its request arrived during the drain
 * (its age is exact); otherwise it was found in flight when the drain began and is at least that old.
 */
const kCounted = Symbol('podkit.counted');
export interface Counted {
  at: number;
  exact: boolean;
}
type CountedResponse = ServerResponse & { [kCounted]?: Counted };

/** A connection's record, from the drain's start on. While ready there is none. */
export interface SocketAccount {
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

export class RequestAccounting {
  private readonly accounts = new Map<Socket, SocketAccount>();

  /** `released(socket)` is told after each counted response of a socket closes. */
  constructor(
    private readonly snapshot: HealthSnapshot,
    private readonly released: (socket: Socket) => void,
  ) {}

  get(socket: Socket): SocketAccount | undefined {
    return this.accounts.get(socket);
  }

  /** Takes a socket's record away: the raw socket of a TLS handshake that finished, or a socket that was upgraded. */
  forget(socket: Socket): SocketAccount | undefined {
    const account = this.accounts.get(socket);
    this.accounts.delete(socket);
    return account;
  }

  /** True for a request counted already, or one passed over because its socket was gone. */
  isCounted(req: IncomingMessage): boolean {
    return (req as Tracked)[kTracked] === true;
  }

  /** Passes over a request whose socket is gone: it is never counted. */
  passOver(req: IncomingMessage): void {
    (req as Tracked)[kTracked] = true;
  }

  /** The socket's record, opened once (the response Node has on its wire counted with it). */
  open(socket: Socket, handshaking: boolean, openedAt: number, midRequest: boolean): SocketAccount {
    const existing = this.accounts.get(socket);
    if (existing) return existing;
    // Mid-request: bytes of a request came before this record did, so "bytes since idle" starts at 0.
    const account: SocketAccount = { responses: [], openedAt, idleAt: openedAt, bytesReadWhenIdle: midRequest ? 0 : socket.bytesRead, handshaking };
    this.accounts.set(socket, account);
    if (!handshaking) this.countResponseOnWire(socket, account);
    return account;
  }

  /** The socket closed: responses still counted on it never will close on their own, and are released with it. */
  closed(socket: Socket): void {
    const account = this.forget(socket);
    if (!account) return;
    this.snapshot.addInFlight(-account.responses.length);
    account.responses.length = 0;
  }

  /** Counts the response Node has on this socket's wire, unless it is counted already. True when there is one. */
  countResponseOnWire(socket: Socket, account: SocketAccount): boolean {
    const res = responseOnWire(socket);
    if (!res) return false;
    this.count(socket, account, res.req, res);
    return true;
  }

  /** `arriving`: the request came during the drain (its 'request' event), not found in flight at its start. */
  count(socket: Socket, account: SocketAccount, req: IncomingMessage, res: ServerResponse, arriving = false): void {
    if ((req as Tracked)[kTracked]) return;
    (req as Tracked)[kTracked] = true;
    (res as CountedResponse)[kCounted] = { at: Date.now(), exact: arriving };
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

  /** When a response was counted (forensics), if it was. */
  countedOf(res: ServerResponse): Counted | undefined {
    return (res as CountedResponse)[kCounted];
  }

  /** Every response counted and not closed yet (the long-lived closing looks for SSE streams among them). */
  *responses(): IterableIterator<ServerResponse> {
    for (const account of this.accounts.values()) yield* account.responses;
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
    this.released(socket);
  }
}
