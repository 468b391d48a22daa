/**
 * What the drain can tell forensics (forensics.ts) about what holds a shutdown: each request in
 * flight (method, path without query string, age) and the long-lived connections open, by kind.
 * Read only when a timeout forces an exit or a hook or warmup times out: nothing here runs per
 * request.
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { isUpgraded, isWebSocket } from './connections.js';
import { pathOf, type InFlightRequest } from './forensics.js';
import { isEventStream } from './long-lived/sse.js';
import type { LongLivedCounts } from './long-lived/outcomes.js';
import type { Counted } from './request-accounting.js';

/**
 * The requests of these responses, SSE streams left out (they are long-lived). A response the
 * drain never counted (found while the service was not draining) has no known age.
 */
export function requestsInFlight(responses: readonly ServerResponse[], countedOf: (res: ServerResponse) => Counted | undefined): InFlightRequest[] {
  const now = Date.now();
  return responses
    .filter((res) => !res.closed && !isEventStream(res))
    .map((res) => {
      const request = { method: res.req.method ?? 'GET', path: pathOf(res.req.url) };
      const counted = countedOf(res);
      return counted ? { ...request, ageMs: now - counted.at, atLeast: !counted.exact } : request;
    });
}

/**
 * Long-lived connections open now, by kind: WebSocket connections, SSE streams and HTTP/2 sessions
 * as the gauge counts them (`open`, long-lived/census.ts), plus what holds a shutdown besides:
 * other upgraded sockets (a 'connect' tunnel, another protocol) among `sockets`, and HTTP/2 streams.
 */
export function longLivedHeld(open: LongLivedCounts, sockets: Iterable<Socket>, http2Streams: number): Record<string, number> {
  let upgraded = 0;
  for (const socket of new Set(sockets)) if (!socket.destroyed && isUpgraded(socket) && !isWebSocket(socket)) upgraded += 1;
  return { websocket: open.websocket, sse: open.sse, upgraded, 'http2 sessions': open.http2, 'http2 streams': http2Streams };
}
