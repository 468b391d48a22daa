/**
 * createLifecycle: the state machine and the sequences that move it.
 *
 *   starting → warming → ready → draining → stopping → stopped      (and failed)
 *
 * Start:    probe listener → (main port) → warmups → (main port) → ready
 * Shutdown: readiness 503 in the same tick → drain delay with `Connection: close` → stop
 *           accepting, close idle sockets, finish in-flight, abort `signal`, wait for holds →
 *           hooks in reverse → exit 0 as soon as that is done.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Server as NetServer, type AddressInfo } from 'node:net';
import { CheckRunner, type CheckEvent, type CheckFunction } from './check-runner.js';
import { RequestDrain, type MainServer } from './drain.js';
import { InvalidOptionError, PodkitError } from './errors.js';
import { startEventLoopMonitor } from './event-loop.js';
import { exitCodeFor, writeTerminationMessage, type ExitKind } from './exit-codes.js';
import {
  resolveCheckOptions,
  resolveOptions,
  resolveTimeoutOptions,
  type CheckOptions,
  type HookOptions,
  type LifecycleOptions,
  type ResolvedOptions,
  type WarmupOptions,
} from './options.js';
import { createProbeServer, type ProbeServer } from './probe-server.js';
import { answerProbe, type ProbeAnswer, type ProbeRequest } from './probe-responses.js';
import { errorMessage, redactSecrets } from './redact.js';
import { installCrashHandlers, installSignalHandlers, type CrashOrigin, type Uninstall } from './signals.js';
import { canTransition, HealthSnapshot, type LifecycleState } from './state.js';
import { runWithTimeout, sleep, type AbortableTask } from './timeout.js';
import type { WarmupFunction } from './warmup.js';

export type ShutdownHook = (signal: AbortSignal) => unknown | Promise<unknown>;

/** What `lifecycle.start()` accepts: a server, a function that starts one (wrapping `app.listen`), or an app an adapter attached. */
export type StartTarget = MainServer | (() => unknown) | object;

/** What an adapter tells the core about an app, so `lifecycle.start(app)` works. */
export interface AttachedApp {
  /** The app's HTTP server. */
  server: MainServer;
  /** Starts listening, when `start(app)` is called on an app that is not listening yet. */
  listen?: () => Promise<unknown>;
}

export interface StateChange {
  from: LifecycleState;
  to: LifecycleState;
  reason: string;
}

export interface StepEvent {
  name: string;
  ok: boolean;
  durationMs: number;
  error?: unknown;
}

export interface ExitEvent {
  code: number;
  kind: ExitKind;
  reason: string;
}

export interface LifecycleEvents {
  state: StateChange;
  check: CheckEvent;
  warmup: StepEvent;
  hook: StepEvent;
  exit: ExitEvent;
}

export interface ShutdownResult extends ExitEvent {}

const EVENT_NAMES: readonly (keyof LifecycleEvents)[] = ['state', 'check', 'warmup', 'hook', 'exit'];

/** How long the ready transition waits for checks to refresh their verdicts after warmup, in ms. */
const READY_REFRESH_WAIT_MS = 1000;

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
  /** Registers a warmup task, run after `start()` and before `ready`. */
  warmup(name: string, fn: WarmupFunction, options?: WarmupOptions): this;
  /** Registers a shutdown hook, run after traffic is drained, in reverse order of registration. */
  onShutdown(name: string, fn: ShutdownHook, options?: HookOptions): this;
  /** Keeps shutdown waiting (before hooks) until the returned release function is called. */
  hold(name: string): () => void;
  /** While ready: follows the request's server (once per server) and nothing else. While draining: counts the request until its response closes and marks it `Connection: close`. */
  track(req: IncomingMessage, res: ServerResponse): void;
  /** Follows a server's connections and drains it at shutdown. `start()` does this for the server it starts. */
  serve(server: MainServer): void;
  /** For adapters: tells the core how to listen and which server to drain for an app passed to `start(app)`. */
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

interface Named<F, O> {
  name: string;
  fn: F;
  options: O;
}

