/**
 * One request of `@podkit/lifecycle/http`, and what it can fail with: the exchange itself (the
 * request destroyed the moment the task's AbortSignal aborts), where the service's own main port
 * is reached, and the two errors of the family (a status outside `expectStatus`, a request that
 * got no answer).
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { PodkitError } from '../errors.js';
import type { MainServer } from '../servers.js';
import type { ExpectStatus } from './http-options.js';

/** The dependency answered with a status outside `expectStatus` (`ERR_PODKIT_UNEXPECTED_STATUS`); `kind` (`HTTP_503`) is what probes show as the error's kind. */
export class UnexpectedStatusError extends PodkitError {
  readonly kind: string;
  readonly status: number;

  constructor(what: string, status: number, expected: ExpectStatus) {
    super('ERR_PODKIT_UNEXPECTED_STATUS', `${what} answered ${status}; expected ${describeExpected(expected)}`);
    this.name = 'UnexpectedStatusError';
    this.kind = `HTTP_${status}`;
    this.status = status;
  }
}

/**
 * The request got no answer (`ERR_PODKIT_HTTP_REQUEST_FAILED`): refused, reset, a DNS or TLS
 * failure. The network error is the `cause`; its code (`ECONNREFUSED`, `ECONNRESET`…) is the
 * `kind` probes show, as it says what failed without saying where.
 */
export class HttpRequestError extends PodkitError {
  readonly kind: string | undefined;

  constructor(what: string, cause: unknown) {
    super('ERR_PODKIT_HTTP_REQUEST_FAILED', `${what} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'HttpRequestError';
    const code = (cause as { code?: unknown } | null)?.code;
    this.kind = typeof code === 'string' ? code : undefined;
  }
}

type Send = typeof httpRequest;
type Respond = (res: IncomingMessage) => void;

/** Sends a request and resolves with the status once the body is read (and discarded). */
export function exchange(what: string, signal: AbortSignal, open: (onResponse: Respond) => ClientRequest): Promise<number> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<number>((resolve, reject) => {
    const fail = (error: unknown) => {
      // An abort is reported with the signal's reason (the TimeoutError that says which task and
      // how long), not Node's generic AbortError.
      if (signal.aborted) return reject(signal.reason);
      reject(new HttpRequestError(what, error));
    };
    let req: ClientRequest;
    try {
      req = open((res) => {
        res.on('error', fail);
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.resume();
      });
    } catch (error) {
      fail(error);
      return;
    }
    req.on('error', fail);
    req.end();
  });
}

interface MainPortTarget {
  send: Send;
  options: RequestOptions;
}

/** Where the service's own server listens, reachable from inside the process. */
export function mainPortTarget(server: MainServer | undefined): MainPortTarget {
  if (!server || !server.listening) {
    throw new PodkitError(
      'ERR_PODKIT_MAIN_PORT_CLOSED',
      'routeWarmup: the main server is not listening during warmup. Keep openMainPort "before-warmup" (the default) and pass the server to start(), e.g. lifecycle.start(() => app.listen(3000)).',
    );
  }
  const address = server.address() as AddressInfo | string | null;
  // Each warmup request on its own connection (agent: false): nothing is left open to slow the drain.
  const common: RequestOptions = { agent: false };
  const tls = 'setSecureContext' in server;
  // Our own certificate is issued for the service's public name, not for the loopback address
  // these requests use; there is nobody in between to verify against.
  const tlsOptions = tls ? ({ rejectUnauthorized: false } as RequestOptions) : {};
  const send: Send = tls ? (httpsRequest as unknown as Send) : httpRequest;
  if (typeof address === 'string') return { send, options: { ...common, ...tlsOptions, socketPath: address } };
  if (!address) throw new PodkitError('ERR_PODKIT_MAIN_PORT_CLOSED', 'routeWarmup: the main server has no address.');
  // A server bound to every interface is reached on loopback.
  const host = address.address === '::' ? '::1' : address.address === '0.0.0.0' ? '127.0.0.1' : address.address;
  return { send, options: { ...common, ...tlsOptions, host, port: address.port } };
}

export function statusMatches(status: number, expected: ExpectStatus): boolean {
  return typeof expected === 'number' ? status === expected : status >= expected[0] && status <= expected[1];
}

function describeExpected(expected: ExpectStatus): string {
  return typeof expected === 'number' ? String(expected) : `${expected[0]}–${expected[1]}`;
}

