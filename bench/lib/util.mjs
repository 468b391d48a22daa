/** Small helpers shared by the scenarios: ports, timing, statistics, number formatting. */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A port nobody listens on right now (bound to 0, read, released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export async function freePorts(n) {
  const ports = new Set();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

/** Nearest-rank percentile of an unsorted array (p in 0..100). */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export const median = (values) => percentile(values, 50);

export function fmtMs(ms, digits = 1) {
  if (ms === undefined || ms === null || Number.isNaN(ms)) return 'n/a';
  if (ms >= 100) return `${Math.round(ms)} ms`;
  return `${ms.toFixed(digits)} ms`;
}

export function fmtRatio(r) {
  if (!Number.isFinite(r)) return 'n/a';
  const pct = (r - 1) * 100;
  return `${r.toFixed(3)} (${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%)`;
}

/** A Markdown table from a header row and body rows. */
export function table(header, rows) {
  const line = (cells) => `| ${cells.map((c) => String(c)).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Resolves `promise`, or with `fallback` after `ms`. */
export function within(promise, ms, fallback) {
  let timer;
  return Promise.race([promise, new Promise((resolve) => (timer = setTimeout(() => resolve(fallback), ms)))]).finally(() => clearTimeout(timer));
}

/**
 * CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat (Linux only;
 * undefined elsewhere). Resolution: one clock tick (10 ms at the usual 100 Hz).
 */
export function cpuTimeMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at field 3; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
  } catch {
    return undefined;
  }
}
const CLOCK_TICKS_PER_S = 100;
