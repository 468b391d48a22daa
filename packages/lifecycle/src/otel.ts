/**
 * `@podkit/lifecycle/otel`: the lifecycle's state, each check's verdict and duration, readiness and
 * the requests in flight as OpenTelemetry metrics, in the health-check style OpenTelemetry itself
 * uses (`otel_health_check_up{component="postgres"} 1`) rather than hand-written state.
 *
 * Only `@opentelemetry/api` is used, an optional peer dependency: the application owns the SDK
 * (MeterProvider, readers, exporters) and podkit never loads one. Without a registered
 * MeterProvider the API hands out a no-op meter and this costs nothing.
 *
 * Every instrument is observable: nothing is recorded on podkit's hot paths, the values are read
 * from the lifecycle when a reader collects, so the exported state is the probes' state at that
 * moment. The one thing the lifecycle's public surface does not expose as a value, a check's
 * verdict and last duration, is taken from its `'check'` events; a check is therefore reported from
 * its first finished run on (before that it has no verdict to report: its status is "pending").
 */
import {
  metrics,
  ValueType,
  type Attributes,
  type BatchObservableCallback,
  type Meter,
  type Observable,
} from '@opentelemetry/api';
import { InvalidOptionError, LIFECYCLE_STATES, type CheckEvent, type Lifecycle } from './index.js';
import { LONG_LIVED_KINDS, LONG_LIVED_OUTCOMES } from './long-lived/outcomes.js';
import { plumbingOf } from './plumbing.js';
import { checkHealth, type CheckHealth } from './verdicts.js';

/** The meter name (the instrumentation scope) used when no meter is given. */
export const OTEL_METER_NAME = '@podkit/lifecycle';

export interface LifecycleMetricsOptions {
  /**
   * The meter to create the instruments on.
   * @default metrics.getMeter('@podkit/lifecycle') — the globally registered MeterProvider's
   */
  meter?: Meter;
  /**
   * First segment of every instrument name (`<prefix>.lifecycle.state`…), for a service that
   * exports two lifecycles or wants its own namespace.
   * @default 'podkit'
   */
  prefix?: string;
}

/** The defaults of `exportLifecycleMetrics`, in one place. */
export const OTEL_DEFAULTS = { prefix: 'podkit' } as const;

/** Stops exporting: removes the instruments' callback and the `'check'` subscription. Idempotent. */
export type UnregisterMetrics = () => void;

// OpenTelemetry instrument names: an ASCII letter first, then letters, digits, `_ . - /`, at most
// 255 characters (https://opentelemetry.io/docs/specs/otel/metrics/api/#instrument-name-syntax).
// The longest suffix added below is `.http.server.active_requests` (28 characters).
const PREFIX_PATTERN = /^[A-Za-z][A-Za-z0-9_.\-/]{0,199}$/;

interface CheckReading {
  up: number;
  critical: boolean;
  durationS: number;
  health: CheckHealth;
}

/** The statuses `health_check.status` reports (a check with a verdict is never `pending`). */
const REPORTED_HEALTHS: readonly CheckHealth[] = ['pass', 'warn', 'fail'];

/**
 * Exports the lifecycle as OpenTelemetry metrics, read on every collection:
 *
 * | instrument | kind | unit | attributes | value |
 * | --- | --- | --- | --- | --- |
 * | `podkit.lifecycle.state` | gauge | `1` | `state` | 1 for the current state, 0 for every other |
 * | `podkit.lifecycle.ready` | gauge | `1` | — | 1 while `/readyz` answers 200 |
 * | `podkit.health_check.up` | gauge | `1` | `component`, `critical` | 1 passing, 0 failing |
 * | `podkit.health_check.status` | gauge | `1` | `component`, `status` | 1 for the check's current status (`pass`, `warn`: slow or non-critical failing, `fail`), 0 for the others |
 * | `podkit.health_check.duration` | gauge | `s` | `component` | the last run's duration |
 * | `podkit.http.server.active_requests` | up-down counter | `{request}` | — | requests in flight on the main server |
 * | `podkit.long_lived.open` | up-down counter | `{connection}` | `kind` | long-lived connections open: `websocket`, `sse`, `http2` (sessions) |
 * | `podkit.long_lived.closed` | counter | `{connection}` | `kind`, `outcome` | long-lived connections closed at shutdown: `clean`, `app`, `client`, `ended`, `timeout` |
 *
 * Returns the function that stops exporting.
 */
