/**
 * What held a slow shutdown or start, said where an operator looks: in the log line and in the
 * termination message (`kubectl describe pod`). Taken when `shutdownTimeoutMs` (or
 * `crashTimeoutMs`) expires, when a shutdown hook times out and when a warmup times out:
 *
 *   requests in flight (method, path without its query string, age; oldest first)
 *   → long-lived connections by kind → open holds by name → hooks and warmups still running
 *   → active handles by type (`process.getActiveResourcesInfo()`)
 *
 * most useful first. Every section keeps its count even when its items do not fit: the kubelet
 * keeps at most 4096 bytes of the termination message, and hundreds of requests in flight must
 * not push out the one hook that hangs. Redaction is the exit's (every reason is redacted as it is
 * written) and the logger's.
 *
 * Not `process.report.getReport()`: without `excludeNetwork` it resolves the host names of every
 * socket and can block the loop for seconds, at the moment the budget has already run out. The
 * handle types are enough to tell a socket from a timer from a file operation, and cost nothing.
 */

/** A request in flight on the main server, as the drain knows it. */
export interface InFlightRequest {
  method: string;
  /** Path only: the query string is dropped (it carries tokens and signatures more often than not). */
  path: string;
  /** Unknown (absent) for a request found while the service was not draining: nothing is kept per request then. */
  ageMs?: number;
  /** True when the request was already in flight as the drain began: its age is at least `ageMs`. */
  atLeast?: boolean;
}

/** A warmup or hook whose task has not settled. */
export interface StillRunning {
  label: string;
  name: string;
  runningMs: number;
}

export interface HeldBy {
  /** Oldest first; at most MAX_LOGGED_ITEMS of them, `requestCount` counts them all. */
  requests: InFlightRequest[];
  requestCount: number;
  /** Open long-lived connections by kind (websocket, sse, upgraded, http2 sessions, http2 streams). */
  longLived: Record<string, number>;
  holds: string[];
  running: StillRunning[];
  /** Active handles and requests by type, most first. */
  handles: Record<string, number>;
}

export interface HeldBySources {
  /** The drain's view: requests in flight and long-lived connections by kind. */
  drain(): { requests: InFlightRequest[]; longLived: Record<string, number> };
  holds(): string[];
  running(): StillRunning[];
}

/** More than this many items of a list are counted, not listed, in the log line. */
const MAX_LOGGED_ITEMS = 50;
/** A path or name longer than this is cut: one must not take the room of the others. */
const MAX_ITEM_CHARS = 120;

export function collectHeldBy(sources: HeldBySources): HeldBy {
  const drain = safely(() => sources.drain(), { requests: [], longLived: {} });
  const requests = [...drain.requests].sort((a, b) => (b.ageMs ?? 0) - (a.ageMs ?? 0));
  return {
    requests: requests.slice(0, MAX_LOGGED_ITEMS),
    requestCount: requests.length,
    longLived: nonZero(drain.longLived),
    holds: safely(() => sources.holds(), []),
    running: safely(() => sources.running(), []).sort((a, b) => b.runningMs - a.runningMs),
    handles: activeHandles(),
  };
}

/** Active resources by type (sockets, servers, timers, file operations…), most first. */
export function activeHandles(): Record<string, number> {
  const counts = new Map<string, number>();
  for (const type of safely(() => process.getActiveResourcesInfo(), [] as string[])) counts.set(type, (counts.get(type) ?? 0) + 1);
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]));
}

interface Section {
  head: string;
  items: string[];
  /** How many there are in all (items may be fewer). */
  total: number;
}

/**
 * One line for the termination message and the log: "held by: requests in flight (2): GET /slow
 * 1012 ms, …; holds (1): consumer; …", within `maxBytes`. Each section's head and count always
 * fit (they are reserved first); then the first item of each section; then the items fill what is
 * left in order of usefulness, and a section that could not show them all ends with "… N more".
 */
