/**
 * Server-Sent Events: a response with `Content-Type: text/event-stream` is a stream that ends
 * when the server ends it, not a request in flight that will finish. Left to the drain it would
 * hold the exit until `shutdownTimeoutMs` and then be cut (EventSource sees an error). Ending it is
 * the clean signal: EventSource reconnects, through the load balancer, to another replica, after
 * the `retry:` delay when one is written first.
 */
import type { ServerResponse } from 'node:http';

/** Node keeps the header block it sent as `_header` (a string), however the headers were given (setHeader or writeHead). */
type NodeResponse = ServerResponse & { _header?: unknown };

const EVENT_STREAM = /^content-type:[ \t]*text\/event-stream/im;

/** An SSE response whose headers are out: only then is it a stream (before, the app may still change them). */
export function isEventStream(res: ServerResponse): boolean {
  if (!res.headersSent) return false;
  const header = (res as NodeResponse)._header;
  if (typeof header === 'string') return EVENT_STREAM.test(header);
  const type = res.getHeader('content-type');
  return typeof type === 'string' && type.toLowerCase().startsWith('text/event-stream');
}

/** Ends the stream cleanly (the last chunk of a chunked body), after a `retry:` field when asked. */
export function endEventStream(res: ServerResponse, retryMs: number | undefined): void {
  if (res.writableEnded || res.destroyed) return;
  if (retryMs !== undefined) res.write(`retry: ${Math.round(retryMs)}\n\n`);
  res.end();
}