export function exportLifecycleMetrics(lifecycle: Lifecycle, options: LifecycleMetricsOptions = {}): UnregisterMetrics {
  if (typeof lifecycle !== 'object' || lifecycle === null || typeof lifecycle.on !== 'function' || typeof lifecycle.isReady !== 'function') {
    throw new InvalidOptionError('exportLifecycleMetrics(lifecycle)', lifecycle, 'a lifecycle made by createLifecycle()');
  }
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('exportLifecycleMetrics(lifecycle, options)', options, 'an object { meter?, prefix? }');
  }
  for (const key of Object.keys(options)) {
    if (key !== 'meter' && key !== 'prefix') throw new InvalidOptionError(key, (options as Record<string, unknown>)[key], 'no such option (known: meter, prefix)');
  }
  const prefix = options.prefix ?? OTEL_DEFAULTS.prefix;
  if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix)) {
    throw new InvalidOptionError('prefix', prefix, 'an instrument-name prefix: an ASCII letter, then letters, digits, "_", ".", "-" or "/" (at most 200 characters)');
  }
  const plumbing = plumbingOf(lifecycle, 'exportLifecycleMetrics(lifecycle)');
  const meter = options.meter ?? metrics.getMeter(OTEL_METER_NAME);
  if (typeof meter !== 'object' || meter === null || typeof meter.addBatchObservableCallback !== 'function') {
    throw new InvalidOptionError('meter', meter, 'an OpenTelemetry Meter (metrics.getMeter(name))');
  }

  const gauge = (name: string, description: string, unit = '1', valueType = ValueType.INT) =>
    meter.createObservableGauge(`${prefix}.${name}`, { description, unit, valueType });
  const state = gauge('lifecycle.state', 'Current lifecycle state: 1 for the current one, 0 for every other.');
  const ready = gauge('lifecycle.ready', 'Whether the readiness probe answers 200 (1) or 503 (0).');
  const checkUp = gauge('health_check.up', 'Whether a readiness check passes (1) or fails (0), thresholds applied; reported from its first run on.');
  const checkStatus = gauge(
    'health_check.status',
    "A readiness check's status: 1 for the current one (pass; warn: passing slower than slowThresholdMs, or non-critical and failing; fail), 0 for the others.",
  );
  const checkDuration = gauge('health_check.duration', 'Duration of the last run of a readiness check.', 's', ValueType.DOUBLE);
  const activeRequests = meter.createObservableUpDownCounter(`${prefix}.http.server.active_requests`, {
    description: 'Requests in flight on the main server, as the shutdown drain counts them.',
    unit: '{request}',
    valueType: ValueType.INT,
  });
  const longLivedOpen = meter.createObservableUpDownCounter(`${prefix}.long_lived.open`, {
    description: 'Long-lived connections open on the main server, by kind: websocket, sse, http2 (sessions).',
    unit: '{connection}',
    valueType: ValueType.INT,
  });
  const longLivedClosed = meter.createObservableCounter(`${prefix}.long_lived.closed`, {
    description: 'Long-lived connections closed at shutdown, by kind and outcome: clean, app, client, ended, timeout.',
    unit: '{connection}',
    valueType: ValueType.INT,
  });

  // Latest verdict per check, from the 'check' events. Plain values only: an event's error (which
  // can hold a connection string) is never kept, and never becomes an attribute.
  const checks = new Map<string, CheckReading>();
  const onCheck = (event: CheckEvent) => {
    if (event.status === 'pending') return;
    checks.set(event.name, { up: event.status === 'ok' ? 1 : 0, critical: event.critical, durationS: event.durationMs / 1000, health: checkHealth(event) });
  };

  const observables: Observable[] = [state, ready, checkUp, checkStatus, checkDuration, activeRequests, longLivedOpen, longLivedClosed];
  const collect: BatchObservableCallback = (result) => {
    const current = lifecycle.state;
    for (const s of LIFECYCLE_STATES) result.observe(state, s === current ? 1 : 0, { state: s });
    result.observe(ready, lifecycle.isReady() ? 1 : 0);
    for (const [name, reading] of checks) {
      const attributes: Attributes = { component: name, critical: reading.critical };
      result.observe(checkUp, reading.up, attributes);
      for (const h of REPORTED_HEALTHS) result.observe(checkStatus, h === reading.health ? 1 : 0, { component: name, status: h });
      result.observe(checkDuration, reading.durationS, { component: name });
    }
    result.observe(activeRequests, lifecycle.inFlight);
    const open = plumbing.longLivedOpen();
    for (const kind of LONG_LIVED_KINDS) {
      result.observe(longLivedOpen, open[kind], { kind });
      for (const outcome of LONG_LIVED_OUTCOMES) result.observe(longLivedClosed, plumbing.longLivedClosed(kind, outcome), { kind, outcome });
    }
  };

  const unsubscribe = lifecycle.on('check', onCheck);
  meter.addBatchObservableCallback(collect, observables);
  let registered = true;
  return () => {
    if (!registered) return;
    registered = false;
    unsubscribe();
    meter.removeBatchObservableCallback(collect, observables);
  };
}
