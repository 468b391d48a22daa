export { createLifecycle } from './create-lifecycle.js';
export type {
  AttachedApp,
  ExitEvent,
  Lifecycle,
  LifecycleEvents,
  ShutdownHook,
  ShutdownResult,
  StartTarget,
  StateChange,
  StepEvent,
} from './create-lifecycle.js';
export { DEFAULTS } from './defaults.js';
export type { ExitFunction, ForeignSignalHandlers, LifecycleOptions, OpenMainPort } from './options.js';
export type { DiagnosticsOptions, LivenessOptions, ProbeOptions, ProbeThread } from './options-probes.js';
export type { ExitCodes, LongLivedOptions } from './options-shutdown.js';
export type { CheckOptions, HookOptions, WarmupOptions } from './options-tasks.js';
export type { CheckEvent, CheckFunction } from './checks/runner.js';
export { retry, RETRY_DEFAULTS } from './retry.js';
export type { RetryOptions, WarmupFunction } from './retry.js';
export { answerProbe } from './probes/answers.js';
export { isProbePath } from './probes/paths.js';
export type { ProbeAnswer, ProbeAnswerOptions, ProbeRequest } from './probes/answers.js';
export { InvalidOptionError, PodkitError, TimeoutError } from './errors.js';
export type { PodkitErrorCode } from './errors.js';
export { createJsonLogger } from './logger.js';
export type { Logger } from './logger.js';
export { LIFECYCLE_STATES } from './state.js';
export type { CheckStatus, LifecycleState } from './state.js';
export type { MainServer } from './drain.js';
export { redactSecrets } from './redact.js';
export type { HeldBy, InFlightRequest, StillRunning } from './forensics.js';
