/**
 * `pnpm bench --write` draws one rolling restart per peer as an SVG timeline. This draws it from a
 * small recorded sample — a real kube-proxy-model run of `fastify.close()` on SIGTERM, every failed
 * request kept and one in three of the others — so a change that breaks the drawing shows up here,
 * not at the end of a seven-minute benchmark.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderTimeline, timelineData, type TimelineReport } from '../../bench/lib/timeline.mjs';

const report = JSON.parse(readFileSync(new URL('./fixtures/rolling-restart-report.json', import.meta.url), 'utf8')) as TimelineReport;

describe('the rolling-restart timeline', () => {
  it('takes one rolling restart from the report: from the load start, old and new replicas named in the order they started', () => {
    const data = timelineData(report, { round: 1 });
    expect(data.replicas).toEqual(['old 1', 'old 2', 'new 1', 'new 2']);
    expect(data.sent).toBe(report.requests.length);
    expect(data.failed).toBe(report.requests.filter((r) => !r.ok).length);
    expect(data.failed).toBeGreaterThan(0);
    // Every failure sits on the replica the dataplane sent it to: here, the old ones, which closed their listeners.
    expect(new Set(data.requests.filter((r) => !r.ok).map((r) => r.replica))).toEqual(new Set(['old 1', 'old 2']));
    const kinds = (replica: string) => data.events.filter((e) => e.replica === replica).map((e) => e.kind);
    expect(kinds('old 1')).toEqual(['sigterm', 'exited', 'out-of-rotation']);
    expect(kinds('new 1')).toEqual(['ready', 'in-rotation']);
    expect(Math.min(...data.requests.map((r) => r.t))).toBeGreaterThanOrEqual(0);
    expect(Math.max(...data.requests.map((r) => r.t))).toBeLessThanOrEqual(data.durationMs);
  });

  it('renders an SVG with each replica, each failure marked, and the SIGTERM / endpoint removal / exit legend', async () => {
    const data = timelineData(report, { title: 'fastify.close() on SIGTERM', round: 1 });
    const svg = await renderTimeline(data);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    for (const text of ['fastify.close() on SIGTERM: a rolling restart on the kube-proxy model', `${data.failed} of ${data.sent} requests failed`, 'old 1', 'new 2', 'SIGTERM', 'endpoint removed', 'exit', 'failed request', 'requests/s served']) {
      expect(svg, text).toContain(text);
    }
    // One red mark per failed request.
    expect(svg.match(/#d62728/g)).toHaveLength(data.failed);
  });
});
