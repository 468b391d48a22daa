/**
 * Resolving the option groups: probes, liveness, long-lived connections, and the settings of the
 * named tasks (checks, warmups, hooks; also used per task at registration).
 */
import { DEFAULTS } from './defaults.js';
import { resolveDiagnostics } from './diagnostics/options.js';
import { InvalidOptionError } from './errors.js';
import type { LivenessOptions, ProbeThread } from './options-probes.js';
import type { ResolvedCheckOptions, ResolvedLongLivedOptions, ResolvedProbeOptions } from './options-resolved.js';
import type { WarmupOptions } from './options-tasks.js';
import { bool, durationMs, knownKeys, plainObject, port, positiveInteger } from './validate.js';

export function resolveCheckOptions(name: string, value: unknown, base: ResolvedCheckOptions): ResolvedCheckOptions {
  if (value === undefined) return base;
  const o = plainObject(name, value);
  knownKeys(name, o, ['intervalMs', 'timeoutMs', 'failureThreshold', 'successThreshold', 'critical', 'slowThresholdMs']);
  return {
    intervalMs: durationMs(`${name}.intervalMs`, o.intervalMs, base.intervalMs, { min: 1 }),
    timeoutMs: durationMs(`${name}.timeoutMs`, o.timeoutMs, base.timeoutMs, { min: 1 }),
    failureThreshold: positiveInteger(`${name}.failureThreshold`, o.failureThreshold, base.failureThreshold, 1000),
    successThreshold: positiveInteger(`${name}.successThreshold`, o.successThreshold, base.successThreshold, 1000),
    critical: bool(`${name}.critical`, o.critical, base.critical),
    slowThresholdMs: o.slowThresholdMs === undefined ? base.slowThresholdMs : durationMs(`${name}.slowThresholdMs`, o.slowThresholdMs, 0, { min: 1 }),
  };
}

export function resolveWarmupOptions(name: string, value: unknown, base: Required<WarmupOptions>): Required<WarmupOptions> {
  if (value === undefined) return base;
  const o = plainObject(name, value);
  knownKeys(name, o, ['timeoutMs', 'required']);
  return {
    timeoutMs: durationMs(`${name}.timeoutMs`, o.timeoutMs, base.timeoutMs, { min: 1 }),
    required: bool(`${name}.required`, o.required, base.required),
  };
}

export function resolveTimeoutOptions(name: string, value: unknown, fallbackMs: number): { timeoutMs: number } {
  if (value === undefined) return { timeoutMs: fallbackMs };
  const o = plainObject(name, value);
  knownKeys(name, o, ['timeoutMs']);
  return { timeoutMs: durationMs(`${name}.timeoutMs`, o.timeoutMs, fallbackMs, { min: 1 }) };
}

/** `env`: where the diagnostics token variable is looked up (read here, at construction). */
export function resolveProbes(value: unknown, env: NodeJS.ProcessEnv): ResolvedProbeOptions | false {
  if (value === false) return false;
  if (value === undefined) return { ...DEFAULTS.probes, diagnostics: resolveDiagnostics(undefined, DEFAULTS.probes.diagnostics, env) };
  const o = plainObject('probes', value);
  const d = DEFAULTS.probes;
  knownKeys('probes', o, Object.keys(d));
  if (o.host !== undefined && (typeof o.host !== 'string' || o.host === '')) {
    throw new InvalidOptionError('probes.host', o.host, 'a non-empty host name or address');
  }
  const headersTimeoutMs = durationMs('probes.headersTimeoutMs', o.headersTimeoutMs, d.headersTimeoutMs, { min: 1 });
  const requestTimeoutMs = durationMs('probes.requestTimeoutMs', o.requestTimeoutMs, d.requestTimeoutMs, { min: 1 });
  // node:http throws ERR_OUT_OF_RANGE at createServer when headersTimeout > requestTimeout; say so
  // here, at construction, instead of failing start() with Node's message.
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new InvalidOptionError(
      'probes.headersTimeoutMs',
      headersTimeoutMs,
      `at most probes.requestTimeoutMs (${requestTimeoutMs} ms): the headers are part of the request`,
    );
  }
  return {
    port: port('probes.port', o.port, d.port),
    host: o.host as string | undefined,
    metrics: bool('probes.metrics', o.metrics, d.metrics),
    exposeErrors: bool('probes.exposeErrors', o.exposeErrors, d.exposeErrors),
    maxConnections: positiveInteger('probes.maxConnections', o.maxConnections, d.maxConnections, 100_000),
    headersTimeoutMs,
    requestTimeoutMs,
    maxHeaderSize: positiveInteger('probes.maxHeaderSize', o.maxHeaderSize, d.maxHeaderSize, 1024 * 1024),
    thread: probeThread(o.thread, d.thread),
    preStopToken: preStopToken(o.preStopToken),
    diagnostics: resolveDiagnostics(o.diagnostics, d.diagnostics, env),
  };
}

