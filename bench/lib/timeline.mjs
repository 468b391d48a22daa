/**
 * A rolling restart as a picture: requests per second served by each replica over time, every
 * failed request marked on the replica it reached and when it failed, and each replica's SIGTERM,
 * endpoint removal and exit. Drawn with Vega-Lite (compiled to Vega, rendered to SVG headless:
 * `view.toSVG()`, no browser, no canvas).
 *
 * Two steps, so a run's data can be kept and drawn again:
 *   timelineData(report, …)  the harness's rolling-restart report → a small JSON-able record
 *   renderTimeline(data)     that record → SVG markup
 */
import { compile } from 'vega-lite';
import { parse, View } from 'vega';

/** Width of one bar of the requests-per-second line, in ms. */
const BIN_MS = 500;

const EVENT_LABELS = {
  'in-rotation': 'endpoint added',
  sigterm: 'SIGTERM',
  'out-of-rotation': 'endpoint removed',
  exited: 'exit',
};
const FAILED = 'failed request';
const KIND_WORDS = { status: 'non-2xx', reset: 'reset', refused: 'refused', hangup: 'hang-up', truncated: 'truncated', timeout: 'timeout', other: 'other' };

/**
 * The part of a rolling-restart report a timeline needs, for one round (one rolling restart):
 * from the load's start to the start of the next round (or the load's end).
 * Times are in ms since the window's start. `report.requests` must carry replicas (kube-proxy
 * model with `load.recordRequests`).
 */
export function timelineData(report, { title = report.label, round = 1 } = {}) {
  const at = (kind, pred = () => true) => report.timeline.find((e) => e.kind === kind && pred(e))?.atMs;
  const from = at('load-started') ?? 0;
  const to = at('round', (e) => e.event.startsWith(`round ${round + 1} `)) ?? at('load-stopped') ?? report.durationMs;
  const inWindow = (t) => t >= from && t <= to;
  const requests = report.requests
    .map((r) => ({ t: Math.round(r.atMs + r.ms - from), replica: r.replica ?? null, ok: r.ok, ...(r.ok ? {} : { kind: r.kind ?? 'other' }) }))
    .filter((r) => inWindow(r.t + from));
  const events = report.timeline
    .filter((e) => e.replica && inWindow(e.atMs) && ['ready', ...Object.keys(EVENT_LABELS)].includes(e.kind))
    .map((e) => ({ t: e.atMs - from, replica: e.replica, kind: e.kind }));
  // Replicas seen in the window, renamed for a reader: those that served before the window are the
  // old ones, in the order they got SIGTERM; the others the new ones, in the order they got ready.
  const seen = new Set([...requests.map((r) => r.replica), ...events.map((e) => e.replica)]);
  const momentOf = (id, kind) => report.timeline.find((e) => e.replica === id && e.kind === kind)?.atMs;
  const readyAt = (id) => momentOf(id, 'ready') ?? from;
  const all = Object.keys(report.replicaAddresses).filter((id) => seen.has(id));
  const old = all.filter((id) => readyAt(id) < from).sort((a, b) => (momentOf(a, 'sigterm') ?? Infinity) - (momentOf(b, 'sigterm') ?? Infinity));
  const fresh = all.filter((id) => readyAt(id) >= from).sort((a, b) => readyAt(a) - readyAt(b));
  const ids = [...old, ...fresh];
  const names = new Map([...old.map((id, i) => [id, `old ${i + 1}`]), ...fresh.map((id, i) => [id, `new ${i + 1}`])]);
  const rename = (id) => (id === null ? null : (names.get(id) ?? id));
  for (const r of requests) r.replica = rename(r.replica);
  for (const e of events) e.replica = rename(e.replica);
  const lifetimes = ids.map((id) => {
    const exit = report.timeline.find((e) => e.replica === id && e.kind === 'exited')?.atMs;
    return { replica: rename(id), from: Math.max(0, readyAt(id) - from), to: Math.min(to, exit ?? to) - from };
  });
  const replicas = ids.map(rename);
  return {
    title,
    model: report.model,
    round,
    rounds: report.rounds,
    durationMs: to - from,
    sent: requests.length,
    failed: requests.filter((r) => !r.ok).length,
    replicas,
    lifetimes,
    events,
    requests,
  };
}

/** Requests per second served by each replica, in BIN_MS bins, zero-filled over its lifetime. */
function servedPerSecond(data) {
  const rows = [];
  for (const { replica, from, to } of data.lifetimes) {
    const first = Math.floor(from / BIN_MS);
    const last = Math.floor(Math.min(to, data.durationMs) / BIN_MS);
    const counts = new Map();
    for (const r of data.requests) if (r.ok && r.replica === replica) counts.set(Math.floor(r.t / BIN_MS), (counts.get(Math.floor(r.t / BIN_MS)) ?? 0) + 1);
    for (let bin = first; bin <= last; bin += 1) rows.push({ replica, t: (bin * BIN_MS) / 1000, rps: ((counts.get(bin) ?? 0) * 1000) / BIN_MS });
  }
  return rows;
}