export function describeHeldBy(held: HeldBy, maxBytes: number): string {
  const sections: Section[] = [
    {
      head: 'requests in flight',
      items: held.requests.map((r) => `${r.method} ${clip(r.path)}${r.ageMs === undefined ? '' : ` ${r.atLeast ? '≥' : ''}${Math.round(r.ageMs)} ms`}`),
      total: held.requestCount,
    },
    { head: 'long-lived', items: Object.entries(held.longLived).map(([kind, n]) => `${kind} ${n}`), total: -1 },
    { head: 'holds', items: held.holds.map(clip), total: held.holds.length },
    { head: 'still running', items: held.running.map((r) => `${r.label} "${clip(r.name)}" ${Math.round(r.runningMs)} ms`), total: held.running.length },
    { head: 'handles', items: Object.entries(held.handles).map(([type, n]) => `${type} ${n}`), total: -1 },
  ].filter((s) => s.items.length > 0 || s.total > 0);
  if (sections.length === 0) return 'held by: nothing podkit can see';

  const prefix = 'held by: ';
  const headOf = (s: Section) => (s.total >= 0 ? `${s.head} (${s.total})` : s.head);
  // Reserved: every head, its ": " and a possible "… N more" marker, and the "; " between sections.
  const reserve = (s: Section) => bytes(`${headOf(s)}: … ${s.total >= 0 ? s.total : s.items.length} more`) + 2;
  let left = maxBytes - bytes(prefix) - sections.reduce((sum, s) => sum + reserve(s), 0);
  const shown = sections.map(() => 0);
  const take = (index: number): boolean => {
    const item = sections[index]!.items[shown[index]!];
    if (item === undefined || bytes(item) + 2 > left) return false;
    left -= bytes(item) + 2;
    shown[index] = (shown[index] ?? 0) + 1;
    return true;
  };
  // First the first item of every section (the oldest request, the busiest handle type), then the
  // rest in order of usefulness.
  sections.forEach((_, index) => take(index));
  sections.forEach((_, index) => {
    while (take(index));
  });
  const parts = sections.map((section, index) => {
    const all = section.total >= 0 ? section.total : section.items.length;
    const more = all - shown[index]!;
    return `${headOf(section)}: ${[...section.items.slice(0, shown[index]), ...(more > 0 ? [`… ${more} more`] : [])].join(', ')}`;
  });
  return fitBytes(`${prefix}${parts.join('; ')}`, maxBytes);
}

/** Room kept for the exit's own suffix (" (exit 124)") and the newline. */
const SUFFIX_ROOM_BYTES = 16;

/**
 * `reason; held by: …`, the description given what is left of `maxBytes` (the termination
 * message's limit) after the reason; at least a few hundred bytes, the file's own cut does the rest.
 */
export function withHeldBy(reason: string, held: HeldBy, maxBytes: number): string {
  const room = Math.max(256, maxBytes - bytes(reason) - 2 - SUFFIX_ROOM_BYTES);
  return `${reason}; ${describeHeldBy(held, room)}`;
}

/** `text` cut to at most `maxBytes` of UTF-8 (never inside a character), with a marker when cut. */
export function fitBytes(text: string, maxBytes: number, marker = ' …[truncated]'): string {
  if (bytes(text) <= maxBytes) return text;
  const room = Math.max(0, maxBytes - bytes(marker));
  let cut = Buffer.from(text).subarray(0, room).toString();
  // A character split by the cut decodes as U+FFFD: drop it.
  if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  while (bytes(cut) > room) cut = cut.slice(0, -1);
  return `${cut}${marker}`;
}

function bytes(text: string): number {
  return Buffer.byteLength(text);
}

function clip(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length > MAX_ITEM_CHARS ? `${oneLine.slice(0, MAX_ITEM_CHARS - 1)}…` : oneLine;
}

function nonZero(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
}

/** Forensics never fail the exit they explain. */
function safely<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

/** The path of a request target, without query string or fragment (and without the origin of an absolute-form target). */
export function pathOf(url: string | undefined): string {
  if (!url) return '/';
  const origin = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(url);
  const rest = origin ? url.slice(origin[0].length) || '/' : url;
  const end = rest.search(/[?#]/);
  return end === -1 ? rest : rest.slice(0, end);
}
