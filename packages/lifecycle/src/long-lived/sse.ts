/**
 * Server-Sent Events: a response with `Content-Type: text/event-stream` is a stream that ends
 * when the server ends it, not a request in flight that will finish. Left to the drain it would
 * hold the exit until `shutdownTimeoutMs` and then be cut (EventSource sees an error). Ending it is
 * the clean signal: EventSource reconnects, through the load balancer, to another replica, after
 * the `retry:` delay when one is written first.
 */
import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse, ServerHttp2Stream } from 'node:http2';
import { PodkitError } from '../errors.js';

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

/**
 * The same over HTTP/2, on the server stream: its response headers are out and say
 * `text/event-stream`. `sentHeaders` keeps the header object as it was given to `respond()` (the
 * compatibility API gives it lower-cased; the stream API, as the app wrote it).
 */
export function isHttp2EventStream(stream: ServerHttp2Stream): boolean {
  if (!stream.headersSent) return false;
  for (const [name, value] of Object.entries(stream.sentHeaders)) {
    if (name.toLowerCase() !== 'content-type') continue;
    const type = Array.isArray(value) ? value[0] : value;
    return typeof type === 'string' && type.toLowerCase().startsWith('text/event-stream');
  }
  return false;
}

/**
 * Ends an HTTP/2 SSE stream cleanly: DATA with END_STREAM (the client already ended its side with
 * its request), after a `retry:` field when asked. Through the compatibility API's response when
 * the app answered with one (`http2.createServer(handler)`, Fastify), so the response knows it
 * ended and a later write of the app's fails on the response instead of resetting the stream.
 */
export function endHttp2EventStream(stream: ServerHttp2Stream, retryMs: number | undefined): void {
  if (stream.closed || stream.destroyed || stream.writableEnded) return;
  const retry = retryMs === undefined ? undefined : `retry: ${Math.round(retryMs)}\n\n`;
  const res = compatResponseOf(stream);
  if (res) {
    if (res.writableEnded) return;
    if (retry) res.write(retry);
    res.end();
    dropLateWrites(res);
    return;
  }
  if (retry) stream.write(retry);
  stream.end();
  dropLateWrites(stream);
}

/**
 * An SSE handler writes on a timer it clears on 'close', which comes only once END_STREAM is out:
 * a write of the app's that lands in between would make Node destroy the stream with an error, a
 * RST_STREAM (INTERNAL_ERROR) undoing the clean end. So from podkit's end on, the app's writes to
 * this one stream are dropped; a write callback hears why.
 */
function dropLateWrites(target: Http2ServerResponse | ServerHttp2Stream): void {
  (target as { write: unknown }).write = lateWrite;
}

function lateWrite(...args: unknown[]): boolean {
  const callback = args.find((arg): arg is (error: Error) => void => typeof arg === 'function');
  if (callback) process.nextTick(callback, new PodkitError('ERR_PODKIT_SHUTTING_DOWN', 'write after the shutdown ended this event stream'));
  return false;
}

/** Node keeps the compatibility API's response on its stream under a symbol described `response` (lib/internal/http2/compat.js). */
function compatResponseOf(stream: ServerHttp2Stream): Http2ServerResponse | undefined {
  const key = Object.getOwnPropertySymbols(stream).find((symbol) => symbol.description === 'response');
  const res = key === undefined ? undefined : (stream as unknown as Record<symbol, unknown>)[key];
  // Told by shape, not `instanceof`: importing `node:http2` for the class would cost every service
  // about 20 ms and 4 MiB at start-up. A compatibility response knows its own stream.
  return typeof res === 'object' && res !== null && (res as { stream?: unknown }).stream === stream ? (res as Http2ServerResponse) : undefined;
}