/** Long enough not to be guessed by whoever can reach the probe port (`openssl rand -hex 16` gives 32). */
const MIN_PRESTOP_TOKEN_LENGTH = 16;

function preStopToken(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  // Sent as `Authorization: Bearer <token>`: only the characters of an RFC 6750 b64token fit there.
  if (typeof value !== 'string' || value.length < MIN_PRESTOP_TOKEN_LENGTH || !/^[A-Za-z0-9\-._~+/]+=*$/.test(value)) {
    // The value itself is never echoed: it is a credential.
    throw new InvalidOptionError(
      'probes.preStopToken',
      typeof value === 'string' ? `a string of ${value.length} character(s)` : value,
      `a token of at least ${MIN_PRESTOP_TOKEN_LENGTH} characters from A-Z a-z 0-9 - . _ ~ + / (such as the output of openssl rand -hex 16), or undefined for no preStop endpoint`,
    );
  }
  return value;
}

function probeThread(value: unknown, fallback: ProbeThread): ProbeThread {
  if (value === undefined) return fallback;
  if (value !== 'worker' && value !== 'main') throw new InvalidOptionError('probes.thread', value, '"worker" or "main"');
  return value;
}

/** The smallest heartbeat window: four beats, so the beat's own granularity never makes a turning loop look stale. */
const MIN_HEARTBEAT_TIMEOUT_MS = 1000;

export function resolveLiveness(value: unknown): Required<LivenessOptions> {
  const d = DEFAULTS.liveness;
  if (value === undefined) return { ...d };
  const o = plainObject('liveness', value);
  knownKeys('liveness', o, Object.keys(d));
  return { heartbeatTimeoutMs: durationMs('liveness.heartbeatTimeoutMs', o.heartbeatTimeoutMs, d.heartbeatTimeoutMs, { min: MIN_HEARTBEAT_TIMEOUT_MS }) };
}

export function resolveLongLived(value: unknown): ResolvedLongLivedOptions {
  const d = DEFAULTS.longLived;
  if (value === undefined) return { ...d };
  const o = plainObject('longLived', value);
  knownKeys('longLived', o, Object.keys(d));
  const goodbye = o.webSocketGoodbye;
  if (goodbye !== undefined && goodbye !== 'podkit' && goodbye !== 'app') {
    throw new InvalidOptionError('longLived.webSocketGoodbye', goodbye, '"podkit" or "app"');
  }
  const budgetMs = durationMs('longLived.budgetMs', o.budgetMs, d.budgetMs, { min: 1 });
  const closeWindowMs = durationMs('longLived.closeWindowMs', o.closeWindowMs, d.closeWindowMs);
  if (closeWindowMs >= budgetMs) {
    throw new InvalidOptionError('longLived.closeWindowMs', closeWindowMs, `less than longLived.budgetMs (${budgetMs} ms), which bounds the whole step`);
  }
  return {
    closeWindowMs,
    closeTimeoutMs: durationMs('longLived.closeTimeoutMs', o.closeTimeoutMs, d.closeTimeoutMs, { min: 1 }),
    budgetMs,
    webSocketGoodbye: (goodbye as 'podkit' | 'app' | undefined) ?? d.webSocketGoodbye,
    sseRetryMs: o.sseRetryMs === undefined ? undefined : durationMs('longLived.sseRetryMs', o.sseRetryMs, 0),
  };
}
