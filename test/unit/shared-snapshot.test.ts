/**
 * The snapshot in shared memory, from source: a view over another snapshot's buffers (what the
 * probe worker holds) reads every write the moment it is made, answers byte for byte what the
 * snapshot itself answers, and judges the heartbeat by the same rule.
 */
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { answerProbe } from '../../packages/lifecycle/src/probes/answers.js';
import { HealthSnapshot, isAlive, isReady, monotonicNs, type SnapshotMessage } from '../../packages/lifecycle/src/state.js';

const liveness = { heartbeatTimeoutMs: 1000 };
const options = { exposeErrors: true, metrics: true };

/** A snapshot and a worker-side view of it, linked as the probe worker is: registrations up front, then messages. */
function linked() {
  const snapshot = new HealthSnapshot(liveness);
  const channel = new MessageChannel();
  const link = snapshot.subscribe((message) => channel.port1.postMessage(message));
  const view = new HealthSnapshot(liveness, snapshot.buffer);
  for (const check of link.registered) view.adoptCheck(check);
  const catchUp = () => {
    for (let next = receiveMessageOnPort(channel.port2); next; next = receiveMessageOnPort(channel.port2)) view.receive(next.message as SnapshotMessage);
  };
  const close = () => {
    channel.port1.close();
    channel.port2.close();
  };
  return { snapshot, view, catchUp, close };
}

const URLS = ['/livez', '/livez?verbose', '/readyz', '/readyz?verbose', '/readyz?exclude=db', '/startupz?verbose', '/readyz/db', '/readyz/cache', '/metrics'];
const ACCEPTS = [undefined, 'application/json', 'application/health+json'];

function everyAnswer(snapshot: HealthSnapshot) {
  return URLS.flatMap((url) => ACCEPTS.map((accept) => answerProbe(snapshot, { method: 'GET', url, accept }, options)));
}

describe('the snapshot in shared memory', () => {
  it('starts all zeros: starting, not warmed up, nothing in flight, no heartbeat', () => {
    const snapshot = new HealthSnapshot(liveness);
    expect([snapshot.state, snapshot.warmedUp, snapshot.inFlight, snapshot.heartbeatAgeMs]).toEqual(['starting', false, 0, undefined]);
    expect(new Uint8Array(snapshot.buffer).every((byte) => byte === 0)).toBe(true);
  });

  it('shows a view every write at once: state, warmup, in-flight count and each check verdict', () => {
    const { snapshot, view, catchUp, close } = linked();
    const db = snapshot.addCheck('db', true);
    catchUp();
    snapshot.transition('warming');
    snapshot.transition('ready');
    snapshot.markWarmedUp();
    snapshot.addInFlight(3);
    snapshot.setCheckVerdict('db', {
      status: 'failing',
      runs: db.runs + 1,
      failures: db.failures + 1,
      consecutiveFailures: 4,
      lastDurationMs: 12.3456789,
      lastRunAt: 1_700_000_000_123,
      lastErrorKind: 'ECONNREFUSED',
    });
    catchUp();
    const seen = view.checks.get('db')!;
    expect([view.state, view.warmedUp, view.inFlight]).toEqual(['ready', true, 3]);
    expect([seen.status, seen.runs, seen.failures, seen.consecutiveFailures, seen.lastRunAt, seen.lastErrorKind]).toEqual([
      'failing', 1, 1, 4, 1_700_000_000_123, 'ECONNREFUSED',
    ]);
    // Kept to the microsecond, as the check runner rounds it: the same number prints on both sides.
    expect(seen.lastDurationMs).toBe(12.346);
    expect(db.lastDurationMs).toBe(12.346);
    snapshot.transition('draining');
    expect(isReady(view)).toBe(false);
    close();
  });

  it('gives byte-identical answers from a view and from the snapshot, for every probe, form and state', () => {
    const { snapshot, view, catchUp, close } = linked();
    const db = snapshot.addCheck('db', true);
    const cache = snapshot.addCheck('cache', false);
    for (const state of ['warming', 'ready', 'draining', 'failed'] as const) {
      snapshot.transition(state);
      if (state !== 'warming') snapshot.markWarmedUp();
      snapshot.setCheckVerdict(db.name, {
        status: state === 'ready' ? 'ok' : 'failing',
        lastDurationMs: 1.5,
        lastRunAt: 1_700_000_000_000,
        lastErrorKind: 'timeout',
        lastErrorMessage: 'check "db" timed out after 1000 ms',
      });
      snapshot.setCheckVerdict(cache.name, { status: 'failing' });
      catchUp();
      expect(everyAnswer(view)).toEqual(everyAnswer(snapshot));
    }
    close();
  });

  it('judges a heartbeat older than heartbeatTimeoutMs as a stalled loop: liveness and readiness fail and say why, startup stays', () => {
    const snapshot = new HealthSnapshot(liveness);
    snapshot.transition('warming');
    snapshot.transition('ready');
    snapshot.markWarmedUp();
    snapshot.beat();
    expect([isAlive(snapshot), isReady(snapshot)]).toEqual([true, true]);
    snapshot.beat(monotonicNs() - 1_500_000_000n);
    expect(snapshot.heartbeatAgeMs).toBeGreaterThanOrEqual(1500);
    // Startup is about warmup only: a stall after it does not un-start the service.
    expect([isAlive(snapshot), isReady(snapshot), snapshot.isStarted()]).toEqual([false, false, true]);
    const verbose = answerProbe(snapshot, { method: 'GET', url: '/livez?verbose' }, options);
    expect(verbose.status).toBe(503);
    expect(verbose.body).toMatch(/^\[\+\]state ready\n\[-\]event-loop stalled: no heartbeat for 15\d\d ms \(liveness\.heartbeatTimeoutMs 1000\)\nlivez check failed\n$/);
    const json = JSON.parse(answerProbe(snapshot, { method: 'GET', url: '/livez', accept: 'application/json' }, options).body) as Record<string, unknown>;
    expect(json).toMatchObject({ status: 'fail', eventLoopStalled: true });
    // A stopped heartbeat (0) is not judged: nothing beats, so nothing is stale.
    snapshot.beat(0n);
    expect([isAlive(snapshot), snapshot.heartbeatAgeMs]).toEqual([true, undefined]);
  });

  it('is shared with a real worker thread: a store on one side is read on the other, no message needed', async () => {
    const snapshot = new HealthSnapshot(liveness);
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const i32 = new Int32Array(workerData, 0, 4);
       parentPort.on('message', () => parentPort.postMessage(Atomics.load(i32, 0)));`,
      { eval: true, workerData: snapshot.buffer },
    );
    const ask = () =>
      new Promise<number>((resolve) => {
        worker.once('message', resolve);
        worker.postMessage('state?');
      });
    try {
      expect(await ask()).toBe(0);
      snapshot.transition('draining');
      expect(await ask()).toBe(3);
    } finally {
      await worker.terminate();
    }
  });
});
