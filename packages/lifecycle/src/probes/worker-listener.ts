/**
 * The probe listener in a worker thread, seen from the main thread: starts the thread, hands it
 * the snapshot's shared memory once, forwards the rare text changes, and stops it.
 *
 * Why a worker: on the main thread a probe waits behind every callback the main loop has queued;
 * with the main port saturated that was hundreds of ms at p99, enough for a kubelet with
 * `timeoutSeconds: 1` to fail healthy pods. The worker has its own event loop and reads the state
 * from shared memory, so nothing the main loop does (or fails to do) delays an answer.
 */
import type { AddressInfo } from 'node:net';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { PodkitError } from '../errors.js';
import type { ResolvedProbeOptions } from '../options-resolved.js';
import type { PreStopHandlers } from './pre-stop.js';
import type { ProbeListener } from './server.js';
import { serveDiagnostics } from '../diagnostics/bridge.js';
import type { MainDiagnostics } from '../diagnostics/protocol.js';
import { errorMessage } from '../redact.js';
import type { CheckRegistration, HealthSnapshot, SnapshotMessage } from '../state.js';

/** What the worker is started with: everything it will ever need besides later text changes. */
export interface ProbeWorkerData {
  header: SharedArrayBuffer;
  heartbeatTimeoutMs: number;
  options: ResolvedProbeOptions;
  checks: CheckRegistration[];
  /** New checks and error text, in order (`SnapshotMessage`). */
  updates: MessagePort;
  /** With diagnostics enabled: the way to ask the main thread for one (diagnostics/bridge.ts). */
  diagnostics?: MessagePort;
}

/** A listen error, as plain data (an Error's own fields do not survive postMessage intact). */
export interface ListenErrorData {
  message: string;
  code?: string;
  errno?: number;
  syscall?: string;
  address?: string;
  port?: number;
}

/**
 * What the worker tells the main thread: listening, or why not (once, first); then a preStop call
 * that passed the guard (`id` numbers it, for the answer).
 */
export type ProbeWorkerReport = { type: 'listening'; address: AddressInfo } | { type: 'listen-error'; error: ListenErrorData } | { type: 'prestop'; id: number }
  | { type: 'prestop-refused'; status: number; method: string };

/** The main thread's answer to a preStop call: its drain delay is over. */
export interface PreStopDone {
  type: 'prestop-done';
  id: number;
}

const WORKER_URL = new URL('./worker.js', import.meta.url);

export function createWorkerProbeListener(
  snapshot: HealthSnapshot,
  options: ResolvedProbeOptions,
  preStop?: PreStopHandlers,
  diagnostics?: MainDiagnostics,
): ProbeListener {
  let worker: Worker | undefined;
  let updates: MessagePort | undefined;
  let unsubscribe: (() => void) | undefined;
  let stopDiagnostics: (() => void) | undefined;
  let closing = false;

  /** After start-up, a thread that dies takes the probes with it: crash loudly (exit 70 with the reason) rather than wait for the kubelet to notice. */
  const failed = (why: string, cause?: unknown) => {
    if (closing) return;
    process.nextTick(() => {
      throw new PodkitError('ERR_PODKIT_PROBE_WORKER_FAILED', `the probe worker thread ${why}`, { cause });
    });
  };

  return {
    listen() {
      if (closing) return Promise.reject(closedBeforeListening());
      return new Promise<AddressInfo>((resolve, reject) => {
        const channel = new MessageChannel();
        updates = channel.port1;
        // Subscribe and read the registered checks in one step, so no check falls between the two.
        const link = snapshot.subscribe((message: SnapshotMessage) => channel.port1.postMessage(message));
        unsubscribe = link.unsubscribe;
        const workerData: ProbeWorkerData = {
          header: snapshot.buffer,
          heartbeatTimeoutMs: snapshot.heartbeatTimeoutMs,
          options,
          checks: link.registered,
          updates: channel.port2,
        };
        const transferList = [channel.port2];
        if (diagnostics) {
          const diagnosticsChannel = new MessageChannel();
          stopDiagnostics = serveDiagnostics(diagnosticsChannel.port1, diagnostics.produce, diagnostics.refused);
          workerData.diagnostics = diagnosticsChannel.port2;
          transferList.push(diagnosticsChannel.port2);
        }
        let thread: Worker;
        try {
          // execArgv []: the user's loaders and instrumentation (--import, --require) have no
          // business in a thread that only answers probes, and would slow its start.
          thread = new Worker(WORKER_URL, { workerData, transferList, execArgv: [] });
        } catch (error) {
          reject(error as Error);
          return;
        }
        worker = thread;
        const onError = (error: Error) => {
          cleanUp();
          reject(error);
        };
        const onExit = (code: number) => {
          cleanUp();
          reject(closing ? closedBeforeListening() : new PodkitError('ERR_PODKIT_PROBE_WORKER_FAILED', `the probe worker thread exited (code ${code}) before listening`));
        };
        const onMessage = (report: ProbeWorkerReport) => {
          cleanUp();
          if (report.type === 'listen-error') {
            reject(Object.assign(new Error(report.error.message), report.error));
            return;
          }
          // The drain is the main thread's to start; the worker only decided the call may start it.
          if (options.preStopToken && preStop) {
            thread.on('message', (message: ProbeWorkerReport) => {
              if (message.type === 'prestop-refused') preStop.refused(message.status, message.method);
              if (message.type !== 'prestop') return;
              const done: PreStopDone = { type: 'prestop-done', id: message.id };
              void preStop.begin().then(() => thread.postMessage(done));
            });
          }
          // Listening: from now on the thread must never be what keeps the process alive. After the
          // 'message' listener, which refs the thread's port again when it is added.
          thread.unref();
          thread.on('error', (error) => failed(`failed: ${errorMessage(error)}`, error));
          thread.on('exit', (code) => failed(`exited (code ${code})`));
          // The first report is always listening or listen-error: a preStop call needs a listener.
          if (report.type === 'listening') resolve(report.address);
        };
        const cleanUp = () => {
          thread.off('error', onError);
          thread.off('exit', onExit);
          thread.off('message', onMessage);
        };
        thread.once('error', onError);
        thread.once('exit', onExit);
        thread.once('message', onMessage);
      });
    },

    async close() {
      closing = true;
      unsubscribe?.();
      updates?.close();
      stopDiagnostics?.();
      if (!worker) return;
      // Held until the thread is gone: the shutdown sequence awaits this, and an unref'd thread
      // alone would let the process run out of work (and exit without its exit code) meanwhile.
      worker.ref();
      await worker.terminate();
    },
  };
}

/** stop() came before the listener was up: the start it belonged to is over. */
function closedBeforeListening(): PodkitError {
  return new PodkitError('ERR_PODKIT_SHUTTING_DOWN', 'the probe listener was closed before it listened');
}
