/**
 * How many long-lived connections are open now, by kind, read from what Node and the drain
 * already keep: a walk over the main server's connections, made by the gauge's sampler (never per
 * request). A WebSocket is a socket Node handed to an 'upgrade' listener after an
 * `Upgrade: websocket` request; an SSE stream a `text/event-stream` response on the wire (HTTP/1)
 * or an open HTTP/2 stream answered so; an HTTP/2 connection, its session.
 */
import type { Socket } from 'node:net';
import { isUpgraded, isWebSocket, responseOnWire } from '../connections.js';
import type { LongLivedCounts } from './outcomes.js';
import { isEventStream } from './sse.js';

export interface LongLivedSources {
  /** The HTTP connections followed (upgraded WebSockets stay among them until "stop accepting"). */
  readonly http: Iterable<Socket>;
  /** WebSocket connections the long-lived closing took over at "stop accepting". */
  readonly closingWebSockets: number;
  /** HTTP/2 sessions open, and the SSE streams open on them. */
  readonly http2Sessions: number;
  readonly http2EventStreams: number;
}

export function countLongLived(sources: LongLivedSources): LongLivedCounts {
  let websocket = sources.closingWebSockets;
  let sse = sources.http2EventStreams;
  for (const socket of sources.http) {
    if (isUpgraded(socket)) {
      if (isWebSocket(socket)) websocket += 1;
      continue;
    }
    const res = responseOnWire(socket);
    if (res && isEventStream(res)) sse += 1;
  }
  return { websocket, sse, http2: sources.http2Sessions };
}