/** Creates a lifecycle. Validates every option now; nothing listens and no timer runs until `start()`. */
export function createLifecycle(options: LifecycleOptions = {}): Lifecycle {
  const config: ResolvedOptions = resolveOptions(options);
  const { logger } = config;
  const snapshot = new HealthSnapshot();
  const drain = new RequestDrain(snapshot);
  const listeners = new Map<keyof LifecycleEvents, Set<(payload: never) => void>>();
  const checks = new Map<string, CheckRunner>();
  const warmups: Named<WarmupFunction, { timeoutMs: number }>[] = [];
  const hooks: Named<ShutdownHook, { timeoutMs: number }>[] = [];
  const holds = new Map<symbol, string>();
  const attached = new WeakMap<object, AttachedApp>();
  const stopController = new AbortController();
  // Aborts warmup tasks when a signal arrives before the service is ready.
  const warmupController = new AbortController();
  const uninstalls: Uninstall[] = [];

  let probeServer: ProbeServer | undefined;
  let probeAddress: AddressInfo | undefined;
  let mainServer: MainServer | undefined;
  let lastAttached: AttachedApp | undefined;
  let started = false;
  let shutdown: Promise<ShutdownResult> | undefined;
  let resolveShutdown: ((result: ShutdownResult) => void) | undefined;
  let finished: ShutdownResult | undefined;
  let crashed: { reason: string } | undefined;
  let holdWaiters: Array<() => void> = [];
  const deadlines = new Set<NodeJS.Timeout>();

  // --- events and state ------------------------------------------------------------------------

  function emit<E extends keyof LifecycleEvents>(event: E, payload: LifecycleEvents[E]): void {
    for (const listener of listeners.get(event) ?? []) {
      try {
        (listener as (p: LifecycleEvents[E]) => void)(payload);
      } catch (error) {
        logger.error({ event, error }, `a "${event}" listener threw`);
      }
    }
  }

  function transition(to: LifecycleState, reason: string): boolean {
    const from = snapshot.state;
    if (!canTransition(from, to)) return false;
    snapshot.state = to;
    const log = to === 'failed' ? logger.error : logger.info;
    log.call(logger, { event: 'state', from, to, reason }, `podkit ${to}`);
    emit('state', { from, to, reason });
    return true;
  }

  function assertName(kind: string, name: unknown, taken: boolean): asserts name is string {
    if (typeof name !== 'string' || name.trim() === '' || /[\s/]/.test(name)) {
      throw new InvalidOptionError(`${kind} name`, name, 'a non-empty name without spaces or slashes');
    }
    if (taken) throw new PodkitError('ERR_PODKIT_DUPLICATE_NAME', `A ${kind} named "${name}" is already registered.`);
  }

  function assertFunction(kind: string, fn: unknown): void {
    if (typeof fn !== 'function') throw new InvalidOptionError(kind, fn, 'a function');
  }

  // --- the exit ----------------------------------------------------------------------------------

  /** Leaves exactly once: reason to the termination message file, one log line, then exit. */
  function finish(kind: ExitKind, reason: string, signal?: NodeJS.Signals): ShutdownResult {
    if (finished) return finished;
    const code = exitCodeFor(config.exitCodes, kind, signal);
    finished = { code, kind, reason };
    if (code !== 0) writeTerminationMessage(config.terminationMessagePath, `${reason} (exit ${code})`);
    (code === 0 ? logger.info : logger.error).call(logger, { event: 'exit', code, kind, reason: redactSecrets(reason) }, `podkit exit ${code}`);
    emit('exit', finished);
    for (const timer of deadlines) clearTimeout(timer);
    for (const uninstall of uninstalls.splice(0)) uninstall();
    for (const runner of checks.values()) runner.stop();
    resolveShutdown?.(finished);
    if (config.exit) config.exit(code, reason);
    return finished;
  }

  // --- the shutdown sequence -------------------------------------------------------------------

  function holdsReleased(): Promise<void> {
    if (holds.size === 0) return Promise.resolve();
    logger.info({ event: 'holds', holds: [...holds.values()] }, 'waiting for background work');
    return new Promise((resolve) => holdWaiters.push(resolve));
  }

  async function runHooks(): Promise<void> {
    for (const hook of [...hooks].reverse()) {
      const begun = performance.now();
      try {
        await runWithTimeout(`shutdown hook "${hook.name}"`, hook.options.timeoutMs, hook.fn);
        emit('hook', { name: hook.name, ok: true, durationMs: performance.now() - begun });
      } catch (error) {
        // A failing hook is logged and the rest still run: shutdown never throws.
        logger.error({ event: 'hook', hook: hook.name, error: redactSecrets(errorMessage(error)) }, `shutdown hook "${hook.name}" failed`);
        emit('hook', { name: hook.name, ok: false, durationMs: performance.now() - begun, error });
      }
    }
  }

  /** Steps 3–4, shared by a graceful shutdown and a crash's fast one. */
  async function closeEverything(): Promise<void> {
    stopController.abort(new PodkitError('ERR_PODKIT_INVALID_STATE', 'the service is shutting down'));
    await Promise.all([drain.close(), holdsReleased()]);
    await runHooks();
    // Upgraded connections (WebSocket…) stayed open so holds and hooks could say goodbye on them.
    await drain.closeUpgraded();
    for (const runner of checks.values()) runner.stop();
  }

  /** Cuts what is left and leaves with `kind` when `ms` passes first. The timer is ref'd: it must fire even if nothing else holds the loop. */
  function deadline(ms: number, kind: ExitKind, what: string): NodeJS.Timeout {
    const timer = setTimeout(() => {
      const cut = drain.openSockets;
      drain.destroyAll();
      void probeServer?.close();
      finish(crashed ? 'crash' : kind, `${crashed ? `${crashed.reason}; ` : ''}${what} exceeded ${ms} ms; ${cut} connection(s) cut`);
    }, ms);
    deadlines.add(timer);
    return timer;
  }

  function beginShutdown(reason: string): Promise<ShutdownResult> {
    if (shutdown) return shutdown;
    const wasReady = snapshot.state === 'ready';
    shutdown = new Promise<ShutdownResult>((resolve) => {
      resolveShutdown = resolve;
    });
    // Step 1, in this very tick: readiness answers 503 from here on.
    transition('draining', reason);
    drain.startDraining();
    warmupController.abort(new PodkitError('ERR_PODKIT_INVALID_STATE', `shutdown began during warmup: ${reason}`));
    const timer = deadline(config.shutdownTimeoutMs, 'shutdownTimeout', 'shutdown');

    void (async () => {
      // Step 2: keep serving while endpoints and load balancers catch up. A service that never
      // became ready never got traffic, so it has nobody to wait for.
      if (wasReady && config.drainDelayMs > 0) {
        logger.info({ event: 'drain', drainDelayMs: config.drainDelayMs, inFlight: drain.inFlight }, 'draining: serving with Connection: close');
        await sleep(config.drainDelayMs);
      }
      if (finished) return;
      transition('stopping', reason);
      await closeEverything();
      await probeServer?.close();
      clearTimeout(timer);
      if (finished) return;
      transition('stopped', reason);
      finish(crashed ? 'crash' : 'clean', crashed ? crashed.reason : reason);
    })().catch((error: unknown) => {
      clearTimeout(timer);
      finish('crash', `shutdown failed: ${errorMessage(error)}`);
    });
    return shutdown;
  }

  /** Crash or failed start: readiness and liveness false, a bounded fast drain, then the exit code. */
  function failFast(kind: 'crash' | 'warmupFailed', reason: string, boundMs: number): Promise<ShutdownResult> {
    if (shutdown) return shutdown;
    shutdown = new Promise<ShutdownResult>((resolve) => {
      resolveShutdown = resolve;
    });
    transition('failed', reason);
    drain.startDraining();
    warmupController.abort(new PodkitError('ERR_PODKIT_INVALID_STATE', reason));
    // A crash's reason is already prefixed by deadline(); a failed warmup's must be kept too, or a
    // slow hook would replace "why it failed" in the termination message with "it was slow to leave".
    const timer = deadline(boundMs, kind, kind === 'crash' ? 'fast shutdown' : `${reason}; fast shutdown`);
    void (async () => {
      await closeEverything();
      await probeServer?.close();
      clearTimeout(timer);
      finish(kind, reason);
    })().catch((error: unknown) => {
      clearTimeout(timer);
      finish(kind, `${reason}; then: ${errorMessage(error)}`);
    });
    return shutdown;
  }

  function onSignal(signal: NodeJS.Signals): void {
    if (shutdown) {
      // A second signal: the operator (or the kubelet) means it. Leave now.
      logger.warn({ event: 'signal', signal }, `second ${signal} during shutdown: exiting at once`);
      drain.destroyAll();
      finish('forced', `second ${signal} during shutdown`, signal);
      return;
    }
    logger.info({ event: 'signal', signal }, `${signal} received: shutting down`);
    void beginShutdown(`${signal} received`);
  }

  function onCrash(error: unknown, origin: CrashOrigin): void {
    const reason = `${origin}: ${errorMessage(error)}`;
    logger.fatal({ event: 'crash', origin, error: error instanceof Error ? error : String(error) }, 'podkit crash');
    if (crashed || finished) return;
    crashed = { reason };
    if (shutdown) {
      // Already leaving: the exit code becomes the crash's, and the rest of the budget shrinks.
      deadline(config.crashTimeoutMs, 'crash', 'shutdown after a crash');
      return;
    }
    void failFast('crash', reason, config.crashTimeoutMs);
  }

  // --- start -------------------------------------------------------------------------------------

  function isServer(value: unknown): value is MainServer {
    return value instanceof NetServer && typeof (value as MainServer).closeAllConnections === 'function';
  }

  function waitListening(server: MainServer): Promise<void> {
    if (server.listening) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onListening = () => {
        server.off('error', onError);
        resolve();
      };
      const onError = (error: Error) => {
        server.off('listening', onListening);
        reject(error);
      };
      server.once('listening', onListening);
      server.once('error', onError);
    });
  }

  async function openMainPort(target: StartTarget | undefined): Promise<MainServer | undefined> {
    let server: MainServer | undefined;
    if (typeof target === 'function') {
      const result = await (target as () => unknown)();
      server = isServer(result) ? result : lastAttached?.server;
      if (!server) {
        throw new PodkitError(
          'ERR_PODKIT_INVALID_STATE',
          'start(fn): fn returned no http.Server and no adapter attached one. Return the server (Express: () => app.listen(port)) or register the Fastify plugin first.',
        );
      }
    } else if (isServer(target)) {
      server = target;
    } else if (target !== undefined) {
      const app = attached.get(target);
      if (!app) {
        throw new InvalidOptionError('start(target)', target, 'an http(s).Server, a function that starts one, or an app registered with a podkit adapter');
      }
      server = app.server;
      if (!server.listening) {
        if (!app.listen) throw new PodkitError('ERR_PODKIT_INVALID_STATE', 'start(app): the app is not listening and its adapter cannot start it.');
        drain.attach(server);
        await app.listen();
      }
    }
    if (!server) return undefined;
    drain.attach(server);
    try {
      await waitListening(server);
    } catch (error) {
      const { code, port: triedPort } = error as NodeJS.ErrnoException & { port?: number };
      // With probes.port 0 the configured port says nothing: compare with the port actually bound.
      const probePort = probeAddress?.port ?? (config.probes ? config.probes.port : undefined);
      // Only when it really is the probe port: any other EADDRINUSE is somebody else's port.
      const hint =
        code === 'EADDRINUSE' && probePort !== undefined && triedPort === probePort
          ? ` (port ${probePort} is the probe listener's, probes.port: give the main server and the probes different ports)`
          : '';
      throw new PodkitError('ERR_PODKIT_LISTEN_FAILED', `the main server could not listen: ${errorMessage(error)}${hint}`, { cause: error });
    }
    const port = (server.address() as AddressInfo | null)?.port;
    if (probeAddress && port === probeAddress.port) {
      throw new InvalidOptionError('probes.port', probeAddress.port, 'a port other than the main server\'s');
    }
    mainServer = server;
    return server;
  }

  async function runWarmups(): Promise<void> {
    for (const task of warmups) {
      const begun = performance.now();
      logger.info({ event: 'warmup', warmup: task.name }, `warmup "${task.name}" started`);
      try {
        await runWithTimeout(`warmup "${task.name}"`, task.options.timeoutMs, task.fn, { signal: warmupController.signal });
      } catch (error) {
        emit('warmup', { name: task.name, ok: false, durationMs: performance.now() - begun, error });
        throw new PodkitError('ERR_PODKIT_WARMUP_FAILED', `warmup "${task.name}" failed: ${errorMessage(error)}`, { cause: error });
      }
      const durationMs = performance.now() - begun;
      logger.info({ event: 'warmup', warmup: task.name, durationMs: Math.round(durationMs) }, `warmup "${task.name}" finished`);
      emit('warmup', { name: task.name, ok: true, durationMs });
    }
  }

  function warnIfBudgetDoesNotFit(): void {
    const grace = config.terminationGracePeriodSeconds;
    if (grace === undefined) return;
    // SIGKILL comes terminationGracePeriodSeconds after deletion, preStop included; podkit's
    // own bound must end first or its exit code and message are never written.
    if (config.shutdownTimeoutMs >= grace * 1000) {
      logger.warn(
        { event: 'config', shutdownTimeoutMs: config.shutdownTimeoutMs, drainDelayMs: config.drainDelayMs, terminationGracePeriodSeconds: grace },
        `shutdownTimeoutMs (${config.shutdownTimeoutMs} ms) does not fit in terminationGracePeriodSeconds (${grace} s): the kubelet will SIGKILL the pod first. Lower shutdownTimeoutMs or raise the grace period.`,
      );
    }
  }

  async function start(target?: StartTarget): Promise<MainServer | undefined> {
    if (started) throw new PodkitError('ERR_PODKIT_INVALID_STATE', 'start() was already called on this lifecycle.');
    started = true;
    uninstalls.push(installSignalHandlers(config.signals, onSignal));
    if (config.handleCrashes) uninstalls.push(installCrashHandlers(onCrash));
    warnIfBudgetDoesNotFit();

    try {
      if (isServer(target) && target.listening && config.probes && (target.address() as AddressInfo).port === config.probes.port) {
        throw new InvalidOptionError('probes.port', config.probes.port, 'a port other than the main server\'s');
      }
      if (config.probes) {
        const probes = config.probes;
        probeServer = createProbeServer((request) => answerProbe(snapshot, request, probes), probes);
        try {
          probeAddress = await probeServer.listen();
        } catch (error) {
          throw new PodkitError('ERR_PODKIT_LISTEN_FAILED', `the probe listener could not listen on port ${probes.port} (probes.port): ${errorMessage(error)}`, { cause: error });
        }
        logger.info({ event: 'probes', port: probeAddress.port }, `probes listening on port ${probeAddress.port}`);
      }
      // stop() may have come while the probe port was opening: then nothing more starts (no
      // checks, no monitor, no main port), or it would outlive the exit that already happened.
      if (!shutdown) {
        transition('warming', 'start() called');
        if (config.eventLoop) uninstalls.push(startEventLoopMonitor(config.eventLoop, snapshot));
        // While ready nothing counts requests as they come: /metrics reads a sample of the connections.
        if (config.probes && config.probes.metrics) uninstalls.push(drain.sampleInFlight());
        for (const runner of checks.values()) runner.start();
        if (config.openMainPort === 'before-warmup') await openMainPort(target);
        await runWarmups();
        if (config.openMainPort === 'after-warmup' && !shutdown) await openMainPort(target);
      }
    } catch (error) {
      if (shutdown) {
        // A signal arrived during start-up; the shutdown sequence owns the exit.
        return mainServer;
      }
      const result = failFast('warmupFailed', errorMessage(error), config.crashTimeoutMs);
      await result;
      throw error instanceof PodkitError ? error : new PodkitError('ERR_PODKIT_WARMUP_FAILED', errorMessage(error), { cause: error });
    }
    if (shutdown) return mainServer;
    // Verdicts as of now, not as of before warmup connected the clients they check. But a check
    // that hangs (a blackholed dependency) would hold ready and /startupz for up to twice its
    // timeout: past READY_REFRESH_WAIT_MS its fresh verdict lands in the background, like every later one.
    let refreshCap: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...checks.values()].map((runner) => runner.refresh())),
      new Promise<void>((resolve) => {
        refreshCap = setTimeout(resolve, READY_REFRESH_WAIT_MS);
      }),
    ]);
    clearTimeout(refreshCap);
    if (shutdown) return mainServer;
    snapshot.warmedUp = true;
    transition('ready', 'warmup finished');
    return mainServer;
  }

  // --- the object --------------------------------------------------------------------------------

  const lifecycle: Lifecycle = {
    get state() {
      return snapshot.state;
    },
    get signal() {
      return stopController.signal;
    },
    get probeAddress() {
      return probeAddress;
    },
    get server() {
      return mainServer;
    },
    get inFlight() {
      return drain.inFlight;
    },

    check(name, fn, checkOptions) {
      assertName('check', name, checks.has(name));
      assertFunction('check function', fn);
      const resolved = resolveCheckOptions(`check "${name}" options`, checkOptions, config.checks);
      const runner = new CheckRunner(name, fn, resolved, snapshot, logger, (event) => emit('check', event));
      checks.set(name, runner);
      // Checks added after start() begin at once.
      if (started && !shutdown) runner.start();
      return lifecycle;
    },

    warmup(name, fn, warmupOptions) {
      assertName('warmup', name, warmups.some((w) => w.name === name));
      assertFunction('warmup function', fn);
      if (started) throw new PodkitError('ERR_PODKIT_INVALID_STATE', `warmup("${name}") must be registered before start().`);
      warmups.push({ name, fn, options: resolveTimeoutOptions(`warmup "${name}" options`, warmupOptions, config.warmup.timeoutMs) });
      return lifecycle;
    },

    onShutdown(name, fn, hookOptions) {
      assertName('shutdown hook', name, hooks.some((h) => h.name === name));
      assertFunction('shutdown hook function', fn);
      hooks.push({ name, fn, options: resolveTimeoutOptions(`shutdown hook "${name}" options`, hookOptions, config.hooks.timeoutMs) });
      return lifecycle;
    },

    hold(name) {
      // Names may repeat (several consumers of one queue); they only label the "waiting for" log line.
      if (typeof name !== 'string' || name.trim() === '') throw new InvalidOptionError('hold name', name, 'a non-empty string');
      const key = Symbol(name);
      holds.set(key, name);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        holds.delete(key);
        if (holds.size === 0) {
          const waiters = holdWaiters;
          holdWaiters = [];
          for (const resolve of waiters) resolve();
        }
      };
    },

    track(req, res) {
      drain.track(req, res);
    },

    serve(server) {
      if (!isServer(server)) throw new InvalidOptionError('serve(server)', server, 'an http.Server or https.Server');
      drain.attach(server);
    },

    attach(app, attachment) {
      if (!isServer(attachment.server)) throw new InvalidOptionError('attach(app, { server })', attachment.server, 'an http.Server or https.Server');
      attached.set(app, attachment);
      lastAttached = attachment;
      drain.attach(attachment.server);
    },

    start,

    stop(reason = 'stop() called') {
      if (!started) {
        // Nothing was opened; the sequence still runs (hooks), so stop() means the same everywhere.
        started = true;
      }
      return beginShutdown(reason);
    },

    isAlive: () => snapshot.isAlive(),
    isReady: () => snapshot.isReady(),
    isStarted: () => snapshot.isStarted(),

    answerProbe(request, prefix = '') {
      const probes = config.probes;
      return answerProbe(snapshot, request, { exposeErrors: probes ? probes.exposeErrors : false, metrics: probes ? probes.metrics : false, prefix });
    },

    on(event, listener) {
      // A misspelt event name would otherwise subscribe to nothing, silently.
      if (!EVENT_NAMES.includes(event)) throw new InvalidOptionError('on(event)', event, `one of ${EVENT_NAMES.join(', ')}`);
      if (typeof listener !== 'function') throw new InvalidOptionError(`on("${event}", listener)`, listener, 'a function');
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener as (payload: never) => void);
      return () => set.delete(listener as (payload: never) => void);
    },
  };
  return lifecycle;
}

export type { AbortableTask };
