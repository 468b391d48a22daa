/**
 * Options of the way out: long-lived connections at shutdown, and the exit codes.
 */

/**
 * WebSocket connections and Server-Sent Events streams at shutdown: after the drain delay, at the
 * "stop accepting" step, each is closed with its clean signal (a close frame 1001 Going Away, the
 * end of the stream), spread over `closeWindowMs` so its clients do not all reconnect at once.
 */
export interface LongLivedOptions {
  /** The closes are spread at random over this window, in ms. @default 1000 */
  closeWindowMs?: number;
  /** After its close frame, how long a WebSocket client gets to answer and close before podkit ends the socket, in ms. @default 1000 */
  closeTimeoutMs?: number;
  /**
   * Bound on the whole step, counted from "stop accepting" (inside `shutdownTimeoutMs`, never
   * beyond what is left of it); a connection still open past it is destroyed, in ms.
   * @default 3000
   */
  budgetMs?: number;
  /**
   * Who says goodbye on WebSocket connections. `'podkit'`: the close frame above. `'app'`: podkit
   * sends nothing; the connections stay open through holds and shutdown hooks (where the app says
   * goodbye, e.g. socket.io's `io.close()`) and are ended after the hooks.
   * @default 'podkit'
   */
  webSocketGoodbye?: 'podkit' | 'app';
  /** Written as `retry: <ms>` before an SSE stream ends, so EventSource clients reconnect that soon; `undefined` writes none. @default undefined */
  sseRetryMs?: number;
}

/** Exit codes, one per way of leaving. */
export interface ExitCodes {
  /** Clean shutdown. @default 0 */
  clean: number;
  /** Uncaught exception or unhandled rejection. @default 70 */
  crash: number;
  /** Warmup (or the main listener) failed or timed out. @default 75 */
  warmupFailed: number;
  /** Shutdown ran past `shutdownTimeoutMs`; connections were cut. @default 124 */
  shutdownTimeout: number;
  /**
   * Added to the signal number when a second signal forces an exit (128 + 15 = 143 for SIGTERM).
   * `forcedBase` + the largest signal number in `signals` must stay within 255: the kernel keeps
   * only the low 8 bits of an exit status, so 128 + 137 would be reported as 9.
   * @default 128
   */
  forcedBase: number;
}
