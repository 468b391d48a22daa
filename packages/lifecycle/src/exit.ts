/**
 * How the process leaves, in one module: the exit-code table, the termination message that
 * `kubectl describe pod` shows, and the only call to `process.exit` in podkit.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import type { ExitCodes } from './options-shutdown.js';
import { fitBytes, type HeldBy } from './forensics.js';
import type { Logger } from './logger.js';
import { redactSecrets } from './redact.js';

/** The kubelet keeps at most this many bytes of the termination message. */
export const TERMINATION_MESSAGE_MAX_BYTES = 4096;

export type ExitKind = 'clean' | 'crash' | 'warmupFailed' | 'shutdownTimeout' | 'forced';

export function exitCodeFor(codes: ExitCodes, kind: ExitKind, signal?: NodeJS.Signals): number {
  if (kind === 'forced') return codes.forcedBase + (signal ? (osConstants.signals[signal] ?? 0) : 0);
  return codes[kind];
}

/**
 * Kubernetes reads the container's termination message from this file (the pod's
 * `terminationMessagePath`, `/dev/termination-log` by default) and shows it in `kubectl describe pod`.
 * https://kubernetes.io/docs/tasks/debug/debug-application/determine-reason-pod-failure/
 * Written whole, once, with credentials stripped, within the kubelet's 4096 bytes (cut with a
 * marker, `suffix` kept whole); a failure to write is not worth failing the exit over.
 */
export function writeTerminationMessage(configured: string | false | undefined, reason: string, suffix = ''): string | undefined {
  if (configured === false) return undefined;
  const path = configured ?? (existsSync('/dev/termination-log') ? '/dev/termination-log' : undefined);
  if (!path) return undefined;
  try {
    // Redacted first, then cut: redaction may lengthen a line ("pwd=x" → "pwd=***").
    const room = TERMINATION_MESSAGE_MAX_BYTES - Buffer.byteLength(`${suffix}\n`);
    writeFileSync(path, `${fitBytes(redactSecrets(reason), room)}${suffix}\n`);
    return path;
  } catch {
    return undefined;
  }
}

/** The default exit: the process ends here. */
export function exitProcess(code: number): void {
  process.exit(code);
}

export interface ExitResult {
  code: number;
  kind: ExitKind;
  reason: string;
  /** What held a shutdown or start that ran out of time, when that is why it ended (also in `reason`). */
  heldBy?: HeldBy;
}

export interface ExitSettings {
  exitCodes: ExitCodes;
  terminationMessagePath: string | false | undefined;
  logger: Logger;
  exit: ((code: number, reason: string) => void) | false;
}

/**
 * The way out, taken exactly once whatever the cause: the reason to the termination message file
 * (non-zero codes), one log line, the 'exit' event, the caller's clean-up, then the exit itself.
 */
export function createExit(settings: ExitSettings, onExit: (result: ExitResult) => void): {
  leave(kind: ExitKind, reason: string, signal?: NodeJS.Signals, heldBy?: HeldBy): ExitResult;
  readonly result: ExitResult | undefined;
} {
  let result: ExitResult | undefined;
  return {
    get result() {
      return result;
    },
    leave(kind, reason, signal, heldBy) {
      if (result) return result;
      const code = exitCodeFor(settings.exitCodes, kind, signal);
      result = heldBy ? { code, kind, reason, heldBy } : { code, kind, reason };
      if (code !== 0) writeTerminationMessage(settings.terminationMessagePath, reason, ` (exit ${code})`);
      const { logger } = settings;
      (code === 0 ? logger.info : logger.error).call(logger, { event: 'exit', code, kind, reason, ...(heldBy ? { heldBy } : {}) }, `podkit exit ${code}`);
      onExit(result);
      if (settings.exit) settings.exit(code, reason);
      return result;
    },
  };
}
