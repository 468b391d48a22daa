/**
 * Callers waiting for something to empty (the drain's sockets, WebSocket goodbyes, HTTP/2
 * sessions): each waits on a promise, and all of them are resolved together the moment nothing
 * is left.
 */
export class Waiters {
  private pending: Array<() => void> = [];

  /** Resolves at once when nothing is `left`, else at the first `settle(0)`. */
  until(left: number): Promise<void> {
    if (left === 0) return Promise.resolve();
    return new Promise((resolve) => this.pending.push(resolve));
  }

  /** Resolves every waiter when nothing is `left`. True when there were some. */
  settle(left: number): boolean {
    if (left !== 0 || this.pending.length === 0) return false;
    const waiting = this.pending;
    this.pending = [];
    for (const resolve of waiting) resolve();
    return true;
  }
}