/** The Vega-Lite spec of a timeline (exported for tests and for anyone who wants it interactive). */
export function timelineSpec(data) {
  const unattributed = '(not attributed)';
  const lanes = data.requests.some((r) => !r.ok && !r.replica) ? [...data.replicas, unattributed] : data.replicas;
  const failures = data.requests.filter((r) => !r.ok);
  const byKind = Object.entries(failures.reduce((acc, r) => ({ ...acc, [r.kind]: (acc[r.kind] ?? 0) + 1 }), {}))
    .map(([k, n]) => `${n} ${KIND_WORDS[k] ?? k}`)
    .join(', ');
  const lane = (replica) => lanes.indexOf(replica ?? unattributed);
  const marks = [
    // Spread failures of the same moment a little across the lane so a burst reads as a burst.
    ...failures.map((r, i) => ({ t: r.t / 1000, lane: lane(r.replica) + (((i * 7) % 11) / 10 - 0.5) * 0.45, label: FAILED, kind: KIND_WORDS[r.kind] ?? r.kind })),
    // Events last, so they are drawn over the failures around them.
    ...data.events.filter((e) => EVENT_LABELS[e.kind]).map((e) => ({ t: e.t / 1000, lane: lane(e.replica), label: EVENT_LABELS[e.kind] })),
  ];
  // Lanes are numbers (one per replica) so marks can sit a little off a lane's line; the axis names them.
  const laneAxis = {
    field: 'lane',
    type: 'quantitative',
    title: null,
    scale: { domain: [-0.6, lanes.length - 0.4], reverse: true, nice: false, zero: false },
    axis: { values: lanes.map((_, i) => i), labelExpr: `${JSON.stringify(lanes)}[datum.value]`, grid: false, ticks: false, domain: false },
  };
  // SIGTERM and endpoint removal, also across the requests-per-second panel.
  const moments = data.events
    .filter((e) => e.kind === 'sigterm' || e.kind === 'out-of-rotation')
    .map((e) => ({ t: e.t / 1000, replica: e.replica, label: EVENT_LABELS[e.kind] }));
  const seconds = data.durationMs / 1000;
  const x = { field: 't', type: 'quantitative', scale: { domain: [0, Math.ceil(seconds)] } };
  const replicaColor = { field: 'replica', type: 'nominal', title: 'replica', scale: { domain: data.replicas, scheme: 'tableau10' } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `${data.title}: a rolling restart on the kube-proxy model`,
      subtitle: [
        `${data.failed} of ${data.sent} requests failed${byKind ? ` (${byKind})` : ''} · ${data.replicas.length > 0 ? 'replicas replaced one by one (maxSurge 1, maxUnavailable 0)' : ''}`,
        'top: requests served by each replica (dashed: its SIGTERM, dotted: its endpoint removed)',
        'below: each replica from ready to exit, and the requests that failed on it',
      ],
      anchor: 'start',
    },
    config: { font: 'Helvetica, Arial, sans-serif', view: { stroke: null }, axis: { grid: true, gridOpacity: 0.35 }, concat: { spacing: 6 } },
    vconcat: [
      {
        width: 720,
        height: 170,
        layer: [
          {
            data: { values: moments },
            mark: { type: 'rule', strokeWidth: 1, opacity: 0.7 },
            encoding: {
              x: { ...x, axis: null },
              color: replicaColor,
              strokeDash: { field: 'label', type: 'nominal', legend: null, scale: { domain: ['SIGTERM', 'endpoint removed'], range: [[5, 3], [1, 3]] } },
            },
          },
          {
            data: { values: servedPerSecond(data) },
            mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.6 },
            encoding: {
              x: { ...x, axis: null },
              y: { field: 'rps', type: 'quantitative', title: `requests/s served (${BIN_MS} ms bins)` },
              color: replicaColor,
            },
          },
        ],
      },
      {
        width: 720,
        height: Math.max(60, 28 * lanes.length),
        layer: [
          {
            // Each replica's life: ready → exit.
            data: { values: data.lifetimes.map((l) => ({ ...l, lane: lane(l.replica), from: l.from / 1000, to: l.to / 1000 })) },
            mark: { type: 'rule', strokeWidth: 6, opacity: 0.35, strokeCap: 'butt' },
            encoding: {
              x: { field: 'from', type: 'quantitative', scale: x.scale, axis: { title: 'seconds since the load started' } },
              x2: { field: 'to' },
              y: laneAxis,
              color: replicaColor,
            },
          },
          {
            data: { values: marks },
            mark: { type: 'point', filled: true, size: 70, opacity: 0.9, stroke: 'white', strokeWidth: 0.5 },
            encoding: {
              x: { ...x, axis: { title: 'seconds since the load started' } },
              y: laneAxis,
              shape: {
                field: 'label',
                type: 'nominal',
                title: 'on each replica',
                scale: { domain: [...Object.values(EVENT_LABELS), FAILED], range: ['triangle-up', 'triangle-down', 'diamond', 'square', 'cross'] },
              },
              color: { condition: { test: `datum.label === '${FAILED}'`, value: '#d62728' }, value: '#333' },
              tooltip: [{ field: 'label' }, { field: 'kind' }, { field: 't', title: 's' }],
            },
          },
        ],
      },
    ],
    resolve: { scale: { x: 'shared', color: 'shared', shape: 'independent' } },
  };
}

/** The timeline as SVG markup. */
export async function renderTimeline(data) {
  const view = new View(parse(compile(timelineSpec(data)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
