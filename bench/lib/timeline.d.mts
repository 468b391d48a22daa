/** Types of timeline.mjs, for the TypeScript tests that draw a recorded sample. */

/** What `timelineData` reads of a rolling-restart report (test/e2e/harness). */
export interface TimelineReport {
  label: string;
  model: string;
  rounds: number;
  durationMs: number;
  replicaAddresses: Record<string, string>;
  timeline: { atMs: number; event: string; kind: string; replica?: string }[];
  requests: { atMs: number; ms: number; ok: boolean; kind?: string; replica?: string }[];
}

export interface TimelineData {
  title: string;
  model: string;
  round: number;
  rounds: number;
  /** The window drawn, in ms. */
  durationMs: number;
  sent: number;
  failed: number;
  /** `old 1`, `old 2`, `new 1`, … in the order they started. */
  replicas: string[];
  lifetimes: { replica: string; from: number; to: number }[];
  events: { t: number; replica: string; kind: string }[];
  requests: { t: number; replica: string | null; ok: boolean; kind?: string }[];
}

export function timelineData(report: TimelineReport, options?: { title?: string; round?: number }): TimelineData;
export function timelineSpec(data: TimelineData): Record<string, unknown>;
export function renderTimeline(data: TimelineData): Promise<string>;
