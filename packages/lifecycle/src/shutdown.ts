/**
 * The one shutdown sequence, whatever began it: a signal, stop(), a crash, a failed warmup or a
 * failed start. The cause decides three things once, here: the state it enters (`draining` for a
 * graceful one, `failed` otherwise), its bound (shutdownTimeoutMs or crashTimeoutMs) and the exit
 * kind. The steps are the same for every cause:
 *
 *   readiness 503 in this very tick → (graceful, was ready) drain delay with `Connection: close`
 *   → stop accepting, close idle sockets, finish in-flight, abort `signal`, wait for holds
 *   → hooks in reverse → close upgraded connections → deferred foreign signal listeners → exit.
 *
 * A crash during a graceful shutdown makes the exit a crash and shrinks what is left of the
 * budget; one during a failed start's fast drain keeps the failed start's code (exit-decision.ts
 * says why); a second signal leaves at once, keeping a failure's code and reason.
 * How long the drain delay is depends on what began it (drain-delay.ts): a preStop sleep leaves
 * only a keep-alive window after SIGTERM, and a preStop call has the delay before SIGTERM.
 */
import type { MainServer } from './drain.js';
import { PodkitError, TimeoutError } from './errors.js';
import { createExit, TERMINATION_MESSAGE_MAX_BYTES, type ExitResult } from './exit.js';
import { exitFor, failureAfterCrash, failureOnBegin, type ExitDecision, type Failure } from './exit-decision.js';
import { withHeldBy } from './forensics.js';
import { heldByOf, type Parts } from './parts.js';
import { errorMessage } from './redact.js';
import type { CrashOrigin } from './signals.js';
import { createPreStopFollowUp, drainDelayFor, preStopWaitMs, type Trigger } from './drain-delay.js';
import { runStep, type NamedStep } from './steps.js';
import { sleep } from './timeout.js';

export type ShutdownHook = (signal: AbortSignal) => unknown | Promise<unknown>;

export type ShutdownResult = ExitResult;

/** Why the shutdown began: `stop` (a signal or stop()) drains gracefully, the others fail fast. */
export type ShutdownCause = 'stop' | 'crash' | 'warmupFailed';

export interface Shutdown {
  /** Begins the sequence, or joins the one under way. */
  begin(cause: ShutdownCause, reason: string): Promise<ShutdownResult>;
  /**
   * A preStop call (the preStop endpoint): begins a graceful shutdown, or joins the one under way;
   * resolves when its drain delay is over. The shutdown then waits for the SIGTERM that follows
   * (at most PRESTOP_SIGNAL_WAIT_MS) before it stops accepting. Never rejects.
   */
  preStop(): Promise<void>;
  /** True once the sequence has begun. */
  readonly begun: boolean;
  /** The exit taken, once taken. */
  readonly result: ShutdownResult | undefined;
  onSignal(signal: NodeJS.Signals): void;
  onCrash(error: unknown, origin: CrashOrigin): void;
}

