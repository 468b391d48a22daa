/**
 * Once the listener is closed, every HTTP connection is closed the moment it has nothing left to
 * answer: at once when it is idle, after its last counted response otherwise (request-accounting.ts
 * tells), and after a short grace when a request may be on its way. An upgraded connection found
 * here is handed to the long-lived closing (long-lived/closing.ts).
 */
import type { Socket } from 'node:net';
import { isUpgraded, type Connections } from './connections.js';
import type { LongLivedClosing } from './long-lived/closing.js';
import type { RequestAccounting, SocketAccount } from './request-accounting.js';

/**
 * A socket that has never carried a request was accepted moments ago and may have a request on
 * the wire: it gets this long to send it (and be answered with `Connection: close`) before it is
 * closed. So does an HTTPS connection still in its TLS handshake, and a kept-alive socket whose
 * next request is half-way in (bytes read since its last response, not yet a full request). Idle
 * keep-alive sockets are closed at once.
 */
export const FRESH_SOCKET_GRACE_MS = 500;

export class IdleCloser {
  /** When the listener closed: a kept-alive socket's grace counts from then at the earliest. Set by start(). */
  private closingAt: number | undefined;
  private freshTimer: NodeJS.Timeout | undefined;

  /** `upgraded()` is told after a socket left the HTTP connections for the long-lived ones. */
  constructor(
    private readonly connections: Connections,
    private readonly accounting: RequestAccounting,
    private readonly longLived: LongLivedClosing,
    private readonly upgraded: () => void,
  ) {}

  get closing(): boolean {
    return this.closingAt !== undefined;
  }

  /** The listener is closed: close every connection with nothing left to answer, now and from now on. */
  start(): void {
    this.closingAt ??= Date.now();
    this.sweep();
  }

  /** Every HTTP connection is closed: a socket that arrives later still needs a timer of its own. */
  reset(): void {
    clearTimeout(this.freshTimer);
    this.freshTimer = undefined;
  }

  closeIfIdle(socket: Socket): void {
    const account = this.accounting.get(socket);
    if (this.closingAt === undefined || !account || account.responses.length > 0 || socket.destroyed) return;
    if (!account.handshaking) {
      if (isUpgraded(socket)) {
        this.connections.http.delete(socket);
        this.accounting.forget(socket);
        this.longLived.adopt(socket);
        this.upgraded();
        return;
      }
      // Node's record as well as podkit's count: a response on the wire is never cut.
      if (this.accounting.countResponseOnWire(socket, account)) return;
    }
    const graceLeftMs = graceLeft(socket, account, this.closingAt, Date.now());
    if (graceLeftMs === 0) {
      // A handshake has nothing to flush. Otherwise destroySoon: flush what is written, then close.
      if (account.handshaking) socket.destroy();
      else socket.destroySoon();
      return;
    }
    // A fresh socket, or one mid-request: look again when its grace is over (one timer for all of
    // them). Ref'd: the drain waits for these sockets anyway, and the shutdown's deadline bounds it.
    if (!this.freshTimer) {
      this.freshTimer = setTimeout(() => {
        this.freshTimer = undefined;
        this.sweep();
      }, graceLeftMs + 1);
    }
  }

  private sweep(): void {
    for (const socket of [...this.connections.http, ...this.connections.handshakes]) this.closeIfIdle(socket);
  }
}

/** 0 when a socket with nothing counted on it can be closed now, else how long it may still take to send the request it is sending. */
function graceLeft(socket: Socket, account: SocketAccount, closingAt: number, now: number): number {
  // Node's parser consumes the socket natively, so bytes read since the last response are the
  // only sign of a request that has begun to arrive (Node's closeIdleConnections spares those too).
  const bytesRead = socket.bytesRead;
  const fresh = account.handshaking || bytesRead === 0;
  const midRequest = bytesRead > account.bytesReadWhenIdle;
  if (!fresh && !midRequest) return 0;
  const waited = now - (fresh ? account.openedAt : Math.max(account.idleAt, closingAt));
  return Math.max(0, FRESH_SOCKET_GRACE_MS - waited);
}
