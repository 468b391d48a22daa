/**
 * `@podkit/lifecycle/otel` against a real OpenTelemetry SDK: a MeterProvider with an in-memory
 * exporter, collected on demand, through every phase a service goes through — warming, ready, a
 * check failing, draining with a request in flight, stopped.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metrics, ValueType } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { LIFECYCLE_STATES } from '@podkit/lifecycle';
import { exportLifecycleMetrics, OTEL_DEFAULTS, OTEL_METER_NAME } from '@podkit/lifecycle/otel';
import { nextEvent, stopAll, testLifecycle } from '../in-process/helpers.js';

/** A MeterProvider whose reader exports only when asked (the interval is far beyond any test). */
function sdk() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  providers.push(provider);
  /** Collects now and returns every data point by instrument name, as `attributes JSON → value`. */
  async function read(): Promise<Map<string, { metric: MetricData; points: Map<string, number> }>> {
    exporter.reset();
    await reader.forceFlush();
    const byName = new Map<string, { metric: MetricData; points: Map<string, number> }>();
    for (const resource of exporter.getMetrics()) {
      for (const scope of resource.scopeMetrics) {
        for (const metric of scope.metrics) {
          const points = new Map<string, number>();
          for (const point of metric.dataPoints) points.set(JSON.stringify(point.attributes), point.value as number);
          byName.set(metric.descriptor.name, { metric, points });
        }
      }
    }
    return byName;
  }
  return { provider, read, meter: provider.getMeter('test') };
}

const providers: MeterProvider[] = [];
afterEach(async () => {
  await stopAll();
  metrics.disable();
  await Promise.all(providers.splice(0).map((p) => p.shutdown()));
});

type Reading = Awaited<ReturnType<ReturnType<typeof sdk>['read']>>;

