/**
 * The kinds of long-lived connection podkit closes at shutdown, and the ways each one can end:
 * the labels of `/metrics` (`podkit_long_lived_open{kind}`,
 * `podkit_long_lived_closed_total{kind,outcome}`) and of the OpenTelemetry export, decided here once.
 *
 * A close is counted from the moment podkit begins closing that kind: "stop accepting" for
 * WebSocket connections and SSE streams, the drain's start (their GOAWAY) for HTTP/2 sessions.
 */

/** `websocket` (upgraded with `Upgrade: websocket`), `sse` (a `text/event-stream` response, over HTTP/1 or HTTP/2), `http2` (a session). */
export type LongLivedKind = 'websocket' | 'sse' | 'http2';

export const LONG_LIVED_KINDS: readonly LongLivedKind[] = ['websocket', 'sse', 'http2'];

/**
 * How a long-lived connection was closed at shutdown:
 * - `clean`: its clean signal went through: the client answered the close frame (or closed), the
 *   SSE stream was ended, the HTTP/2 session closed after its GOAWAY;
 * - `app`: left to the app's goodbye (`webSocketGoodbye: 'app'`) and closed before podkit ended it;
 * - `client`: the client went away before podkit's goodbye reached it;
 * - `ended`: podkit ended the socket (FIN) because the client had not answered the close frame
 *   within `closeTimeoutMs`, or a connection left to the app was still open after the hooks;
 * - `timeout`: destroyed at a bound: the long-lived budget, the end bound, or the shutdown's deadline.
 */
export type LongLivedOutcome = 'clean' | 'app' | 'client' | 'ended' | 'timeout';

export const LONG_LIVED_OUTCOMES: readonly LongLivedOutcome[] = ['clean', 'app', 'client', 'ended', 'timeout'];

/** Counts one long-lived connection closed at shutdown (the snapshot's writer: `HealthSnapshot.countLongLivedClosed`). */
export type RecordLongLivedClose = (kind: LongLivedKind, outcome: LongLivedOutcome) => void;

/** Long-lived connections open now, by kind. */
export type LongLivedCounts = Record<LongLivedKind, number>;
