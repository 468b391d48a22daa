/**
 * createLifecycle, the composition root: resolves the options, builds the parts (snapshot, drain,
 * emitter, holds, the start and shutdown sequences) and returns the facade users call.
 *
 *   starting → warming → ready → draining → stopping → stopped      (and failed)
 *
 * Start (start.ts):       probe listener → (main port) → warmups → (main port) → ready
 * Shutdown (shutdown.ts): one sequence for a signal, stop(), a crash or a failed start.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CheckRunner, type CheckFunction } from './checks/runner.js';
import { isMainServer } from './servers.js';
import { RequestDrain, type MainServer } from './drain.js';
import { InvalidOptionError, PodkitError } from './errors.js';
import { createEmitter, type LifecycleEvents } from './events.js';
import { createHolds } from './holds.js';
import type { LifecycleOptions } from './options.js';
import type { ResolvedOptions } from './options-resolved.js';
import type { CheckOptions, HookOptions, WarmupOptions } from './options-tasks.js';
import type { AttachedApp, Parts } from './parts.js';
import type { LongLivedKind, LongLivedOutcome } from './long-lived/outcomes.js';
import { registerPlumbing } from './plumbing.js';
import { answerProbe, type ProbeAnswer, type ProbeRequest } from './probes/answers.js';
import { resolveCheckOptions, resolveTimeoutOptions, resolveWarmupOptions } from './resolve-option-groups.js';
import { resolveOptions } from './resolve-options.js';
import { createShutdown, type ShutdownHook, type ShutdownResult } from './shutdown.js';
import { createStart, type StartTarget } from './start.js';
import { HealthSnapshot, type LifecycleState } from './state.js';
import type { NamedStep, WarmupStep } from './steps.js';
import type { AbortableTask } from './timeout.js';
import { assertFunction, assertName } from './validate.js';
import type { WarmupFunction } from './retry.js';

export type { AttachedApp } from './parts.js';
export type { ShutdownHook, ShutdownResult } from './shutdown.js';
export type { StartTarget } from './start.js';
export type { ExitEvent, LifecycleEvents, StateChange, StepEvent } from './events.js';
export type { AbortableTask };

export interface Lifecycle {
  /** The current state. */
  readonly state: LifecycleState;
  /** Aborted when shutdown reaches the "stop accepting" step: background work should finish up. */
  readonly signal: AbortSignal;
  /** The probe listener's address once started (useful with port 0). */
  readonly probeAddress: AddressInfo | undefined;
  /** The main server once started. */
  readonly server: MainServer | undefined;
  /** Requests in flight on the main server: exact while draining; while ready, its connections with a response on the wire. */
  readonly inFlight: number;

  /** Registers a readiness check, run in the background; its cached verdict is what probes read. */
  check(name: string, fn: CheckFunction, options?: CheckOptions): this;
  /** Registers a warmup task, run after `start()` and before `ready`; `{ required: false }` makes its failure non-fatal. */
  warmup(name: string, fn: WarmupFunction, options?: WarmupOptions): this;
  /** Registers a shutdown hook, run after traffic is drained, in reverse order of registration. */
  onShutdown(name: string, fn: ShutdownHook, options?: HookOptions): this;
  /** Keeps shutdown waiting (before hooks) until the returned release function is called. */
  hold(name: string): () => void;
  /**
   * While ready: follows the request's server (once per server) and nothing else. While draining: counts the request until its response closes and marks it `Connection: close`.
   * @deprecated Adapter plumbing: use `track(lifecycle, req, res)` from `@podkit/lifecycle/adapter`.
   */
  track(req: IncomingMessage, res: ServerResponse): void;
  /** Follows a server's connections and drains it at shutdown. `start()` does this for the server it starts. */
  serve(server: MainServer): void;
  /**
   * For adapters: tells the core how to listen and which server to drain for an app passed to `start(app)`.
   * @deprecated Adapter plumbing: use `attach(lifecycle, app, attached)` from `@podkit/lifecycle/adapter`.
   */
  attach(app: object, attached: AttachedApp): void;

  /** Opens the probe port, runs warmups, opens the main port (before or after warmup) and becomes ready. */
  start(target?: StartTarget): Promise<MainServer | undefined>;
  /** Runs the shutdown sequence, as SIGTERM does; resolves with the exit code (the process exits unless `exit: false`). */
  stop(reason?: string): Promise<ShutdownResult>;

  isAlive(): boolean;
  isReady(): boolean;
  isStarted(): boolean;
  /** Answers a probe request from cached state: for mounting probe routes on the app's own port. */
  answerProbe(request: ProbeRequest, prefix?: string): ProbeAnswer;

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof LifecycleEvents>(event: E, listener: (payload: LifecycleEvents[E]) => void): () => void;
}

function assertUnique(kind: string, name: string, taken: boolean): void {
  if (taken) throw new PodkitError('ERR_PODKIT_DUPLICATE_NAME', `A ${kind} named "${name}" is already registered.`);
}

