/**
 * Options of the probe listener and of liveness.
 */
import type { DiagnosticsOptions } from './diagnostics/options.js';

export type { DiagnosticsOptions } from './diagnostics/options.js';

/** The probe listener. It is a bare `node:http` server on its own port, with tight limits. */
export interface ProbeOptions {
  /** Port of the probe listener (0 picks a free one). @default 9000 */
  port?: number;
  /** Address to bind. Leave unset to listen on every interface, as the kubelet probes the pod IP. @default undefined */
  host?: string;
  /** Serve Prometheus text at `/metrics`. @default false */
  metrics?: boolean;
  /** Show error messages (credentials stripped) in probe bodies instead of only the error's kind. @default false */
  exposeErrors?: boolean;
  /** Open connections allowed; past it the oldest connection that has not sent a full request is dropped. @default 64 */
  maxConnections?: number;
  /** A client must send its request headers within this, in ms. @default 2000 */
  headersTimeoutMs?: number;
  /** A client must send its whole request within this, in ms. @default 5000 */
  requestTimeoutMs?: number;
  /** Largest request header block accepted; larger gets 431, in bytes. @default 8192 */
  maxHeaderSize?: number;
  /**
   * Where the listener runs. `'worker'`: in a worker thread of its own, reading the snapshot from
   * shared memory, so probes answer in milliseconds however busy (or wedged) the main loop is;
   * the thread is unref'd and never keeps the process alive. `'main'`: on the main event loop, for
   * runtimes without worker threads; a saturated main loop then delays every probe.
   * @default 'worker'
   */
  thread?: ProbeThread;
  /**
   * Turns on `GET /prestopz`, for a Kubernetes `preStop: httpGet` hook: a call that carries
   * `Authorization: Bearer <this token>` starts the drain (readiness 503, `Connection: close`) and
   * is answered when the drain delay is over; the SIGTERM that follows carries on the same shutdown
   * with no second delay. Any other caller gets 401 and starts nothing: anybody who can reach the
   * probe port could otherwise take the pod out of service. At least 16 characters; unset: no
   * endpoint (404). See probes/pre-stop.ts.
   * @default undefined
   */
  preStopToken?: string;
  /**
   * Guarded diagnostics of the main thread on the probe port (heap snapshot, CPU profile, report):
   * off unless `enabled`, and then only for a bearer token from an allowed address.
   */
  diagnostics?: DiagnosticsOptions;
}

export type ProbeThread = 'worker' | 'main';

/** Liveness: what makes `/livez` fail besides a fatal error. */
export interface LivenessOptions {
  /**
   * `/livez` (and `/readyz`) answer 503 when the main loop's heartbeat (written every 250 ms) is
   * older than this, in ms: the loop is wedged (an endless loop, a stuck synchronous call). A
   * loop that is busy but still turns keeps beating and stays alive.
   *
   * Why 5000 with the kubelet's defaults (periodSeconds 10, timeoutSeconds 1, failureThreshold 3):
   * it is under one probe period, so a loop wedged from one probe to the next always fails the
   * second; it is five times timeoutSeconds, the only slack a main-thread listener ever had, so
   * GC pauses and synchronous bursts of a few seconds pass; and failureThreshold still asks for
   * three failed probes (about 25 s of wedge) before a restart, so one long call never restarts a pod.
   * @default 5000
   */
  heartbeatTimeoutMs?: number;
}
