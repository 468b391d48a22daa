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
import { CheckRunner, type CheckEvent, type CheckFunction } from './checks/runner.js';
import { isMainServer } from './connections.js';
import { RequestDrain, type MainServer } from './drain.js';
import { InvalidOptionError, PodkitError } from './errors.js';
import { createExit, type ExitKind, type ExitResult } from './exit.js';
import { createEmitter, type LifecycleEvents } from './events.js';
import { createHolds } from './holds.js';
import { runStep, stepFailure } from './steps.js';
import { assertFunction, assertName } from './validate.js';
import { resolveCheckOptions, resolveOptions, resolveTimeoutOptions } from './resolve-options.js';
import {
  type CheckOptions,
  type HookOptions,
  type LifecycleOptions,
  type ResolvedOptions,
  type WarmupOptions,
} from './options.js';
import type { ProbeListener } from './probe-server.js';
import { createProbeListener, startHeartbeat } from './probes/index.js';
import { answerProbe, type ProbeAnswer, type ProbeRequest } from './probe-responses.js';
import { errorMessage } from './redact.js';
import { handleForeignListeners, installCrashHandlers, installSignalHandlers, type CrashOrigin, type Uninstall } from './signals.js';
import { HealthSnapshot, type LifecycleState } from './state.js';
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

export type { ExitEvent, LifecycleEvents, StateChange, StepEvent } from './events.js';

export type ShutdownResult = ExitResult;

/** How long the ready transition waits for checks to refresh their verdicts after warmup, in ms. */
const READY_REFRESH_WAIT_MS = 1000;

/** Room the grace period must leave after shutdownTimeoutMs, for the exit itself and the signal's way to the process, in ms. */
const GRACE_MARGIN_MS = 1000;

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

function assertUnique(kind: string, name: string, taken: boolean): void {
  if (taken) throw new PodkitError('ERR_PODKIT_DUPLICATE_NAME', `A ${kind} named "${name}" is already registered.`);
}

