/**
 * What the probe listener's side and the main thread's side of a diagnostic share: the routes, the
 * request, and the sink the artifact is streamed into (an HTTP response on the main thread, a
 * MessagePort to the probe worker otherwise).
 */

export type DiagnosticKind = 'heap-snapshot' | 'cpu-profile' | 'report';

/** The routes, on the probe port only (never on the app's port). */
export const DIAGNOSTIC_PATHS: Readonly<Record<string, DiagnosticKind>> = {
  '/debug/heap-snapshot': 'heap-snapshot',
  '/debug/cpu-profile': 'cpu-profile',
  '/debug/report': 'report',
};

export interface DiagnosticRequest {
  kind: DiagnosticKind;
  /** CPU profile only: how long to profile, in seconds. */
  seconds?: number;
  /** Who asked (already allowed and authenticated): for the log line. */
  remoteAddress: string;
}

export interface DiagnosticHead {
  status: number;
  headers: Record<string, string>;
}

/** Where an artifact goes. `chunk` resolves when the receiver can take more (backpressure). */
export interface DiagnosticSink {
  head(head: DiagnosticHead): void;
  chunk(data: Uint8Array): Promise<void>;
  end(): void;
  /** Something failed after the head was sent: the receiver cuts the response short. */
  fail(reason: string): void;
}

/** Produces one diagnostic into the sink; `signal` aborts when the caller has gone. Never rejects. */
export type DiagnosticsRunner = (request: DiagnosticRequest, sink: DiagnosticSink, signal: AbortSignal) => Promise<void>;

/** A diagnostic refused before anything was computed, for the log (never the token). */
export interface RefusedDiagnostic {
  status: number;
  reason: string;
  path: string;
  remoteAddress: string;
}

/** The main thread's diagnostics: the producer, and where refusals are logged. */
export interface MainDiagnostics {
  produce: DiagnosticsRunner;
  refused: (refused: RefusedDiagnostic) => void;
}
