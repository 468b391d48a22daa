/**
 * The resolved configuration: every option set, as `resolveOptions()` returns it.
 */
import type { ResolvedDiagnosticsOptions } from './diagnostics/options.js';
import type { Logger } from './logger.js';
import type { ExitFunction, ForeignSignalHandlers, OpenMainPort } from './options.js';
import type { LivenessOptions, ProbeThread } from './options-probes.js';
import type { ExitCodes } from './options-shutdown.js';
import type { HookOptions, WarmupOptions } from './options-tasks.js';

export interface ResolvedProbeOptions {
  port: number;
  host: string | undefined;
  metrics: boolean;
  exposeErrors: boolean;
  maxConnections: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxHeaderSize: number;
  thread: ProbeThread;
  preStopToken: string | undefined;
  diagnostics: ResolvedDiagnosticsOptions;
}

export interface ResolvedLongLivedOptions {
  closeWindowMs: number;
  closeTimeoutMs: number;
  budgetMs: number;
  webSocketGoodbye: 'podkit' | 'app';
  sseRetryMs: number | undefined;
}

export interface ResolvedCheckOptions {
  intervalMs: number;
  timeoutMs: number;
  failureThreshold: number;
  successThreshold: number;
  critical: boolean;
  slowThresholdMs: number | undefined;
}

export interface ResolvedOptions {
  probes: ResolvedProbeOptions | false;
  drainDelayMs: number;
  shutdownTimeoutMs: number;
  crashTimeoutMs: number;
  preStopSleepSeconds: number;
  /** `false`: the user opted out of signal handling. Never empty. */
  signals: NodeJS.Signals[] | false;
  foreignSignalHandlers: ForeignSignalHandlers;
  handleCrashes: boolean;
  openMainPort: OpenMainPort;
  listenTimeoutMs: number;
  checks: ResolvedCheckOptions;
  warmup: Required<WarmupOptions>;
  hooks: Required<HookOptions>;
  longLived: ResolvedLongLivedOptions;
  liveness: Required<LivenessOptions>;
  exitCodes: ExitCodes;
  terminationMessagePath: string | false | undefined;
  terminationGracePeriodSeconds: number | undefined;
  logger: Logger;
  exit: ExitFunction | false;
  inKubernetes: boolean;
}
