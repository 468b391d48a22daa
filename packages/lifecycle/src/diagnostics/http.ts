/**
 * The probe listener's side of the diagnostics: matches the routes, refuses (403 address, 401
 * token, 405 method, 400 parameters, 409 busy) before anything is computed, and streams what the
 * runner produces into the response. The runner is the main thread's producer itself (probes on the
 * main thread) or the bridge to it (probes in their worker).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { splitUrl } from '../probes/paths.js';
import { createGuard } from './guard.js';
import type { ResolvedDiagnosticsOptions } from './options.js';
import { DIAGNOSTIC_PATHS, type DiagnosticSink, type DiagnosticsRunner, type RefusedDiagnostic } from './protocol.js';

/** Handles a request when it is a diagnostic route (true), or leaves it to the probe answers (false). */
export type DiagnosticsHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

const BASE_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', connection: 'close' };

function refuse(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  const body = `${text}\n`;
  res.writeHead(status, { ...BASE_HEADERS, ...extra, 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

/**
 * Streams into `res`, honouring its backpressure; every wait ends when the response closes.
 * `delivered` is called once the caller has every byte it was promised: with a content-length, at
 * the last byte, which can be a message round trip (the main thread's `end`) before `res.end()`.
 */
function responseSink(res: ServerResponse, delivered: () => void): DiagnosticSink {
  let owed = Infinity;
  return {
    head: ({ status, headers }) => {
      if (headers['content-length'] !== undefined) owed = Number(headers['content-length']);
      res.writeHead(status, { ...BASE_HEADERS, ...headers });
    },
    chunk: (data) =>
      new Promise<void>((resolve) => {
        owed -= data.byteLength;
        if (owed <= 0) delivered();
        if (res.destroyed || res.write(data)) {
          resolve();
          return;
        }
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      }),
    end: () => res.end(),
    // Headers are gone already: cutting the connection is the only way to say "incomplete".
    fail: () => res.destroy(),
  };
}

export function createDiagnosticsHandler(
  options: ResolvedDiagnosticsOptions,
  run: DiagnosticsRunner,
  onRefused: (refused: RefusedDiagnostic) => void,
): DiagnosticsHandler {
  const guard = createGuard(options);
  let busy = false;

  return (req, res) => {
    const { path, query } = splitUrl(req.url ?? '/', '');
    const kind = DIAGNOSTIC_PATHS[path];
    if (kind === undefined) return false;
    const remoteAddress = req.socket.remoteAddress ?? '';
    const refused = (status: number, reason: string, extra?: Record<string, string>) => {
      refuse(res, status, reason, extra);
      onRefused({ status, reason, path, remoteAddress });
      return true;
    };

    const denial = guard(remoteAddress, req.headers.authorization);
    if (denial) return refused(denial.status, denial.reason, denial.status === 401 ? { 'www-authenticate': 'Bearer realm="podkit-diagnostics"' } : {});
    if (req.method !== 'GET') return refused(405, 'method not allowed', { allow: 'GET' });
    let seconds: number | undefined;
    if (kind === 'cpu-profile') {
      const raw = query.get('seconds') ?? '';
      seconds = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
      if (!(seconds >= 1 && seconds <= options.maxCpuProfileSeconds)) {
        return refused(400, `seconds=N required, a whole number from 1 to ${options.maxCpuProfileSeconds} (probes.diagnostics.maxCpuProfileSeconds)`);
      }
    }
    // One at a time: two heap snapshots at once would need twice the headroom that was checked.
    if (busy) return refused(409, 'another diagnostic is running; try again when it has finished', { 'retry-after': '5' });

    busy = true;
    // A profile or a large snapshot is silent for longer than the listener's idle limit allows.
    req.socket.setTimeout(0);
    req.resume();
    const controller = new AbortController();
    res.once('close', () => controller.abort());
    // Free from the moment the caller has the whole artifact, not only once the producer has
    // tidied up after it (its `end` and `done` cross threads later): a caller that asks again as
    // soon as it has read its answer must not be told 409.
    const release = () => {
      busy = false;
    };
    res.once('finish', release);
    void run({ kind, remoteAddress, ...(seconds === undefined ? {} : { seconds }) }, responseSink(res, release), controller.signal).finally(release);
    return true;
  };
}
