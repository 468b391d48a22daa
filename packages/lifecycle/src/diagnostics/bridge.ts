/**
 * Diagnostics across threads. With the probe listener in its worker, the worker has authenticated
 * the caller; it asks the main thread (postMessage) to produce the artifact, and the main thread
 * streams it back chunk by chunk, each chunk waiting for the worker's ack so that a slow client
 * never makes a heap snapshot pile up in memory. Requests refused in the worker are sent over too,
 * for the main thread's log.
 */
import type { MessagePort } from 'node:worker_threads';
import type { DiagnosticHead, DiagnosticRequest, DiagnosticSink, DiagnosticsRunner, RefusedDiagnostic } from './protocol.js';

/** Worker → main. */
export type ToMain =
  | { type: 'run'; id: number; request: DiagnosticRequest }
  | { type: 'ack'; id: number }
  | { type: 'cancel'; id: number }
  | { type: 'refused'; refused: RefusedDiagnostic };

/** Main → worker. */
export type ToWorker =
  | { type: 'head'; id: number; head: DiagnosticHead }
  | { type: 'chunk'; id: number; data: Uint8Array }
  | { type: 'end'; id: number }
  | { type: 'fail'; id: number; reason: string }
  | { type: 'done'; id: number };

/** Worker side: a runner that asks the main thread. */
export function createRemoteRunner(port: MessagePort): { run: DiagnosticsRunner; refused: (refused: RefusedDiagnostic) => void } {
  const running = new Map<number, { sink: DiagnosticSink; done: () => void }>();
  let nextId = 1;
  const post = (message: ToMain) => port.postMessage(message);
  port.on('message', (message: ToWorker) => {
    const entry = running.get(message.id);
    if (!entry) return;
    if (message.type === 'head') entry.sink.head(message.head);
    else if (message.type === 'chunk') void entry.sink.chunk(message.data).then(() => post({ type: 'ack', id: message.id }));
    else if (message.type === 'end') entry.sink.end();
    else if (message.type === 'fail') entry.sink.fail(message.reason);
    else {
      running.delete(message.id);
      entry.done();
    }
  });
  // The listening server keeps the worker alive; this port must not.
  port.unref();
  return {
    run: (request, sink, signal) =>
      new Promise<void>((resolve) => {
        const id = nextId++;
        running.set(id, { sink, done: resolve });
        signal.addEventListener('abort', () => post({ type: 'cancel', id }), { once: true });
        post({ type: 'run', id, request });
      }),
    refused: (refused) => post({ type: 'refused', refused }),
  };
}

/** Main side: serves the worker's requests with `produce`. Returns the function that stops (and aborts what runs). */
export function serveDiagnostics(port: MessagePort, produce: DiagnosticsRunner, onRefused: (refused: RefusedDiagnostic) => void): () => void {
  const running = new Map<number, { controller: AbortController; acked: () => void }>();
  const post = (message: ToWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

  function start(id: number, request: DiagnosticRequest): void {
    const controller = new AbortController();
    const entry = { controller, acked: () => {} };
    running.set(id, entry);
    const sink: DiagnosticSink = {
      head: (head) => post({ type: 'head', id, head }),
      chunk: (data) =>
        new Promise<void>((resolve) => {
          if (controller.signal.aborted) {
            resolve();
            return;
          }
          entry.acked = resolve;
          // A copy of exactly these bytes, moved rather than cloned (a pooled Buffer's whole backing store would be cloned).
          const copy = new Uint8Array(data);
          post({ type: 'chunk', id, data: copy }, [copy.buffer]);
        }),
      end: () => post({ type: 'end', id }),
      fail: (reason) => post({ type: 'fail', id, reason }),
    };
    void produce(request, sink, controller.signal).finally(() => {
      running.delete(id);
      post({ type: 'done', id });
    });
  }

  port.on('message', (message: ToMain) => {
    if (message.type === 'run') start(message.id, message.request);
    else if (message.type === 'refused') onRefused(message.refused);
    else {
      const entry = running.get(message.id);
      if (message.type === 'cancel') entry?.controller.abort();
      // Resolved on cancel too, so a producer waiting for room never waits for a worker that left.
      entry?.acked();
    }
  });
  // Never what keeps the process alive.
  port.unref();
  return () => {
    for (const entry of running.values()) {
      entry.controller.abort();
      entry.acked();
    }
    port.close();
  };
}