/** Creates a lifecycle. Validates every option now; nothing listens and no timer runs until `start()`. */
export function createLifecycle(options: LifecycleOptions = {}): Lifecycle {
  const config: ResolvedOptions = resolveOptions(options);
  const { logger } = config;
  const snapshot = new HealthSnapshot(config.liveness);
  // Long-lived connections (WebSocket, SSE): closed at "stop accepting" with their own budget.
  const drain = new RequestDrain(snapshot, config.longLived);
  const { emit, on } = createEmitter(logger);
  const checks = new Map<string, CheckRunner>();
  const warmups: Named<WarmupFunction, { timeoutMs: number }>[] = [];
  const hooks: Named<ShutdownHook, { timeoutMs: number }>[] = [];
  const holds = createHolds(logger);
  const attached = new WeakMap<object, AttachedApp>();
  const stopController = new AbortController();
  // Aborts warmup tasks when a signal arrives before the service is ready.
  const warmupController = new AbortController();
  const uninstalls: Uninstall[] = [];

  let probeServer: ProbeListener | undefined;
  let probeAddress: AddressInfo | undefined;
  let mainServer: MainServer | undefined;
  let lastAttached: AttachedApp | undefined;
  let started = false;
  let shutdown: Promise<ShutdownResult> | undefined;
  let resolveShutdown: ((result: ShutdownResult) => void) | undefined;
  let crashed: { reason: string } | undefined;
  // Why a failed start is leaving (exit 75): like a crash's, this reason outlives any signal.
  let failedStart: { reason: string } | undefined;
  // The first signal received. Only a signal after it forces the exit: see onSignal().
  let signalled: NodeJS.Signals | undefined;
  // The server start() was given or got, known as early as possible so a shutdown racing start()
  // closes it too (see closeLateListener()).
  let startServer: MainServer | undefined;
  // A listen error the start server emitted before start() came to wait for it.
  let earlyListenError: Error | undefined;
  // Foreign signal listeners taken at start() (foreignSignalHandlers: 'defer'), run after the hooks.
  let runForeign: ((signal: NodeJS.Signals, timeoutMs: number) => Promise<void>) | undefined;
  const deadlines = new Set<NodeJS.Timeout>();

  // --- events and state ------------------------------------------------------------------------

  function transition(to: LifecycleState, reason: string): boolean {
    const from = snapshot.state;
    if (!snapshot.transition(to)) return false;
    const log = to === 'failed' ? logger.error : logger.info;
    log.call(logger, { event: 'state', from, to, reason }, `podkit ${to}`);
    emit('state', { from, to, reason });
    return true;
  }

  // --- the exit ----------------------------------------------------------------------------------

  const exit = createExit(config, (result) => {
    emit('exit', result);
    for (const timer of deadlines) clearTimeout(timer);
    for (const uninstall of uninstalls.splice(0)) uninstall();
    for (const runner of checks.values()) runner.stop();
    resolveShutdown?.(result);
  });
  const finish = exit.leave;

  // --- the shutdown sequence -------------------------------------------------------------------

  async function runHooks(): Promise<void> {
    for (const hook of [...hooks].reverse()) {
      const outcome = await runStep('shutdown hook', hook);
      // A failing hook is logged and the rest still run: shutdown never throws.
      if (!outcome.ok) logger.error({ event: 'hook', hook: hook.name, error: errorMessage(outcome.error) }, `shutdown hook "${hook.name}" failed`);
      emit('hook', outcome);
    }
  }

  /** Steps 3–4, shared by a graceful shutdown and a crash's fast one. */
  async function closeEverything(): Promise<void> {
    stopController.abort(new PodkitError('ERR_PODKIT_SHUTTING_DOWN', 'the service is shutting down'));
    if (startServer) closeLateListener(startServer);
    await Promise.all([drain.close(), holds.released()]);
    await runHooks();
    // Upgraded connections (WebSocket…) stayed open so holds and hooks could say goodbye on them.
    await drain.closeUpgraded();
    for (const runner of checks.values()) runner.stop();
    // Last, so that telemetry (an OpenTelemetry SDK's shutdown flushes it) covers the whole drain.
    // They get the signal that began the shutdown, or the one the orchestrator would have sent.
    // Not after a deadline already ended the shutdown: that exit has happened.
    if (runForeign && config.signals && !exit.result) await runForeign(signalled ?? config.signals[0]!, config.hooks.timeoutMs);
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
    warmupController.abort(new PodkitError('ERR_PODKIT_SHUTTING_DOWN', `shutdown began during warmup: ${reason}`));
    const timer = deadline(config.shutdownTimeoutMs, 'shutdownTimeout', 'shutdown');

    void (async () => {
      // Step 2: keep serving while endpoints and load balancers catch up. A service that never
      // became ready never got traffic, so it has nobody to wait for.
      if (wasReady && config.drainDelayMs > 0) {
        logger.info({ event: 'drain', drainDelayMs: config.drainDelayMs, inFlight: drain.inFlight }, 'draining: serving with Connection: close');
        await sleep(config.drainDelayMs);
      }
      if (exit.result) return;
      transition('stopping', reason);
      await closeEverything();
      await probeServer?.close();
      clearTimeout(timer);
      if (exit.result) return;
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
    if (kind === 'warmupFailed') failedStart = { reason };
    transition('failed', reason);
    drain.startDraining();
    warmupController.abort(new PodkitError('ERR_PODKIT_SHUTTING_DOWN', reason));
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

  /**
   * The first signal starts the shutdown, or joins the one already under way; only a signal after
   * it forces the exit. A shutdown begun by stop(), a crash or a failed start is not a first
   * signal: Kubernetes sends SIGTERM to a pod whatever it is doing (a pod that called stop() on
   * itself is deleted and gets the kubelet's SIGTERM), and that SIGTERM asks for what is already
   * happening. Cutting the drain for it would turn a clean exit into 143, and a crash's 70 or a
   * failed start's 75 into 143, losing the reason the pod died.
   */
  function onSignal(signal: NodeJS.Signals): void {
    if (!shutdown) {
      signalled = signal;
      logger.info({ event: 'signal', signal }, `${signal} received: shutting down`);
      void beginShutdown(`${signal} received`);
      return;
    }
    if (!signalled) {
      signalled = signal;
      logger.info({ event: 'signal', signal }, `${signal} received during a shutdown already under way: carrying on (a second signal exits at once)`);
      return;
    }
    // A second signal: the operator (or the kubelet) means it. Leave now.
    logger.warn({ event: 'signal', signal }, `second signal (${signal}) during shutdown: exiting at once`);
    drain.destroyAll();
    // A crash or a failed start keeps its code and reason: they say why the pod died; the signal
    // only says it died sooner.
    const failure = crashed ? { kind: 'crash' as const, reason: crashed.reason } : failedStart ? { kind: 'warmupFailed' as const, reason: failedStart.reason } : undefined;
    if (failure) finish(failure.kind, `${failure.reason}; exit forced by a second signal (${signal})`);
    else finish('forced', `second ${signal} during shutdown`, signal);
  }

  function onCrash(error: unknown, origin: CrashOrigin): void {
    const reason = `${origin}: ${errorMessage(error)}`;
    logger.fatal({ event: 'crash', origin, error: error instanceof Error ? error : String(error) }, 'podkit crash');
    if (crashed || exit.result) return;
    crashed = { reason };
    if (shutdown) {
      // Already leaving: the exit code becomes the crash's, and the rest of the budget shrinks.
      deadline(config.crashTimeoutMs, 'crash', 'shutdown after a crash');
      return;
    }
    void failFast('crash', reason, config.crashTimeoutMs);
  }

  // --- start -------------------------------------------------------------------------------------

  // Through connections.ts: http(s).Server and, for HTTP/2, http2.Server / http2.SecureServer.
  function isServer(value: unknown): value is MainServer {
    return isMainServer(value);
  }

  /** The server behind a start() target, when it can be known before anything is called. */
  function serverOf(target: StartTarget | undefined): MainServer | undefined {
    if (isServer(target)) return target;
    if (target !== undefined && typeof target !== 'function') return attached.get(target)?.server;
    return undefined;
  }

  /**
   * A server whose listen() is still under way when the drain closes (a host name being looked up,
   * or `start(server)` with `server.listen()` called just after) binds afterwards, past the drain's
   * "stop accepting": close it the moment it listens, so nothing start() was given serves on after
   * the shutdown.
   */
  function closeLateListener(server: MainServer): void {
    if (!server.listening) server.once('listening', () => server.close());
  }

  /** Every way the main server can fail to open is ERR_PODKIT_LISTEN_FAILED, naming the probe port when that is the one it tried. */
  function listenFailed(error: unknown): PodkitError {
    if (error instanceof PodkitError) return error;
    const { code, port: triedPort } = (error ?? {}) as NodeJS.ErrnoException & { port?: number };
    // With probes.port 0 the configured port says nothing: compare with the port actually bound.
    const probePort = probeAddress?.port ?? (config.probes ? config.probes.port : undefined);
    // Only when it really is the probe port: any other EADDRINUSE is somebody else's port.
    const hint =
      code === 'EADDRINUSE' && probePort !== undefined && triedPort === probePort
        ? ` (port ${probePort} is the probe listener's, probes.port: give the main server and the probes different ports)`
        : '';
    return new PodkitError('ERR_PODKIT_LISTEN_FAILED', `the main server could not listen: ${errorMessage(error)}${hint}`, { cause: error });
  }

  /**
   * Resolves once the server listens; rejects on its listen error, past `listenTimeoutMs`, or when
   * the shutdown begins (then start() has nothing left to wait for). The timer is ref'd: a server
   * nobody calls listen() on holds nothing else open, and the failure must still be reported.
   */
  function waitListening(server: MainServer): Promise<void> {
    if (server.listening) return Promise.resolve();
    if (server === startServer && earlyListenError) return Promise.reject(listenFailed(earlyListenError));
    const aborted = warmupController.signal;
    if (aborted.aborted) return Promise.reject(aborted.reason);
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        server.off('listening', onListening);
        server.off('error', onError);
        aborted.removeEventListener('abort', onAbort);
      };
      const onListening = () => (done(), resolve());
      const onError = (error: Error) => (done(), reject(listenFailed(error)));
      const onAbort = () => (done(), reject(aborted.reason));
      const timer = setTimeout(() => {
        done();
        reject(
          new PodkitError(
            'ERR_PODKIT_LISTEN_TIMEOUT',
            `the main server was not listening within ${config.listenTimeoutMs} ms (listenTimeoutMs): call server.listen() before or right after start(server), or pass a function that does, as in start(() => server.listen(port))`,
          ),
        );
      }, config.listenTimeoutMs);
      server.once('listening', onListening);
      server.once('error', onError);
      aborted.addEventListener('abort', onAbort, { once: true });
    });
  }

  async function openMainPort(target: StartTarget | undefined): Promise<MainServer | undefined> {
    let server: MainServer | undefined;
    if (typeof target === 'function') {
      let result: unknown;
      try {
        result = await (target as () => unknown)();
      } catch (error) {
        // start(fn)'s fn is what opens the main port (an async fn awaiting fastify.listen() throws
        // EADDRINUSE right here): its failure is a listen failure, not a warmup's.
        throw listenFailed(error);
      }
      server = isServer(result) ? result : lastAttached?.server;
      if (!server) {
        throw new PodkitError(
          'ERR_PODKIT_NO_SERVER',
          'start(fn): fn returned no http.Server and no adapter attached one. Return the server (Express: () => app.listen(port)) or register the Fastify plugin first.',
        );
      }
      startServer = server;
    } else if (isServer(target)) {
      server = target;
    } else if (target !== undefined) {
      const app = attached.get(target);
      if (!app) {
        throw new InvalidOptionError('start(target)', target, 'an http(s).Server, a function that starts one, or an app registered with a podkit adapter');
      }
      server = app.server;
      if (!server.listening) {
        if (!app.listen) throw new PodkitError('ERR_PODKIT_NO_SERVER', 'start(app): the app is not listening and its adapter cannot start it.');
        drain.attach(server);
        try {
          await app.listen();
        } catch (error) {
          // Fastify's listen() rejects with the listen error itself (EADDRINUSE…).
          throw listenFailed(error);
        }
      }
    }
    if (!server) return undefined;
    drain.attach(server);
    await waitListening(server);
    const port = (server.address() as AddressInfo | null)?.port;
    if (probeAddress && port === probeAddress.port) {
      throw new InvalidOptionError('probes.port', probeAddress.port, 'a port other than the main server\'s');
    }
    mainServer = server;
    return server;
  }

  async function runWarmups(): Promise<void> {
    for (const task of warmups) {
      logger.info({ event: 'warmup', warmup: task.name }, `warmup "${task.name}" started`);
      const outcome = await runStep('warmup', task, warmupController.signal);
      if (!outcome.ok) {
        emit('warmup', outcome);
        throw new PodkitError('ERR_PODKIT_WARMUP_FAILED', stepFailure('warmup', outcome), { cause: outcome.error });
      }
      logger.info({ event: 'warmup', warmup: task.name, durationMs: Math.round(outcome.durationMs) }, `warmup "${task.name}" finished`);
      emit('warmup', outcome);
    }
  }

  function warnNoSignalHandlers(): void {
    logger.warn(
      { event: 'config', signals: false },
      'signals: false: podkit installs no signal handler. Call lifecycle.stop() when SIGTERM arrives, or a process that is PID 1 in a container ignores SIGTERM and waits for SIGKILL.',
    );
  }

  function warnIfBudgetDoesNotFit(): void {
    const grace = config.terminationGracePeriodSeconds;
    if (grace === undefined) return;
    // SIGKILL comes terminationGracePeriodSeconds after deletion, preStop included; podkit's
    // own bound must end first, with room to cut sockets, write the reason and exit, or its exit
    // code and message are never written. shutdownTimeoutMs already holds the drain delay (it
    // bounds steps 2–4), so the delay is not added again; a preStop sleep podkit cannot see.
    if (config.shutdownTimeoutMs + GRACE_MARGIN_MS > grace * 1000) {
      logger.warn(
        { event: 'config', shutdownTimeoutMs: config.shutdownTimeoutMs, terminationGracePeriodSeconds: grace, marginMs: GRACE_MARGIN_MS },
        `terminationGracePeriodSeconds (${grace} s) must exceed shutdownTimeoutMs (${config.shutdownTimeoutMs} ms, the drain delay included) by at least ${GRACE_MARGIN_MS} ms, plus any preStop time: otherwise the kubelet SIGKILLs the pod before podkit exits with its code and reason. Lower shutdownTimeoutMs or raise the grace period.`,
      );
    }
  }

  async function start(target?: StartTarget): Promise<MainServer | undefined> {
    if (started) {
      throw new PodkitError(
        'ERR_PODKIT_ALREADY_STARTED',
        shutdown ? 'start() after stop(): a lifecycle runs once; create a new one.' : 'start() was already called on this lifecycle.',
      );
    }
    started = true;
    if (config.signals) {
      uninstalls.push(installSignalHandlers(config.signals, onSignal));
      // After podkit's own listeners are in, so the signal is never left without one.
      const foreign = handleForeignListeners(config.signals, config.foreignSignalHandlers, logger);
      runForeign = foreign.run;
      uninstalls.push(foreign.restore);
    } else warnNoSignalHandlers();
    if (config.handleCrashes) uninstalls.push(installCrashHandlers(onCrash));
    warnIfBudgetDoesNotFit();
    // Followed (and closed by a shutdown) from now on, not only once its turn to open comes: a
    // stop() that arrives while the probe port opens must not leave it serving.
    startServer = serverOf(target);
    if (startServer) {
      drain.attach(startServer);
      // `server.listen(port); lifecycle.start(server)`: a taken port is reported on the next tick,
      // while start() still opens the probe port. Unheard, that 'error' event would be thrown as an
      // uncaught exception (a crash, exit 70) instead of failing the start with the listen error.
      const server = startServer;
      if (!server.listening) {
        const onError = (error: Error) => {
          earlyListenError = error;
          server.off('listening', onListening);
        };
        const onListening = () => server.off('error', onError);
        server.once('error', onError);
        server.once('listening', onListening);
      }
    }

    try {
      if (isServer(target) && target.listening && config.probes && (target.address() as AddressInfo).port === config.probes.port) {
        throw new InvalidOptionError('probes.port', config.probes.port, 'a port other than the main server\'s');
      }
      if (config.probes) {
        const probes = config.probes;
        probeServer = createProbeListener(snapshot, probes);
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
        uninstalls.push(startHeartbeat(snapshot));
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
    snapshot.markWarmedUp();
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
      assertName('check', name);
      assertUnique('check', name, checks.has(name));
      assertFunction('check function', fn);
      const resolved = resolveCheckOptions(`check "${name}" options`, checkOptions, config.checks);
      const runner = new CheckRunner(name, fn, resolved, snapshot, logger, (event) => emit('check', event));
      checks.set(name, runner);
      // Checks added after start() begin at once.
      if (started && !shutdown) runner.start();
      return lifecycle;
    },

    warmup(name, fn, warmupOptions) {
      assertName('warmup', name);
      assertUnique('warmup', name, warmups.some((w) => w.name === name));
      assertFunction('warmup function', fn);
      if (started) throw new PodkitError('ERR_PODKIT_WARMUP_AFTER_START', `warmup("${name}") must be registered before start().`);
      warmups.push({ name, fn, options: resolveTimeoutOptions(`warmup "${name}" options`, warmupOptions, config.warmup.timeoutMs) });
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
      return holds.hold(name);
    },

    track(req, res) {
      drain.track(req, res);
    },

    serve(server) {
      if (!isServer(server)) throw new InvalidOptionError('serve(server)', server, 'an http.Server, https.Server or HTTP/2 server');
      drain.attach(server);
    },

    attach(app, attachment) {
      if (!isServer(attachment.server)) throw new InvalidOptionError('attach(app, { server })', attachment.server, 'an http.Server, https.Server or HTTP/2 server');
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

    on,
  };
  return lifecycle;
}

export type { AbortableTask };
