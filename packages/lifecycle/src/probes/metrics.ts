/** `/metrics`: the lifecycle's state and every check's verdict in the Prometheus text format. */
import { isReady, type SnapshotReader } from '../state.js';

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
  lines.push('# HELP podkit_check_duration_seconds Duration of the last run of a check.', '# TYPE podkit_check_duration_seconds gauge');
  for (const c of snapshot.checks.values()) {
    if (c.lastDurationMs !== undefined) lines.push(`podkit_check_duration_seconds{check="${label(c.name)}"} ${c.lastDurationMs / 1000}`);
  }
  lines.push('# HELP podkit_check_runs_total Check runs.', '# TYPE podkit_check_runs_total counter');
  for (const c of snapshot.checks.values()) lines.push(`podkit_check_runs_total{check="${label(c.name)}"} ${c.runs}`);
  lines.push('# HELP podkit_check_failures_total Failed check runs.', '# TYPE podkit_check_failures_total counter');
  for (const c of snapshot.checks.values()) lines.push(`podkit_check_failures_total{check="${label(c.name)}"} ${c.failures}`);
  return `${lines.join('\n')}\n`;
}
