/**
 * The probe listener, on its own port: in a worker thread (the default) or on the main thread
 * (`probes.thread: 'main'`). Both run the same server (`server.ts`) with the same limits and
 * give the same answers (`answers.ts`) from the same snapshot.
 */
import type { ResolvedProbeOptions } from '../options-resolved.js';
import { createProbeServer, type ProbeListener } from './server.js';
import { answerProbe } from './answers.js';
import type { HealthSnapshot } from '../state.js';
import { createWorkerProbeListener } from './worker-listener.js';
import { createPreStopRoute, type BeginPreStop } from './pre-stop.js';

export { startHeartbeat } from './heartbeat.js';
export type { ProbeListener };

/** `onPreStop` starts the drain for a preStop call that passed the guard (only with `options.preStopToken`). */
export function createProbeListener(snapshot: HealthSnapshot, options: ResolvedProbeOptions, onPreStop: BeginPreStop): ProbeListener {
  if (options.thread === 'main') {
    const preStop = options.preStopToken ? createPreStopRoute(options.preStopToken, onPreStop) : undefined;
    return createProbeServer((request) => answerProbe(snapshot, request, options), options, preStop);
  }
  return createWorkerProbeListener(snapshot, options, onPreStop);
}
