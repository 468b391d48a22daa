/**
 * The probe worker thread: the same listener (`server.ts`) and the same answers
 * (`answers.ts`) as on the main thread, over a view of the main thread's shared memory.
 * It never asks the main thread anything to answer a probe; what it cannot read from shared memory
 * (a new check's name, a changed error text) was posted to it, and it takes those synchronously
 * before answering. What it hands over: a guarded preStop call (pre-stop.ts) and an authenticated
 * diagnostic (diagnostics/bridge.ts), both for the main thread to serve.
 */
import { receiveMessageOnPort, parentPort, workerData } from 'node:worker_threads';
import { answerProbe } from './answers.js';
import { createPreStopRoute } from './pre-stop.js';
import { createRemoteRunner } from '../diagnostics/bridge.js';
import { createDiagnosticsHandler } from '../diagnostics/http.js';
import { createProbeServer } from './server.js';
import { HealthSnapshot, type SnapshotMessage } from '../state.js';
import type { ListenErrorData, PreStopDone, ProbeWorkerData, ProbeWorkerReport } from './worker-listener.js';

const data = workerData as ProbeWorkerData;
const snapshot = new HealthSnapshot({ heartbeatTimeoutMs: data.heartbeatTimeoutMs }, data.header);
for (const check of data.checks) snapshot.adoptCheck(check);

// Messages are applied as they arrive, and also drained synchronously before each answer: a check
// registered (or a text changed) just before a probe is then in that probe's answer.
const { updates } = data;
updates.on('message', (message: SnapshotMessage) => snapshot.receive(message));
// The listening server keeps this thread alive; the port must not (a failed listen ends the thread).
updates.unref();
function catchUp(): void {
  for (let next = receiveMessageOnPort(updates); next; next = receiveMessageOnPort(updates)) snapshot.receive(next.message as SnapshotMessage);
}

const report = (message: ProbeWorkerReport) => parentPort?.postMessage(message);

// A preStop call that passed the guard is handed to the main thread, which starts the drain and
// answers when its delay is over. A wedged main loop delays that answer, as it would delay SIGTERM.
const preStopCalls = new Map<number, () => void>();
let preStopIds = 0;
const preStop = data.options.preStopToken
  ? createPreStopRoute(data.options.preStopToken, {
      begin: () => {
        const id = (preStopIds += 1);
        report({ type: 'prestop', id });
        return new Promise<void>((resolve) => preStopCalls.set(id, resolve));
      },
      refused: (status, method) => report({ type: 'prestop-refused', status, method }),
    })
  : undefined;
if (preStop && parentPort) {
  parentPort.on('message', (message: PreStopDone) => {
    if (message.type !== 'prestop-done') return;
    preStopCalls.get(message.id)?.();
    preStopCalls.delete(message.id);
  });
  // Like `updates`: only the listening server keeps this thread alive.
  parentPort.unref();
}

// Diagnostics are authenticated here and produced on the main thread, which the artifacts describe.
const remote = data.diagnostics && createRemoteRunner(data.diagnostics);
const diagnostics = remote && createDiagnosticsHandler(data.options.diagnostics, remote.run, remote.refused);
const server = createProbeServer(
  (request) => {
    catchUp();
    return answerProbe(snapshot, request, data.options);
  },
  data.options,
  preStop,
  diagnostics,
);

server.listen().then(
  (address) => report({ type: 'listening', address }),
  (error: NodeJS.ErrnoException & { address?: string; port?: number }) => {
    const plain: ListenErrorData = { message: error.message };
    if (error.code !== undefined) plain.code = error.code;
    if (error.errno !== undefined) plain.errno = error.errno;
    if (error.syscall !== undefined) plain.syscall = error.syscall;
    if (error.address !== undefined) plain.address = error.address;
    if (error.port !== undefined) plain.port = error.port;
    report({ type: 'listen-error', error: plain });
  },
);
