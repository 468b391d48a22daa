/**
 * The start sequence: probe port → main port (before or after warmup) → warmups → ready. A
 * shutdown may begin at any point of it (a signal, stop(), a crash): then start() stops where it
 * is and the shutdown sequence owns the exit; a failure of its own fails the start (exit 75).
 */
import type { AddressInfo } from 'node:net';
import { isMainServer } from './servers.js';
import type { MainServer } from './drain.js';
import { InvalidOptionError, PodkitError, TimeoutError } from './errors.js';
import { TERMINATION_MESSAGE_MAX_BYTES } from './exit.js';
import { describeHeldBy, withHeldBy } from './forensics.js';
import { heldByOf, type Parts } from './parts.js';
import { createDiagnosticsProducer, createRefusalLog } from './diagnostics/artifacts.js';
import { createProbeListener, startHeartbeat } from './probes/index.js';
import { createPreStopRefusalLog } from './probes/pre-stop.js';
import { errorKind, errorMessage, redactSecrets } from './redact.js';
import { handleForeignListeners, installCrashHandlers, installSignalHandlers } from './signals.js';
import type { Shutdown } from './shutdown.js';
import { runStep, stepFailure, type WarmupStep } from './steps.js';
import { openMainServer, serverOf, type StartTarget } from './main-port.js';

export type { StartTarget } from './main-port.js';

/** How long the ready transition waits for checks to refresh their verdicts after warmup, in ms. */
const READY_REFRESH_WAIT_MS = 1000;

/** Room the grace period must leave after shutdownTimeoutMs, for the exit itself and the signal's way to the process, in ms. */
const GRACE_MARGIN_MS = 1000;