/** Creates a lifecycle. Validates every option now; nothing listens and no timer runs until `start()`. */
export function createLifecycle(options: LifecycleOptions = {}): Lifecycle {
  const config: ResolvedOptions = resolveOptions(options);
  const { logger } = config;
  const snapshot = new HealthSnapshot(config.liveness);
  const { emit, on } = createEmitter(logger);
  const parts: Parts = {
    config,
    logger,
    snapshot,
    // Long-lived connections (WebSocket, SSE, HTTP/2 sessions): closed at "stop accepting" with their own budget.
    drain: new RequestDrain(snapshot, config.longLived),
    emit,
    checks: new Map<string, CheckRunner>(),
    holds: createHolds(logger),
    attached: new WeakMap<object, AttachedApp>(),
    stopController: new AbortController(),
    warmupController: new AbortController(),
    running: new Set(),
    uninstalls: [],
    runtime: { started: false, probeServer: undefined, probeAddress: undefined, mainServer: undefined, startServer: undefined, runForeign: undefined, lastAttached: undefined },
    transition(to, reason) {
      const from = snapshot.state;
      if (!snapshot.transition(to)) return false;
      const log = to === 'failed' ? logger.error : logger.info;
      log.call(logger, { event: 'state', from, to, reason }, `podkit ${to}`);
      emit('state', { from, to, reason });
      return true;
    },
  };
  const { checks, drain, runtime } = parts;
  const warmups: WarmupStep[] = [];
  const hooks: NamedStep[] = [];
  const shutdown = createShutdown(parts, hooks);
  const start = createStart(parts, shutdown, warmups);
  const plumbing = {
    track(req: IncomingMessage, res: ServerResponse): void {
      drain.track(req, res);
    },
    attach(app: object, attachment: AttachedApp): void {
      if (!isMainServer(attachment.server)) throw new InvalidOptionError('attach(app, { server })', attachment.server, 'an http.Server, https.Server or HTTP/2 server');
      parts.attached.set(app, attachment);
      runtime.lastAttached = attachment;
      drain.attach(attachment.server);
    },
    longLivedOpen: () => drain.gauges.longLivedOpen,
    longLivedClosed: (kind: LongLivedKind, outcome: LongLivedOutcome) => snapshot.longLivedClosed(kind, outcome),
  };

  const lifecycle: Lifecycle = {
    get state() {
      return snapshot.state;
    },
    get signal() {
      return parts.stopController.signal;
    },
    get probeAddress() {
      return runtime.probeAddress;
    },
    get server() {
      return runtime.mainServer;
    },
    get inFlight() {
      return drain.gauges.inFlight;
    },

    check(name, fn, checkOptions) {
      assertName('check', name);
      assertUnique('check', name, checks.has(name));
      assertFunction('check function', fn);
      const resolved = resolveCheckOptions(`check "${name}" options`, checkOptions, config.checks);
      const runner = new CheckRunner(name, fn, resolved, snapshot, logger, (event) => emit('check', event));
      checks.set(name, runner);
      // Checks added after start() begin at once.
      if (runtime.started && !shutdown.begun) runner.start();
      return lifecycle;
    },

    warmup(name, fn, warmupOptions) {
      assertName('warmup', name);
      assertUnique('warmup', name, warmups.some((w) => w.name === name));
      assertFunction('warmup function', fn);
      if (runtime.started) throw new PodkitError('ERR_PODKIT_WARMUP_AFTER_START', `warmup("${name}") must be registered before start().`);
      warmups.push({ name, fn, options: resolveWarmupOptions(`warmup "${name}" options`, warmupOptions, config.warmup) });
      return lifecycle;
    },

    onShutdown(name, fn, hookOptions) {
      assertName('shutdown hook', name);
      assertUnique('shutdown hook', name, hooks.some((h) => h.name === name));
      assertFunction('shutdown hook function', fn);
      hooks.push({ name, fn, options: resolveTimeoutOptions(`shutdown hook "${name}" options`, hookOptions, config.hooks.timeoutMs) });
      return lifecycle;
    },

    hold(name) {
      return parts.holds.hold(name);
    },

    track: (req, res) => plumbing.track(req, res),

    serve(server) {
      if (!isMainServer(server)) throw new InvalidOptionError('serve(server)', server, 'an http.Server, https.Server or HTTP/2 server');
      drain.attach(server);
    },

    attach: (app, attachment) => plumbing.attach(app, attachment),

    start,

    stop(reason = 'stop() called') {
      // Before start() nothing was opened; the sequence still runs (hooks), so stop() means the same everywhere.
      runtime.started = true;
      return shutdown.begin('stop', reason);
    },

    isAlive: () => snapshot.isAlive(),
    isReady: () => snapshot.isReady(),
    isStarted: () => snapshot.isStarted(),

    answerProbe(request, prefix = '') {
      const probes = config.probes;
      return answerProbe(snapshot, request, { exposeErrors: probes ? probes.exposeErrors : false, metrics: probes ? probes.metrics : false, prefix });
    },

    on,
  };
  registerPlumbing(lifecycle, plumbing);
  return lifecycle;
}
