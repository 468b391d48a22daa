/**
 * Slow is degraded, against a real lifecycle and its probe listener (in both threads) and a real
 * OpenTelemetry MeterProvider: a check that passes slower than `slowThresholdMs` reports `warn`
 * over HTTP and in the OTel export, and readiness stays 200.
 */
import { metrics } from '@opentelemetry/api';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { exportLifecycleMetrics } from '@podkit/lifecycle/otel';
import { delay, get, waitFor } from '../support/http.js';
import { inThread, nextEvent, PROBE_THREADS, stopAll } from './helpers.js';

const providers: MeterProvider[] = [];
afterEach(async () => {
  await stopAll();
  metrics.disable();
  await Promise.all(providers.splice(0).map((p) => p.shutdown()));
});

const JSON_ACCEPT = { accept: 'application/health+json' };

describe.each(PROBE_THREADS)('a slow check, probe listener on the %s thread', (thread) => {
  it('answers 200 with warn for a slow pass, in JSON, ?verbose, /readyz/<check> and /metrics, and pass again once fast', async () => {
    const { lifecycle, probePort } = inThread(thread)({ probes: { metrics: true } });
    let slowMs = 150;
    lifecycle.check('search', () => delay(slowMs), { intervalMs: 20, slowThresholdMs: 60 });
    await lifecycle.start();
    await nextEvent(lifecycle, 'check', (e) => e.slow);

    const json = await get(probePort(), '/readyz', { headers: JSON_ACCEPT });
    expect(json.status).toBe(200);
    const body = JSON.parse(json.body);
    expect(body).toMatchObject({ status: 'warn', checks: { search: { status: 'warn', slow: true, slowThresholdMs: 60 } } });
    expect(body.checks.search.durationMs).toBeGreaterThan(60);
    const verbose = await get(probePort(), '/readyz?verbose');
    expect(verbose.status).toBe(200);
    expect(verbose.body).toMatch(/\[\+\]search ok \(slow: \d+ ms, over 60 ms\)/);
    const one = await get(probePort(), '/readyz/search', { headers: JSON_ACCEPT });
    expect(one.status).toBe(200);
    expect(JSON.parse(one.body).status).toBe('warn');
    expect((await get(probePort(), '/readyz')).status).toBe(200);
    expect((await get(probePort(), '/metrics')).body).toContain('podkit_check_status{check="search",status="warn"} 1');

    slowMs = 1;
    await nextEvent(lifecycle, 'check', (e) => !e.slow);
    await waitFor(async () => JSON.parse((await get(probePort(), '/readyz', { headers: JSON_ACCEPT })).body).status === 'pass');
    expect((await get(probePort(), '/metrics')).body).toContain('podkit_check_status{check="search",status="pass"} 1');
  });
});

describe('a slow check in the OpenTelemetry export', () => {
  it('reports health_check.status warn (1) and pass (0), with health_check.up still 1', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({ readers: [reader] });
    providers.push(provider);
    const { lifecycle } = inThread('main')({ probes: false });
    lifecycle.check('search', () => delay(120), { intervalMs: 20, slowThresholdMs: 40 });
    exportLifecycleMetrics(lifecycle, { meter: provider.getMeter('test') });
    await lifecycle.start();
    await nextEvent(lifecycle, 'check', (e) => e.slow);
    await reader.forceFlush();
    const points = new Map<string, number>();
    for (const resource of exporter.getMetrics()) {
      for (const scope of resource.scopeMetrics) {
        for (const metric of scope.metrics) {
          for (const point of metric.dataPoints) points.set(`${metric.descriptor.name} ${JSON.stringify(point.attributes)}`, point.value as number);
        }
      }
    }
    expect(points.get('podkit.health_check.status {"component":"search","status":"warn"}')).toBe(1);
    expect(points.get('podkit.health_check.status {"component":"search","status":"pass"}')).toBe(0);
    expect(points.get('podkit.health_check.status {"component":"search","status":"fail"}')).toBe(0);
    expect(points.get('podkit.health_check.up {"component":"search","critical":true}')).toBe(1);
    expect(points.get('podkit.lifecycle.ready {}')).toBe(1);
  });
});
