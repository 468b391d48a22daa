/**
 * Clients that see what a real client sees at the byte level: a raw TCP connection that can
 * pipeline requests and tells a clean close from a reset, and a keep-alive client that sends
 * requests back to back and classifies every outcome.
 */
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A raw HTTP/1.1 connection: write requests (pipelined if you like), read parsed responses. */
export interface RawConnection {
  /** Writes bytes as they are, e.g. half a request. */
  write(text: string): void;
  /** Writes a complete GET request. */
  send(path: string, headers?: Record<string, string>): void;
  /** Resolves once `count` complete responses have arrived. */
  responses(count: number, timeoutMs?: number): Promise<RawResponse[]>;
  /** Resolves when the server closes the connection: `clean` unless it was reset. */
  readonly closed: Promise<{ clean: boolean; error?: string; responses: RawResponse[] }>;
  /** Bytes received so far. */
  readonly received: () => string;
  destroy(): void;
}

export async function openRaw(port: number): Promise<RawConnection> {
  const socket: Socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let data = '';
  let error: string | undefined;
  const waiters = new Set<() => void>();
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    data += chunk;
    for (const wake of waiters) wake();
  });
  socket.on('error', (e: NodeJS.ErrnoException) => {
    error = e.code ?? e.message;
  });
  const closed = new Promise<{ clean: boolean; error?: string; responses: RawResponse[] }>((resolve) => {
    socket.once('close', () => {
      for (const wake of waiters) wake();
      resolve({ clean: error === undefined, ...(error === undefined ? {} : { error }), responses: parseResponses(data).responses });
    });
  });

  return {
    write: (text) => socket.write(text),
    send(path, headers = {}) {
      const lines = [`GET ${path} HTTP/1.1`, 'Host: podkit.test', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    },
    responses(count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const parsed = parseResponses(data).responses;
          if (parsed.length >= count) {
            done();
            resolve(parsed.slice(0, count));
          } else if (socket.destroyed) {
            done();
            reject(new Error(`connection closed after ${parsed.length} of ${count} responses (${error ?? 'clean close'}); received:\n${data}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${count} responses within ${timeoutMs} ms; received:\n${data}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    closed,
    received: () => data,
    destroy: () => socket.destroy(),
  };
}

/** Parses complete HTTP/1.1 responses (Content-Length or chunked bodies) from the bytes received. */
export function parseResponses(data: string): { responses: RawResponse[]; rest: string } {
  const responses: RawResponse[] = [];
  let rest = data;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end === -1) break;
    const [statusLine = '', ...headerLines] = rest.slice(0, end).split('\r\n');
    const status = Number(statusLine.split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    let body = '';
    let consumed = end + 4;
    if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
      let complete = false;
      for (;;) {
        const lineEnd = rest.indexOf('\r\n', consumed);
        if (lineEnd === -1) break;
        const size = Number.parseInt(rest.slice(consumed, lineEnd), 16);
        if (rest.length < lineEnd + 2 + size + 2) break;
        body += rest.slice(lineEnd + 2, lineEnd + 2 + size);
        consumed = lineEnd + 2 + size + 2;
        if (size === 0) {
          complete = true;
          break;
        }
      }
      if (!complete) break;
    } else {
      const length = Number(headers['content-length'] ?? 0);
      if (rest.length < consumed + length) break;
      body = rest.slice(consumed, consumed + length);
      consumed += length;
    }
    responses.push({ status, headers, body });
    rest = rest.slice(consumed);
  }
  return { responses, rest };
}

export type Outcome =
  | { id: string; kind: 'ok'; status: number; connection: string | undefined; reused: boolean }
  /** The request never got a response byte and was not retried by the client. */
  | { id: string; kind: 'error'; code: string; reused: boolean };

/** A keep-alive GET with an id the fixture notes on arrival. Never rejects: the outcome says what happened. */
export function keepAliveGet(port: number, agent: Agent, path: string, id: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent, headers: { 'x-request-id': id } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ id, kind: 'ok', status: res.statusCode ?? 0, connection: header(res.headers, 'connection'), reused: req.reusedSocket });
      });
      res.on('error', (e: NodeJS.ErrnoException) => resolve({ id, kind: 'error', code: `response ${e.code ?? e.message}`, reused: req.reusedSocket }));
    });
    req.setTimeout(5000, () => req.destroy(Object.assign(new Error('client timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ id, kind: 'error', code: e.code ?? e.message, reused: req.reusedSocket }));
    req.end();
  });
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