export function createShutdown(parts: Parts, hooks: readonly NamedStep[]): Shutdown {
  const { config, logger, drain, runtime } = parts;
  const deadlines = new Set<NodeJS.Timeout>();
  let shutdown: Promise<ShutdownResult> | undefined;
  let resolveShutdown: ((result: ShutdownResult) => void) | undefined;
  // Why the pod is failing, once it is: the first crash or failed start (exit-decision.ts). It
  // outlives any signal and decides the exit kind and reason, whoever takes the exit.
  let failure: Failure | undefined;
  // The first signal received. Only a signal after it forces the exit: see onSignal().
  let signalled: NodeJS.Signals | undefined;
  // Settled once the drain delay is over (or skipped): what a preStop call waits for.
  let delayOver: Promise<void> = Promise.resolve();
  // A shutdown a preStop call began waits for the SIGTERM that follows it; anything that follows ends the wait.
  const afterPreStop = createPreStopFollowUp(logger);

  const exit = createExit(config, (result) => {
    parts.emit('exit', result);
    for (const timer of deadlines) clearTimeout(timer);
    for (const uninstall of parts.uninstalls.splice(0)) uninstall();
    for (const runner of parts.checks.values()) runner.stop();
    resolveShutdown?.(result);
  });
  const leave = (decision: ExitDecision) => exit.leave(decision.kind, decision.reason, decision.signal);

  /**
   * Cuts what is left and leaves when `ms` passes first, saying what held it (forensics.ts), read
   * before anything is cut. The timer is ref'd: it must fire even if nothing else holds the loop.
   */
  function deadline(ms: number, what: string): NodeJS.Timeout {
    const timer = setTimeout(() => {
      const held = heldByOf(parts);
      const cut = drain.openSockets;
      drain.destroyAll();
      void runtime.probeServer?.close();
      const decision = exitFor(failure, { by: 'deadline', what, ms, cut });
      exit.leave(decision.kind, withHeldBy(decision.reason, held, TERMINATION_MESSAGE_MAX_BYTES), decision.signal, held);
    }, ms);
    deadlines.add(timer);
    return timer;
  }

  async function runHooks(): Promise<void> {
    for (const hook of [...hooks].reverse()) {
      const outcome = await runStep('shutdown hook', hook, undefined, parts.running);
      // A failing hook is logged and the rest still run: shutdown never throws. One that timed out
      // says what else was holding the shutdown then (the hook itself is among what still runs).
      if (!outcome.ok) {
        const held = outcome.error instanceof TimeoutError ? heldByOf(parts) : undefined;
        const failed = `shutdown hook "${hook.name}" failed`;
        logger.error(
          { event: 'hook', hook: hook.name, error: errorMessage(outcome.error), ...(held ? { heldBy: held } : {}) },
          held ? withHeldBy(`${failed}: ${errorMessage(outcome.error)}`, held, TERMINATION_MESSAGE_MAX_BYTES) : failed,
        );
      }
      parts.emit('hook', outcome);
    }
  }

  /** Stop accepting, drain, holds, hooks, upgraded connections, deferred foreign listeners. */
  async function closeEverything(): Promise<void> {
    parts.stopController.abort(new PodkitError('ERR_PODKIT_SHUTTING_DOWN', 'the service is shutting down'));
    if (runtime.startServer) closeLateListener(runtime.startServer);
    await Promise.all([drain.close(), parts.holds.released()]);
    await runHooks();
    // Upgraded connections (WebSocket…) stayed open so holds and hooks could say goodbye on them.
    await drain.closeUpgraded();
    for (const runner of parts.checks.values()) runner.stop();
    // Last, so that telemetry (an OpenTelemetry SDK's shutdown flushes it) covers the whole drain.
    // They get the signal that began the shutdown, or the one the orchestrator would have sent.
    // Not after a deadline already ended the shutdown: that exit has happened.
    if (runtime.runForeign && config.signals && !exit.result) await runtime.runForeign(signalled ?? config.signals[0]!, config.hooks.timeoutMs);
  }

  function begin(cause: ShutdownCause, reason: string, trigger: Trigger = 'call'): Promise<ShutdownResult> {
    // Whatever follows a preStop call (stop(), a crash, a failed start) ends its wait for SIGTERM.
    afterPreStop.followed();
    if (shutdown) return shutdown;
    shutdown = new Promise<ShutdownResult>((resolve) => {
      resolveShutdown = resolve;
    });
    const graceful = cause === 'stop';
    // Only a service that was ready got traffic, so only it has anybody to wait for.
    const wasReady = parts.snapshot.state === 'ready';
    failure = failureOnBegin(failure, cause, reason);
    // In this very tick: readiness answers 503 from here on (and liveness too, when failing).
    parts.transition(graceful ? 'draining' : 'failed', reason);
    drain.startDraining();
    parts.warmupController.abort(new PodkitError('ERR_PODKIT_SHUTTING_DOWN', graceful ? `shutdown began during warmup: ${reason}` : reason));
    const budgetMs = graceful ? config.shutdownTimeoutMs : config.crashTimeoutMs;
    const deadlineAt = performance.now() + budgetMs;
    const timer = deadline(budgetMs, graceful ? 'shutdown' : 'fast shutdown');

    const delayMs = graceful ? drainDelayFor(config, trigger, wasReady) : 0;
    let endDelay = () => {};
    delayOver = new Promise((resolve) => {
      endDelay = resolve;
    });

    void (async () => {
      // Keep serving while endpoints and load balancers catch up.
      if (delayMs > 0) {
        const afterSleep = trigger === 'signal' && config.preStopSleepSeconds > 0 ? { preStopSleepSeconds: config.preStopSleepSeconds, keepAliveWindowMs: delayMs } : {};
        logger.info({ event: 'drain', drainDelayMs: delayMs, ...afterSleep, inFlight: drain.gauges.inFlight }, 'draining: serving with Connection: close');
        await sleep(delayMs);
      }
      endDelay();
      if (trigger === 'preStop' && !exit.result && !signalled) await afterPreStop.wait(preStopWaitMs(deadlineAt - performance.now()));
      if (exit.result) return;
      if (graceful) parts.transition('stopping', reason);
      await closeEverything();
      await runtime.probeServer?.close();
      clearTimeout(timer);
      if (exit.result) return;
      if (graceful) parts.transition('stopped', reason);
      leave(exitFor(failure, { by: 'done', reason }));
    })().catch((error: unknown) => {
      endDelay();
      clearTimeout(timer);
      leave(exitFor(failure, { by: 'error', error: errorMessage(error) }));
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
      // Readiness first: the store that turns it 503 must not wait for a log line to be written.
      void begin('stop', `${signal} received`, 'signal');
      logger.info({ event: 'signal', signal }, `${signal} received: shutting down`);
      return;
    }
    if (!signalled) {
      signalled = signal;
      // After a preStop call this is the SIGTERM it waited for: no second delay, on to "stop accepting".
      afterPreStop.followed();
      logger.info({ event: 'signal', signal }, `${signal} received during a shutdown already under way: carrying on (a second signal exits at once)`);
      return;
    }
    // A second signal: the operator (or the kubelet) means it. Leave now.
    logger.warn({ event: 'signal', signal }, `second signal (${signal}) during shutdown: exiting at once`);
    drain.destroyAll();
    // A failure keeps its code and reason: they say why the pod died; the signal only says it died sooner.
    leave(exitFor(failure, { by: 'second-signal', signal }));
  }

  function onCrash(error: unknown, origin: CrashOrigin): void {
    const reason = `${origin}: ${errorMessage(error)}`;
    logger.fatal({ event: 'crash', origin, error: error instanceof Error ? error : String(error) }, 'podkit crash');
    if (failure?.kind === 'crash' || exit.result) return;
    const underway = shutdown !== undefined;
    failure = failureAfterCrash(failure, reason);
    afterPreStop.followed();
    if (!underway) {
      void begin('crash', reason);
      return;
    }
    // Already leaving gracefully: the exit becomes the crash's, and the rest of the budget shrinks.
    // A failed start's fast drain keeps its code, and crashTimeoutMs bounds it already.
    if (failure.kind === 'crash') deadline(config.crashTimeoutMs, 'shutdown after a crash');
  }

  function preStop(): Promise<void> {
    if (!shutdown) {
      logger.info({ event: 'signal', preStop: true }, 'preStop endpoint called: shutting down');
      void begin('stop', 'preStop endpoint called', 'preStop');
    }
    return delayOver;
  }

  return {
    begin,
    preStop,
    get begun() {
      return shutdown !== undefined;
    },
    get result() {
      return exit.result;
    },
    onSignal,
    onCrash,
  };
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
