/**
 * The probe listener, on its own port: in a worker thread (the default) or on the main thread
 * (`probes.thread: 'main'`). Both run the same server (`server.ts`) with the same limits and
 * give the same answers (`answers.ts`) from the same snapshot. With `probes.diagnostics` enabled,
 * both serve the guarded diagnostics, produced on the main thread by `diagnostics`.
 */
import type { MainDiagnostics } from '../diagnostics/protocol.js';
import { createDiagnosticsHandler } from '../diagnostics/http.js';
import type { ResolvedProbeOptions } from '../options-resolved.js';
import { createProbeServer, type ProbeListener } from './server.js';
import { answerProbe } from './answers.js';
import type { HealthSnapshot } from '../state.js';
import { createWorkerProbeListener } from './worker-listener.js';
import { createPreStopRoute, type PreStopHandlers } from './pre-stop.js';

export { startHeartbeat } from './heartbeat.js';
export type { ProbeListener };
export type { MainDiagnostics };

/**
 * `preStop` starts the drain for a preStop call that passed the guard, and logs one that did not (only with `options.preStopToken`);
 * `diagnostics` produces the guarded diagnostics (only with `options.diagnostics.enabled`).
 */
export function createProbeListener(snapshot: HealthSnapshot, options: ResolvedProbeOptions, preStop: PreStopHandlers, diagnostics?: MainDiagnostics): ProbeListener {
  if (options.thread === 'main') {
    const preStopRoute = options.preStopToken ? createPreStopRoute(options.preStopToken, preStop) : undefined;
    const handler = diagnostics && createDiagnosticsHandler(options.diagnostics, diagnostics.produce, diagnostics.refused);
    return createProbeServer((request) => answerProbe(snapshot, request, options), options, preStopRoute, handler);
  }
  return createWorkerProbeListener(snapshot, options, preStop, diagnostics);
}
