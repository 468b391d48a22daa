/** `/metrics`: the lifecycle's state and every check's verdict in the Prometheus text format. */
import { LONG_LIVED_KINDS, LONG_LIVED_OUTCOMES } from '../long-lived/outcomes.js';
import { CHECK_HEALTHS, checkHealth, isReady, type SnapshotReader } from '../state.js';

export function renderMetrics(snapshot: SnapshotReader): string {
  const lines = [
    '# HELP podkit_state Current lifecycle state (1 for the current one).',
    '# TYPE podkit_state gauge',
    ...(['starting', 'warming', 'ready', 'draining', 'stopping', 'stopped', 'failed'] as const).map(
      (s) => `podkit_state{state="${s}"} ${snapshot.state === s ? 1 : 0}`,
    ),
    '# HELP podkit_ready Whether /readyz answers 200.',
    '# TYPE podkit_ready gauge',
    `podkit_ready ${isReady(snapshot) ? 1 : 0}`,
    '# HELP podkit_inflight_requests Requests in flight on the main server.',
    '# TYPE podkit_inflight_requests gauge',
    `podkit_inflight_requests ${snapshot.inFlight}`,
    '# HELP podkit_check_up Whether a check passes (1), fails (0) or has not run yet (-1).',
    '# TYPE podkit_check_up gauge',
  ];
  const label = (name: string) => name.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  for (const c of snapshot.checks.values()) {
    lines.push(`podkit_check_up{check="${label(c.name)}",critical="${c.critical}"} ${c.status === 'ok' ? 1 : c.status === 'failing' ? 0 : -1}`);
  }
  // The health+json status as a state set, like podkit_state: `warn` is a slow pass or a
  // non-critical check failing, neither of which fails readiness.
  lines.push('# HELP podkit_check_status A check\'s status (1 for the current one): pass, warn (slow, or non-critical and failing), fail, pending.', '# TYPE podkit_check_status gauge');
  for (const c of snapshot.checks.values()) {
    const current = checkHealth(c);
    for (const h of CHECK_HEALTHS) lines.push(`podkit_check_status{check="${label(c.name)}",status="${h}"} ${h === current ? 1 : 0}`);
  }
  lines.push('# HELP podkit_check_duration_seconds Duration of the last run of a check.', '# TYPE podkit_check_duration_seconds gauge');
  for (const c of snapshot.checks.values()) {
    if (c.lastDurationMs !== undefined) lines.push(`podkit_check_duration_seconds{check="${label(c.name)}"} ${c.lastDurationMs / 1000}`);
  }
  lines.push('# HELP podkit_check_runs_total Check runs.', '# TYPE podkit_check_runs_total counter');
  for (const c of snapshot.checks.values()) lines.push(`podkit_check_runs_total{check="${label(c.name)}"} ${c.runs}`);
  lines.push('# HELP podkit_check_failures_total Failed check runs.', '# TYPE podkit_check_failures_total counter');
  for (const c of snapshot.checks.values()) lines.push(`podkit_check_failures_total{check="${label(c.name)}"} ${c.failures}`);
  lines.push('# HELP podkit_warmup_optional_failed An optional warmup failed or timed out; the service became ready without it.', '# TYPE podkit_warmup_optional_failed gauge');
  for (const w of snapshot.optionalWarmupFailures) lines.push(`podkit_warmup_optional_failed{warmup="${label(w.name)}",kind="${label(w.kind)}"} 1`);
  lines.push('# HELP podkit_long_lived_open Long-lived connections open on the main server: WebSocket, SSE streams, HTTP/2 sessions.', '# TYPE podkit_long_lived_open gauge');
  for (const kind of LONG_LIVED_KINDS) lines.push(`podkit_long_lived_open{kind="${kind}"} ${snapshot.longLivedOpen(kind)}`);
  lines.push('# HELP podkit_long_lived_closed_total Long-lived connections closed at shutdown, by how: clean, app, client, ended, timeout.', '# TYPE podkit_long_lived_closed_total counter');
  for (const kind of LONG_LIVED_KINDS) {
    for (const outcome of LONG_LIVED_OUTCOMES) lines.push(`podkit_long_lived_closed_total{kind="${kind}",outcome="${outcome}"} ${snapshot.longLivedClosed(kind, outcome)}`);
  }
  return `${lines.join('\n')}\n`;
}
