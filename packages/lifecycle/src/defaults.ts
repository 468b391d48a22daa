/**
 * Every default, once, typed as the resolved options; a unit test holds the README's options table
 * against it.
 */
import type { ResolvedOptions, ResolvedProbeOptions } from './options-resolved.js';

/**
 * The defaults: the resolved options, less what only the caller can give (`logger`, `exit`), with
 * the values that depend on where the process runs (inside Kubernetes or not) given for each place.
 */
export type Defaults = Omit<
  ResolvedOptions,
  'probes' | 'signals' | 'drainDelayMs' | 'terminationMessagePath' | 'terminationGracePeriodSeconds' | 'logger' | 'exit' | 'inKubernetes'
> & {
  probes: ResolvedProbeOptions;
  signals: readonly NodeJS.Signals[];
  drainDelayMsInKubernetes: number;
  drainDelayMsElsewhere: number;
  terminationMessagePath: string;
  terminationGracePeriodSecondsInKubernetes: number;
};

type DeepReadonly<T> = { readonly [K in keyof T]: T[K] extends object ? DeepReadonly<T[K]> : T[K] };

function deepFreeze<T extends object>(value: T): DeepReadonly<T> {
  for (const inner of Object.values(value)) if (typeof inner === 'object' && inner !== null) deepFreeze(inner as object);
  return Object.freeze(value) as DeepReadonly<T>;
}

/** Every default, in one place. */
export const DEFAULTS: DeepReadonly<Defaults> = deepFreeze<Defaults>({
  probes: {
    port: 9000,
    host: undefined,
    metrics: false,
    exposeErrors: false,
    maxConnections: 64,
    headersTimeoutMs: 2000,
    requestTimeoutMs: 5000,
    maxHeaderSize: 8192,
    thread: 'worker',
    preStopToken: undefined,
    diagnostics: {
      enabled: false,
      tokenEnv: 'PODKIT_DIAGNOSTICS_TOKEN',
      tokenFile: undefined,
      allow: ['127.0.0.0/8', '::1/128'],
      cgroupRoot: '/sys/fs/cgroup',
      maxCpuProfileSeconds: 60,
    },
  },
  drainDelayMsInKubernetes: 5000,
  drainDelayMsElsewhere: 0,
  shutdownTimeoutMs: 25_000,
  crashTimeoutMs: 5000,
  preStopSleepSeconds: 0,
  signals: ['SIGTERM', 'SIGINT'],
  foreignSignalHandlers: 'warn',
  handleCrashes: true,
  openMainPort: 'before-warmup',
  listenTimeoutMs: 10_000,
  checks: { intervalMs: 2000, timeoutMs: 1000, failureThreshold: 3, successThreshold: 1, critical: true, slowThresholdMs: undefined },
  warmup: { timeoutMs: 30_000, required: true },
  hooks: { timeoutMs: 5000 },
  longLived: { closeWindowMs: 1000, closeTimeoutMs: 1000, budgetMs: 3000, webSocketGoodbye: 'podkit', sseRetryMs: undefined },
  liveness: { heartbeatTimeoutMs: 5000 },
  exitCodes: { clean: 0, crash: 70, warmupFailed: 75, shutdownTimeout: 124, forcedBase: 128 },
  terminationMessagePath: '/dev/termination-log',
  terminationGracePeriodSecondsInKubernetes: 30,
});