/** The one value of an instrument without attributes. */
const single = (r: Reading, name: string) => r.get(name)?.points.get('{}');
const stateOf = (r: Reading) => Object.fromEntries(LIFECYCLE_STATES.map((s) => [s, r.get('podkit.lifecycle.state')?.points.get(JSON.stringify({ state: s }))]));
const oneHot = (current: string) => Object.fromEntries(LIFECYCLE_STATES.map((s) => [s, s === current ? 1 : 0]));
const up = (r: Reading, check: string, critical = true) => r.get('podkit.health_check.up')?.points.get(JSON.stringify({ component: check, critical }));
const duration = (r: Reading, check: string) => r.get('podkit.health_check.duration')?.points.get(JSON.stringify({ component: check }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('exportLifecycleMetrics', () => {
  it('reports state, readiness, each check and requests in flight while warming, ready, failing and draining', async () => {
    const { meter, read } = sdk();
    const { lifecycle } = testLifecycle({ probes: false, signals: ['SIGUSR2'], drainDelayMs: 800 });
    let healthy = true;
    lifecycle.check('postgres', async () => {
      // Decided when the run begins, so a failing run always takes the longer time.
      const ok = healthy;
      await sleep(ok ? 20 : 60);
      if (!ok) throw new Error('connect ECONNREFUSED postgres://user:secret@db:5432');
    }, { intervalMs: 40, failureThreshold: 1 });
    let finishWarmup!: () => void;
    lifecycle.warmup('cache', () => new Promise<void>((resolve) => (finishWarmup = resolve)));
    const unregister = exportLifecycleMetrics(lifecycle, { meter });

    let release!: () => void;
    const server = createServer((_req: IncomingMessage, res: ServerResponse) => {
      release = () => res.end('done');
    });
    const starting = lifecycle.start(() => server.listen(0, '127.0.0.1'));

    // Warming: the check already runs and has a verdict; readiness is false.
    const first = await nextEvent(lifecycle, 'check');
    let r = await read();
    expect(stateOf(r)).toEqual(oneHot('warming'));
    expect(single(r, 'podkit.lifecycle.ready')).toBe(0);
    expect(up(r, 'postgres')).toBe(1);
    expect(duration(r, 'postgres')).toBeGreaterThanOrEqual(0.015);
    expect(duration(r, 'postgres')).toBeLessThan(1);
    expect(first.status).toBe('ok');
    expect(single(r, 'podkit.http.server.active_requests')).toBe(0);

    // Ready.
    finishWarmup();
    await starting;
    r = await read();
    expect(stateOf(r)).toEqual(oneHot('ready'));
    expect(single(r, 'podkit.lifecycle.ready')).toBe(1);
    expect(up(r, 'postgres')).toBe(1);

    // The check fails: up 0, readiness 0, the state stays ready; the duration is the failing run's.
    healthy = false;
    const failing = await nextEvent(lifecycle, 'check', (e) => e.status === 'failing');
    r = await read();
    expect(stateOf(r)).toEqual(oneHot('ready'));
    expect(single(r, 'podkit.lifecycle.ready')).toBe(0);
    expect(up(r, 'postgres')).toBe(0);
    expect(duration(r, 'postgres')).toBeGreaterThanOrEqual(0.05);
    expect(failing.durationMs).toBeGreaterThanOrEqual(50);
    // No error text leaks into attributes.
    expect(JSON.stringify([...r.values()].map((m) => [...m.points.keys()]))).not.toContain('secret');

    // It recovers, then a request is in flight when the shutdown begins: draining, one active request.
    healthy = true;
    await nextEvent(lifecycle, 'check', (e) => e.status === 'ok');
    const port = (server.address() as AddressInfo).port;
    const response = new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/slow' }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
        .on('error', reject)
        .end();
    });
    await expect.poll(() => lifecycle.inFlight).toBe(1);
    const stopped = lifecycle.stop('test drain');
    r = await read();
    expect(stateOf(r)).toEqual(oneHot('draining'));
    expect(single(r, 'podkit.lifecycle.ready')).toBe(0);
    expect(single(r, 'podkit.http.server.active_requests')).toBe(1);

    release();
    expect(await response).toBe(200);
    await stopped;
    r = await read();
    expect(stateOf(r)).toEqual(oneHot('stopped'));
    expect(single(r, 'podkit.http.server.active_requests')).toBe(0);

    unregister();
  });

  it('reports long-lived connections open by kind, and how each was closed at shutdown by kind and outcome', async () => {
    const { meter, read } = sdk();
    const { lifecycle } = testLifecycle({ probes: false, signals: ['SIGUSR2'], longLived: { closeWindowMs: 50 } });
    const unregister = exportLifecycleMetrics(lifecycle, { meter });
    const server = createServer((_req, res) => res.end('hello'));
    const wss = new WebSocketServer({ server });
    await lifecycle.start(() => server.listen(0, '127.0.0.1'));
    const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await new Promise((resolve) => ws.once('open', resolve));
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));

    const open = (r: Reading, kind: string) => r.get('podkit.long_lived.open')?.points.get(JSON.stringify({ kind }));
    const closes = (r: Reading, kind: string, outcome: string) => r.get('podkit.long_lived.closed')?.points.get(JSON.stringify({ kind, outcome }));
    let r = await read();
    expect([open(r, 'websocket'), open(r, 'sse'), open(r, 'http2')]).toEqual([1, 0, 0]);
    expect(closes(r, 'websocket', 'clean')).toBe(0);

    await lifecycle.stop('test over');
    expect(await closed).toBe(1001);
    r = await read();
    expect(open(r, 'websocket')).toBe(0);
    expect(closes(r, 'websocket', 'clean')).toBe(1);
    expect(closes(r, 'websocket', 'timeout')).toBe(0);
    wss.close();
    unregister();
  });

  it('stops reading the lifecycle once unregistered (twice is harmless)', async () => {
    const { meter, read } = sdk();
    const { lifecycle } = testLifecycle({ probes: false, signals: ['SIGUSR2'] });
    const unregister = exportLifecycleMetrics(lifecycle, { meter });
    await lifecycle.start();
    expect(stateOf(await read())).toEqual(oneHot('ready'));
    unregister();
    unregister();
    await lifecycle.stop('test over');
    // The SDK may repeat the last values it saw; it must never see the stopped state.
    expect(stateOf(await read()).stopped).not.toBe(1);
  });

  it('describes each instrument with its OpenTelemetry kind and unit', async () => {
    const { meter, read } = sdk();
    const { lifecycle } = testLifecycle({ probes: false, signals: ['SIGUSR2'] });
    lifecycle.check('redis', () => true, { critical: false });
    exportLifecycleMetrics(lifecycle, { meter });
    await lifecycle.start();
    await expect.poll(async () => up(await read(), 'redis', false)).toBe(1);
    const r = await read();
    const describe = (name: string) => {
      const m = r.get(name)?.metric;
      if (!m) return undefined;
      return { kind: m.dataPointType === DataPointType.GAUGE ? 'gauge' : m.dataPointType === DataPointType.SUM && !m.isMonotonic ? 'up-down sum' : 'other', unit: m.descriptor.unit, valueType: m.descriptor.valueType };
    };
    expect(describe('podkit.lifecycle.state')).toEqual({ kind: 'gauge', unit: '1', valueType: ValueType.INT });
    expect(describe('podkit.lifecycle.ready')).toEqual({ kind: 'gauge', unit: '1', valueType: ValueType.INT });
    expect(describe('podkit.health_check.up')).toEqual({ kind: 'gauge', unit: '1', valueType: ValueType.INT });
    expect(describe('podkit.health_check.duration')).toEqual({ kind: 'gauge', unit: 's', valueType: ValueType.DOUBLE });
    expect(describe('podkit.http.server.active_requests')).toEqual({ kind: 'up-down sum', unit: '{request}', valueType: ValueType.INT });
  });

  it('uses the globally registered MeterProvider by default, under the @podkit/lifecycle scope, and takes a prefix', async () => {
    const { provider, read } = sdk();
    metrics.setGlobalMeterProvider(provider);
    const { lifecycle } = testLifecycle({ probes: false, signals: ['SIGUSR2'] });
    exportLifecycleMetrics(lifecycle);
    exportLifecycleMetrics(lifecycle, { prefix: 'orders' });
    await lifecycle.start();
    const r = await read();
    expect(r.get('podkit.lifecycle.state')?.points.get(JSON.stringify({ state: 'ready' }))).toBe(1);
    expect(r.get('orders.lifecycle.state')?.points.get(JSON.stringify({ state: 'ready' }))).toBe(1);
    expect(r.get('orders.lifecycle.ready')?.points.get('{}')).toBe(1);
    expect(OTEL_METER_NAME).toBe('@podkit/lifecycle');
    expect(OTEL_DEFAULTS.prefix).toBe('podkit');
  });

  it('rejects what is not a lifecycle, a meter or a valid prefix, naming the option and the value', () => {
    const { lifecycle } = testLifecycle({ probes: false, signals: ['SIGUSR2'] });
    expect(() => exportLifecycleMetrics({} as never)).toThrow(
      expect.objectContaining({ code: 'ERR_PODKIT_INVALID_OPTION', option: 'exportLifecycleMetrics(lifecycle)' }),
    );
    expect(() => exportLifecycleMetrics(lifecycle, { prefix: '9lives' })).toThrow(expect.objectContaining({ option: 'prefix', value: '9lives' }));
    expect(() => exportLifecycleMetrics(lifecycle, { prefix: 'has space' })).toThrow(expect.objectContaining({ option: 'prefix' }));
    expect(() => exportLifecycleMetrics(lifecycle, { meter: {} as never })).toThrow(expect.objectContaining({ option: 'meter' }));
    expect(() => exportLifecycleMetrics(lifecycle, { prefx: 'x' } as never)).toThrow(expect.objectContaining({ option: 'prefx' }));
  });
});
