/**
 * Probe bodies: the text of kube-apiserver's `/readyz?verbose` ("[+]name ok" / "[-]name failed")
 * and health+json, both kept under the kubelet's 10 KiB read limit with the failing checks first.
 */
import { checkHealth, isStarted, type CheckVerdictReader, type SnapshotReader } from '../state.js';
import type { ProbeName } from './paths.js';

/** Bodies stay far below the kubelet's 10 KiB read limit. */
export const MAX_BODY_BYTES = 8 * 1024;

export function checkLine(check: CheckVerdictReader, exposeErrors: boolean, excluded: boolean): string {
  const role = check.critical ? '' : ' (non-critical)';
  if (excluded) return `[+]${check.name} excluded: ${check.status === 'ok' ? 'ok' : 'failed'}`;
  if (check.status === 'ok') return `[+]${check.name} ok${role}${check.slow ? ` (slow: ${Math.round(check.lastDurationMs ?? 0)} ms, over ${check.slowThresholdMs} ms)` : ''}`;
  if (check.status === 'pending') return `[-]${check.name} pending${role}`;
  const detail = exposeErrors ? (check.lastErrorMessage ?? check.lastErrorKind) : check.lastErrorKind;
  return `[-]${check.name} failed${role}${detail ? `: ${oneLine(detail)}` : ''}`;
}

export function textBody(snapshot: SnapshotReader, probe: ProbeName, pass: boolean, exclude: ReadonlySet<string>, exposeErrors: boolean): string {
  const lines: string[] = [];
  if (probe === 'livez') {
    lines.push(`${snapshot.state === 'failed' ? '[-]' : '[+]'}state ${snapshot.state}`);
    if (snapshot.eventLoopStalled) lines.push(stalledLine(snapshot));
  } else if (probe === 'startupz') {
    lines.push(`${isStarted(snapshot) ? '[+]' : '[-]'}warmup ${snapshot.warmedUp ? 'finished' : 'not finished'}`);
    for (const failure of snapshot.optionalWarmupFailures.slice(0, MAX_WARMUP_LINES)) {
      lines.push(`[-]${failure.name} failed (optional warmup, ignored): ${oneLine(exposeErrors ? failure.message : failure.kind)}`);
    }
  } else {
    lines.push(`${snapshot.state === 'ready' ? '[+]' : '[-]'}state ${snapshot.state}`);
    if (snapshot.eventLoopStalled) lines.push(stalledLine(snapshot));
    const checkLines = [...snapshot.checks.values()].map((check) => ({
      text: checkLine(check, exposeErrors, exclude.has(check.name)),
      passing: check.status === 'ok' || exclude.has(check.name),
    }));
    lines.push(...fitCheckLines(checkLines));
  }
  lines.push(`${probe} check ${pass ? 'passed' : 'failed'}`);
  return `${lines.join('\n')}\n`;
}

/** Why liveness (and readiness) fail while the main loop does not turn: how long since it last did. */
function stalledLine(snapshot: SnapshotReader): string {
  return `[-]event-loop stalled: no heartbeat for ${Math.round(snapshot.heartbeatAgeMs ?? 0)} ms (liveness.heartbeatTimeoutMs ${snapshot.heartbeatTimeoutMs})`;
}

/** Room left for check details once the state, verdict and "not shown" lines are in. */
const CHECK_DETAIL_BUDGET = MAX_BODY_BYTES - 512;

/**
 * Every check line when they fit; otherwise the failing ones first, as many as fit, then a count of
 * the rest, so that the verdict line stays last and a long list never hides what is failing.
 */
function fitCheckLines(lines: Array<{ text: string; passing: boolean }>): string[] {
  const size = (text: string) => Buffer.byteLength(text) + 1;
  if (lines.reduce((sum, line) => sum + size(line.text), 0) <= CHECK_DETAIL_BUDGET) return lines.map((line) => line.text);
  const shown: string[] = [];
  let used = 0;
  let hiddenFailing = 0;
  for (const line of [...lines.filter((l) => !l.passing), ...lines.filter((l) => l.passing)]) {
    if (used + size(line.text) > CHECK_DETAIL_BUDGET) {
      if (!line.passing) hiddenFailing += 1;
      continue;
    }
    used += size(line.text);
    shown.push(line.text);
  }
  shown.push(`[…] ${lines.length - shown.length} more checks not shown (${hiddenFailing} of them not passing)`);
  return shown;
}

