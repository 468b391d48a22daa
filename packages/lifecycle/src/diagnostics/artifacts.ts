/**
 * The diagnostics themselves, produced on the MAIN thread (the service's, whichever thread the
 * probe listener runs in), with what Node ships: `v8.getHeapSnapshot()` (a stream, read chunk by
 * chunk as the receiver takes them), the inspector's `Profiler` for a CPU profile, and
 * `process.report.getReport()` with the network section excluded (its reverse DNS lookups can
 * block the loop for seconds: https://nodejs.org/api/process.html#processreportexcludenetwork).
 * Nothing in an artifact is redacted: it is the process as it is, for whoever holds the token.
 */
import type { Logger } from '../logger.js';
import { errorMessage } from '../redact.js';
import { heapSnapshotRefusal } from './headroom.js';
import type { ResolvedDiagnosticsOptions } from './options.js';
import type { DiagnosticHead, DiagnosticKind, DiagnosticRequest, DiagnosticSink, DiagnosticsRunner, RefusedDiagnostic } from './protocol.js';
import { onePerWindow } from '../windowed-log.js';

const EXTENSIONS: Record<DiagnosticKind, string> = { 'heap-snapshot': 'heapsnapshot', 'cpu-profile': 'cpuprofile', report: 'json' };

function artifactHead(kind: DiagnosticKind, length?: number): DiagnosticHead {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return {
    status: 200,
    headers: {
      'content-type': 'application/json',
      'content-disposition': `attachment; filename="${kind}-${process.pid}-${stamp}.${EXTENSIONS[kind]}"`,
      ...(length === undefined ? {} : { 'content-length': String(length) }),
    },
  };
}

async function sendWhole(sink: DiagnosticSink, head: DiagnosticHead, body: string): Promise<void> {
  const bytes = Buffer.from(body);
  sink.head({ ...head, headers: { ...head.headers, 'content-length': String(bytes.byteLength) } });
  await sink.chunk(bytes);
  sink.end();
}

const textHead = (status: number): DiagnosticHead => ({ status, headers: { 'content-type': 'text/plain; charset=utf-8' } });

/** Waits `ms`, or less when `signal` aborts. The timer is unref'd: a profile never keeps the process alive. */
function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms).unref();
    signal.addEventListener('abort', done, { once: true });
  });
}

type Outcome = { served: true } | { served: false; status: number; reason: string };

async function heapSnapshot(options: ResolvedDiagnosticsOptions, sink: DiagnosticSink, signal: AbortSignal): Promise<Outcome> {
  // 507: the container lacks the memory to hold the snapshot; a retry later (a smaller heap, more
  // headroom) may succeed, unlike a 4xx. Checked before anything is allocated.
  // Loaded when asked, not at import: every service imports podkit, few ever take a diagnostic.
  const { getHeapSnapshot, getHeapStatistics } = await import('node:v8');
  const refusal = heapSnapshotRefusal(options.cgroupRoot, getHeapStatistics().used_heap_size);
  if (refusal) {
    await sendWhole(sink, textHead(507), `heap snapshot refused: ${refusal.reason}\n`);
    return { served: false, status: 507, reason: refusal.reason };
  }
  // Taking the snapshot blocks this loop (seconds for a large heap); streaming it out does not.
  const stream = getHeapSnapshot();
  sink.head(artifactHead('heap-snapshot'));
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (signal.aborted) break;
    await sink.chunk(chunk);
  }
  if (signal.aborted) return { served: false, status: 499, reason: 'the caller went away' };
  sink.end();
  return { served: true };
}

async function cpuProfile(seconds: number, sink: DiagnosticSink, signal: AbortSignal): Promise<Outcome> {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    await wait(seconds * 1000, signal);
    const { profile } = await session.post('Profiler.stop');
    if (signal.aborted) return { served: false, status: 499, reason: 'the caller went away' };
    await sendWhole(sink, artifactHead('cpu-profile'), JSON.stringify(profile));
    return { served: true };
  } finally {
    session.disconnect();
  }
}

/** `excludeNetwork` (Node 20.13, 22.0) is missing from @types/node 22's ProcessReport. */
type ReportApi = NodeJS.ProcessReport & { excludeNetwork: boolean };

async function report(sink: DiagnosticSink): Promise<Outcome> {
  const api = process.report as ReportApi;
  const previous = api.excludeNetwork;
  api.excludeNetwork = true;
  let body: string;
  try {
    body = JSON.stringify(api.getReport());
  } finally {
    api.excludeNetwork = previous;
  }
  await sendWhole(sink, artifactHead('report'), body);
  return { served: true };
}

/** The main thread's side: produces what was asked, logs it, and never rejects. */
export function createDiagnosticsProducer(options: ResolvedDiagnosticsOptions, logger: Logger): DiagnosticsRunner {
  return async (request, sink, signal) => {
    const began = performance.now();
    let headSent = false;
    let bytes = 0;
    const counted: DiagnosticSink = {
      head: (head) => ((headSent = true), sink.head(head)),
      chunk: (data) => ((bytes += data.byteLength), sink.chunk(data)),
      end: () => sink.end(),
      fail: (reason) => sink.fail(reason),
    };
    const fields = { event: 'diagnostic', kind: request.kind, remoteAddress: request.remoteAddress, ...(request.seconds ? { seconds: request.seconds } : {}) };
    try {
      const outcome =
        request.kind === 'heap-snapshot' ? await heapSnapshot(options, counted, signal)
        : request.kind === 'cpu-profile' ? await cpuProfile(request.seconds ?? 1, counted, signal)
        : await report(counted);
      const durationMs = Math.round(performance.now() - began);
      if (outcome.served) logger.info({ ...fields, status: 200, bytes, durationMs }, `diagnostic ${request.kind} served`);
      else logger.warn({ ...fields, status: outcome.status, durationMs }, `diagnostic ${request.kind} not served: ${outcome.reason}`);
    } catch (error) {
      logger.error({ ...fields, status: 500, error }, `diagnostic ${request.kind} failed: ${errorMessage(error)}`);
      if (headSent) sink.fail(errorMessage(error));
      else await sendWhole(sink, textHead(500), `diagnostic ${request.kind} failed\n`).catch(() => {});
    }
  };
}

/** Refusals logged at most once per this window, in ms; the rest are counted into the next line. */
export const REFUSAL_LOG_WINDOW_MS = 10_000;

/**
 * Logs requests refused before anything was computed, on the main thread, never with the token.
 * Anybody who reaches the probe port can be refused as fast as they can send: one line per window,
 * with how many were refused unlogged before it, so a flood cannot flood the logs.
 */
export function createRefusalLog(logger: Logger): (refused: RefusedDiagnostic) => void {
  return onePerWindow(REFUSAL_LOG_WINDOW_MS, (refused: RefusedDiagnostic, suppressed) => {
    const fields = { event: 'diagnostic', ...refused, ...(suppressed > 0 ? { suppressedBefore: suppressed } : {}) };
    logger.warn(fields, `diagnostic request for ${refused.path} refused (${refused.status}): ${refused.reason}`);
  });
}
