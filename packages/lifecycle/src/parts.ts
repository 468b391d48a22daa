/**
 * What the start and the shutdown sequences share, built once by the composition root. The few
 * facts that change while the lifecycle runs are one record, `Runtime`, each field with one
 * writer (named beside it), instead of loose variables in one closure.
 */
import type { AddressInfo } from 'node:net';
import type { CheckRunner } from './checks/runner.js';
import type { MainServer, RequestDrain } from './drain.js';
import type { Emit } from './events.js';
import type { Holds } from './holds.js';
import type { Logger } from './logger.js';
import type { ResolvedOptions } from './options-resolved.js';
import type { ProbeListener } from './probes/server.js';
import { collectHeldBy, type HeldBy } from './forensics.js';
import type { Uninstall } from './signals.js';
import type { RunningStep } from './steps.js';
import type { HealthSnapshot, LifecycleState } from './state.js';

/** What an adapter tells the core about an app, so `lifecycle.start(app)` works. */
export interface AttachedApp {
  /** The app's HTTP server. */
  server: MainServer;
  /** Starts listening, when `start(app)` is called on an app that is not listening yet. */
  listen?: () => Promise<unknown>;
}

export interface Runtime {
  /** Written by start() (and stop() before start, which counts as one): a lifecycle runs once. */
  started: boolean;
  /** start(): the probe listener and its bound address. */
  probeServer: ProbeListener | undefined;
  probeAddress: AddressInfo | undefined;
  /** start(): the main server, once it listens. */
  mainServer: MainServer | undefined;
  /**
   * start(): the server it was given or got, known as early as possible so a shutdown racing
   * start() closes it too.
   */
  startServer: MainServer | undefined;
  /** start(): foreign signal listeners taken (foreignSignalHandlers: 'defer'); the shutdown runs them after the hooks. */
  runForeign: ((signal: NodeJS.Signals, timeoutMs: number) => Promise<void>) | undefined;
  /** attach(): the app an adapter attached last, for `start(fn)` whose fn returns no server. */
  lastAttached: AttachedApp | undefined;
}

export interface Parts {
  config: ResolvedOptions;
  logger: Logger;
  snapshot: HealthSnapshot;
  drain: RequestDrain;
  emit: Emit;
  checks: Map<string, CheckRunner>;
  holds: Holds;
  attached: WeakMap<object, AttachedApp>;
  /** Aborted when shutdown reaches "stop accepting": `lifecycle.signal`. */
  stopController: AbortController;
  /** Aborts warmups (and the wait for the main port) when a shutdown begins before ready. */
  warmupController: AbortController;
  /** Warmups and shutdown hooks whose task has not settled (runStep keeps it): for forensics. */
  running: Set<RunningStep>;
  /** Undone at the exit: signal and crash handlers, the heartbeat, the in-flight sampler. */
  uninstalls: Uninstall[];
  runtime: Runtime;
  /** The one way the state changes: the snapshot's transition, logged and emitted. */
  transition(to: LifecycleState, reason: string): boolean;
}

/** What holds the service right now (forensics.ts): requests in flight, long-lived connections, holds, running steps, handles. */
export function heldByOf(parts: Parts): HeldBy {
  const now = performance.now();
  return collectHeldBy({
    drain: () => parts.drain.heldBy(),
    holds: () => parts.holds.open(),
    running: () => [...parts.running].map((step) => ({ label: step.label, name: step.name, runningMs: now - step.startedAt })),
  });
}