export function checkJson(check: CheckVerdictReader, exposeErrors: boolean): Record<string, unknown> {
  return {
    status: checkHealth(check),
    critical: check.critical,
    ...(check.slow ? { slow: true, slowThresholdMs: check.slowThresholdMs } : {}),
    durationMs: check.lastDurationMs ?? null,
    lastChange: new Date(check.lastChangeAt).toISOString(),
    lastRun: check.lastRunAt === undefined ? null : new Date(check.lastRunAt).toISOString(),
    ...(check.status === 'failing'
      ? { error: check.lastErrorKind ?? 'error', ...(exposeErrors && check.lastErrorMessage ? { message: check.lastErrorMessage } : {}) }
      : {}),
  };
}

export function jsonBody(snapshot: SnapshotReader, probe: ProbeName, pass: boolean, exclude: ReadonlySet<string>, exposeErrors: boolean): Record<string, unknown> {
  const base: Record<string, unknown> = { status: pass ? 'pass' : 'fail', state: snapshot.state };
  // The heartbeat's age only when it matters, so a healthy answer stays byte for byte what it was.
  const stalled = snapshot.eventLoopStalled ? { eventLoopStalled: true, heartbeatAgeMs: Math.round(snapshot.heartbeatAgeMs ?? 0) } : undefined;
  if (probe === 'livez') return { ...base, eventLoopStalled: false, ...stalled };
  if (probe === 'startupz') return { ...base, warmedUp: snapshot.warmedUp, ...optionalWarmupsJson(snapshot, pass, exposeErrors) };
  const checks: Record<string, unknown> = {};
  let degraded = false;
  for (const check of snapshot.checks.values()) {
    checks[check.name] = { ...checkJson(check, exposeErrors), ...(exclude.has(check.name) ? { excluded: true } : {}) };
    if ((check.status !== 'ok' && (!check.critical || exclude.has(check.name))) || check.slow) degraded = true;
  }
  // health+json: "warn" is healthy with concerns: a non-critical check failing, or a check passing slowly.
  return { ...base, status: pass ? (degraded ? 'warn' : 'pass') : 'fail', ...stalled, checks };
}

/**
 * The JSON body, kept whole and parseable under the size limit: with too many checks to detail,
 * the ones not passing come first, then passing ones while they fit, and `omitted` counts the rest
 * (cutting the text at a byte count, as for plain text, would leave invalid JSON).
 */
export function jsonText(body: Record<string, unknown>): string {
  const full = JSON.stringify(body);
  const checks = body.checks as Record<string, { status: string }> | undefined;
  if (Buffer.byteLength(full) <= MAX_BODY_BYTES || !checks) return full;
  const entries = Object.entries(checks);
  const ordered = [...entries.filter(([, c]) => c.status !== 'pass'), ...entries.filter(([, c]) => c.status === 'pass')];
  const kept: Record<string, unknown> = {};
  let used = 0;
  for (const [name, check] of ordered) {
    const size = Buffer.byteLength(JSON.stringify(name)) + Buffer.byteLength(JSON.stringify(check)) + 2;
    if (used + size > CHECK_DETAIL_BUDGET) continue;
    used += size;
    kept[name] = check;
  }
  return JSON.stringify({ ...body, checks: kept, omitted: entries.length - Object.keys(kept).length });
}

/** Failed optional warmups listed at most (a service has a handful; the body stays small whatever happens). */
const MAX_WARMUP_LINES = 20;

/** Optional warmups that failed, only when there are some, so a healthy answer stays what it was. */
function optionalWarmupsJson(snapshot: SnapshotReader, pass: boolean, exposeErrors: boolean): Record<string, unknown> {
  const failures = snapshot.optionalWarmupFailures;
  if (failures.length === 0) return {};
  const warmups: Record<string, unknown> = {};
  for (const f of failures.slice(0, MAX_WARMUP_LINES)) {
    warmups[f.name] = { status: 'fail', required: false, error: f.kind, ...(exposeErrors ? { message: f.message.slice(0, 200) } : {}) };
  }
  return { ...(pass ? { status: 'warn' } : {}), warmups };
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').slice(0, 200);
}

