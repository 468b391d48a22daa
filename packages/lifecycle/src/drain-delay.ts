/**
 * How long a graceful shutdown keeps serving before it stops accepting, by what began it, and the
 * handshake of the preStop endpoint with the SIGTERM that follows it.
 *
 * - a signal: `drainDelayMs`, while endpoints and load balancers catch up; after a preStop sleep
 *   (`preStopSleepSeconds`) they already have, and only a keep-alive window is left;
 * - `stop()` from code: `drainDelayMs` (nobody removed the endpoints);
 * - a preStop call: `drainDelayMs`, during the preStop hook; its SIGTERM then comes with nothing
 *   left to wait for.
 * A service that never became ready got no traffic and waits for nothing.
 */
import type { Logger } from './logger.js';
import type { ResolvedOptions } from './options-resolved.js';

/** What began a graceful shutdown: it decides how long the drain delay is (see drainDelayFor). */
export type Trigger = 'signal' | 'call' | 'preStop';

/**
 * After a preStop sleep (`preStopSleepSeconds`) the endpoints are gone before SIGTERM, but
 * kube-proxy only steers new connections: a kept-alive connection keeps bringing requests here
 * until the server closes it, and podkit could not tell it `Connection: close` during the sleep
 * (it learns of the termination from SIGTERM). Closing an idle kept-alive socket at once races with
 * the request its client may be writing on it (the client gets a reset); a response that says
 * `Connection: close` does not. So instead of a second drain delay, SIGTERM gets this window (at
 * most `drainDelayMs`): every connection that carries a request in it is closed in-band, and what
 * stays idle through it is closed after. A second, not five: enough for a busy connection to carry
 * one more request, short enough not to be a second wait.
 */
export const KEEP_ALIVE_WINDOW_MS = 1000;

/**
 * After a preStop call was answered, how long podkit waits for the SIGTERM that follows it before
 * going on with the shutdown by itself. The kubelet sends SIGTERM the moment the hook returns; a
 * call that no SIGTERM follows (the kubelet died, or a caller that had the token and was not the
 * kubelet) must not leave a pod that is neither ready nor leaving: a drain once begun is not
 * undone, so the process leaves, exit 0, and is restarted by its controller.
 */
export const PRESTOP_SIGNAL_WAIT_MS = 5000;

/** The wait for SIGTERM after a preStop call: PRESTOP_SIGNAL_WAIT_MS, or half of what is left of the budget, whichever is less, so the shutdown that follows still has time before its deadline. */
export function preStopWaitMs(budgetLeftMs: number): number {
  return Math.max(0, Math.min(PRESTOP_SIGNAL_WAIT_MS, Math.floor(budgetLeftMs / 2)));
}

/** The drain delay of a graceful shutdown, in ms. */
export function drainDelayFor(config: Pick<ResolvedOptions, 'drainDelayMs' | 'preStopSleepSeconds'>, trigger: Trigger, wasReady: boolean): number {
  if (!wasReady) return 0;
  if (trigger === 'signal' && config.preStopSleepSeconds > 0) return Math.min(config.drainDelayMs, KEEP_ALIVE_WINDOW_MS);
  return config.drainDelayMs;
}

/** The wait, after a preStop call's drain delay, for what follows it. */
export interface PreStopFollowUp {
  /** Resolves when `followed()` is called, or `waitMs` from now. */
  wait(waitMs: number): Promise<void>;
  /** A signal, stop(), a crash or a failed start came: the wait (if any) ends now. */
  followed(): void;
}

export function createPreStopFollowUp(logger: Logger): PreStopFollowUp {
  let end: (() => void) | undefined;
  return {
    wait(waitMs) {
      logger.info({ event: 'drain', waitMs }, 'drain delay over: preStop call answered; waiting for SIGTERM');
      return new Promise((resolve) => {
        // Ref'd: it must fire even when nothing else is left on the loop.
        const timer = setTimeout(() => {
          end = undefined;
          logger.warn({ event: 'drain', waitMs }, `no signal followed the preStop call within ${waitMs} ms: shutting down anyway`);
          resolve();
        }, waitMs);
        end = () => {
          end = undefined;
          clearTimeout(timer);
          resolve();
        };
      });
    },
    followed() {
      end?.();
    },
  };
}