export function createStart(parts: Parts, shutdown: Shutdown, warmups: readonly WarmupStep[]): (target?: StartTarget) => Promise<MainServer | undefined> {
  const { config, logger, runtime } = parts;

  async function openMainPort(target: StartTarget | undefined): Promise<void> {
    const server = await openMainServer(parts, target);
    if (server) runtime.mainServer = server;
  }

  async function runWarmups(): Promise<void> {
    for (const task of warmups) {
      const { required } = task.options;
      logger.info({ event: 'warmup', warmup: task.name, required }, `warmup "${task.name}" started`);
      const outcome = await runStep('warmup', task, parts.warmupController.signal, parts.running);
      parts.emit('warmup', { ...outcome, required });
      // A task that ran out of time: say what held the start then (the task itself still runs).
      const held = outcome.error instanceof TimeoutError ? heldByOf(parts) : undefined;
      // A shutdown that aborted the task is no failure of the task: the shutdown owns the exit.
      if (!outcome.ok && (required || parts.warmupController.signal.aborted)) {
        const failed = stepFailure('warmup', outcome);
        throw new PodkitError('ERR_PODKIT_WARMUP_FAILED', held ? withHeldBy(failed, held, TERMINATION_MESSAGE_MAX_BYTES) : failed, { cause: outcome.error });
      }
      const durationMs = Math.round(outcome.durationMs);
      if (outcome.ok) {
        logger.info({ event: 'warmup', warmup: task.name, durationMs }, `warmup "${task.name}" finished`);
        continue;
      }
      // Optional: the service is useful without it (a cache to prime, a JIT to warm). Said once,
      // loudly, and kept where the probes show it; the logger redacts the error.
      logger.warn(
        { event: 'warmup', warmup: task.name, required: false, ok: false, durationMs, kind: errorKind(outcome.error), error: outcome.error, ...(held ? { heldBy: held } : {}) },
        `${stepFailure('optional warmup', outcome)}; becoming ready without it${held ? `; ${describeHeldBy(held, 2048)}` : ''}`,
      );
      parts.snapshot.recordOptionalWarmupFailure(task.name, errorKind(outcome.error), redactSecrets(errorMessage(outcome.error)));
    }
  }

  function installHandlers(): void {
    if (config.signals) {
      parts.uninstalls.push(installSignalHandlers(config.signals, shutdown.onSignal));
      // After podkit's own listeners are in, so the signal is never left without one.
      const foreign = handleForeignListeners(config.signals, config.foreignSignalHandlers, logger);
      runtime.runForeign = foreign.run;
      parts.uninstalls.push(foreign.restore);
    } else {
      logger.warn(
        { event: 'config', signals: false },
        'signals: false: podkit installs no signal handler. Call lifecycle.stop() when SIGTERM arrives, or a process that is PID 1 in a container ignores SIGTERM and waits for SIGKILL.',
      );
    }
    if (config.handleCrashes) parts.uninstalls.push(installCrashHandlers(shutdown.onCrash));
  }

  function warnIfBudgetDoesNotFit(): void {
    const grace = config.terminationGracePeriodSeconds;
    if (grace === undefined) return;
    // SIGKILL comes terminationGracePeriodSeconds after deletion, preStop included; podkit's
    // own bound must end first, with room to cut sockets, write the reason and exit, or its exit
    // code and message are never written. shutdownTimeoutMs already holds the drain delay (it
    // bounds steps 2–4), so the delay is not added again; a preStop sleep podkit is told of is.
    // (A preStop call to /prestopz starts the shutdown, and its budget, inside the hook.)
    const preStopMs = config.preStopSleepSeconds * 1000;
    if (preStopMs + config.shutdownTimeoutMs + GRACE_MARGIN_MS > grace * 1000) {
      const sleep = preStopMs > 0 ? `preStopSleepSeconds (${config.preStopSleepSeconds} s) plus ` : '';
      logger.warn(
        { event: 'config', shutdownTimeoutMs: config.shutdownTimeoutMs, preStopSleepSeconds: config.preStopSleepSeconds, terminationGracePeriodSeconds: grace, marginMs: GRACE_MARGIN_MS },
        `terminationGracePeriodSeconds (${grace} s) must exceed ${sleep}shutdownTimeoutMs (${config.shutdownTimeoutMs} ms, the drain delay included) by at least ${GRACE_MARGIN_MS} ms, plus any preStop time: otherwise the kubelet SIGKILLs the pod before podkit exits with its code and reason. Lower shutdownTimeoutMs or raise the grace period.`,
      );
    }
  }

  async function openProbePort(): Promise<void> {
    const probes = config.probes;
    if (!probes) return;
    const diagnostics = probes.diagnostics.enabled
      ? { produce: createDiagnosticsProducer(probes.diagnostics, logger), refused: createRefusalLog(logger) }
      : undefined;
    runtime.probeServer = createProbeListener(parts.snapshot, probes, { begin: () => shutdown.preStop(), refused: createPreStopRefusalLog(logger) }, diagnostics);
    let address: AddressInfo;
    try {
      address = await runtime.probeServer.listen();
    } catch (error) {
      throw new PodkitError('ERR_PODKIT_LISTEN_FAILED', `the probe listener could not listen on port ${probes.port} (probes.port): ${errorMessage(error)}`, { cause: error });
    }
    runtime.probeAddress = address;
    logger.info({ event: 'probes', port: address.port }, `probes listening on port ${address.port}`);
  }

  /** Verdicts as of now, not as of before warmup connected the clients they check. */
  async function refreshChecks(): Promise<void> {
    // But a check that hangs (a blackholed dependency) would hold ready and /startupz for up to
    // twice its timeout: past READY_REFRESH_WAIT_MS its fresh verdict lands in the background.
    let refreshCap: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...parts.checks.values()].map((runner) => runner.refresh())),
      new Promise<void>((resolve) => {
        refreshCap = setTimeout(resolve, READY_REFRESH_WAIT_MS);
      }),
    ]);
    clearTimeout(refreshCap);
  }

  return async function start(target?: StartTarget): Promise<MainServer | undefined> {
    if (runtime.started) {
      throw new PodkitError(
        'ERR_PODKIT_ALREADY_STARTED',
        shutdown.begun ? 'start() after stop(): a lifecycle runs once; create a new one.' : 'start() was already called on this lifecycle.',
      );
    }
    runtime.started = true;
    installHandlers();
    warnIfBudgetDoesNotFit();
    // Followed (and closed by a shutdown) from now on, not only once its turn to open comes: a
    // stop() that arrives while the probe port opens must not leave it serving.
    runtime.startServer = serverOf(parts, target);
    try {
      if (isMainServer(target) && target.listening && config.probes && (target.address() as AddressInfo).port === config.probes.port) {
        throw new InvalidOptionError('probes.port', config.probes.port, 'a port other than the main server\'s');
      }
      await openProbePort();
      // stop() may have come while the probe port was opening: then nothing more starts (no
      // checks, no monitor, no main port), or it would outlive the exit that already happened.
      if (!shutdown.begun) {
        parts.transition('warming', 'start() called');
        parts.uninstalls.push(startHeartbeat(parts.snapshot));
        // While ready nothing counts requests as they come: /metrics reads a sample of the connections.
        if (config.probes && config.probes.metrics) parts.uninstalls.push(parts.drain.gauges.sample());
        for (const runner of parts.checks.values()) runner.start();
        if (config.openMainPort === 'before-warmup') await openMainPort(target);
        await runWarmups();
        if (config.openMainPort === 'after-warmup' && !shutdown.begun) await openMainPort(target);
      }
    } catch (error) {
      // A signal arrived during start-up: the shutdown sequence owns the exit.
      if (shutdown.begun) return runtime.mainServer;
      await shutdown.begin('warmupFailed', errorMessage(error));
      throw error instanceof PodkitError ? error : new PodkitError('ERR_PODKIT_WARMUP_FAILED', errorMessage(error), { cause: error });
    }
    if (shutdown.begun) return runtime.mainServer;
    await refreshChecks();
    if (shutdown.begun) return runtime.mainServer;
    parts.snapshot.markWarmedUp();
    parts.transition('ready', 'warmup finished');
    return runtime.mainServer;
  };
}
