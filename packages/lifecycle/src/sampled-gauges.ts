/**
 * The gauges podkit counts from what Node keeps instead of paying per request: requests in flight
 * and long-lived connections open.
 *
 * In flight: while ready, the number of connections with a response on the wire (and HTTP/2
 * streams open), counted when asked: `lifecycle.inFlight` counts on each read; /metrics reads a
 * sample taken every SAMPLE_MS (only when metrics are served, from an unref'd timer), so the probe
 * listener reads one number and never walks the main server's sockets. Requests pipelined behind
 * one another on a connection are not told apart while ready: the connection counts once. From
 * the drain's start the snapshot's exact count (request-accounting.ts) takes over.
 *
 * Long-lived connections open, by kind (long-lived/census.ts): sampled the same way while ready,
 * and every DRAINING_SAMPLE_MS once the drain begins, when they close by the hundred within the
 * close window and a scrape during the shutdown should see them go.
 */
import type { LongLivedCounts } from './long-lived/outcomes.js';
import type { HealthSnapshot } from './state.js';

/** While ready, how often the gauges /metrics reads are refreshed. Prometheus scrapes every 15–60 s. */
const SAMPLE_MS = 1000;

/** During the drain, how often the long-lived gauge is refreshed: a tenth of the default close window. */
const DRAINING_SAMPLE_MS = 100;

export class SampledGauges {
  private exact = false;
  private sampling = false;
  private sampler: NodeJS.Timeout | undefined;

  /** `countInFlight()` counts what is in flight from what Node keeps, before the drain counts exactly; `countLongLived()` the long-lived connections open. */
  constructor(
    private readonly snapshot: HealthSnapshot,
    private readonly countInFlight: () => number,
    private readonly countLongLived: () => LongLivedCounts,
  ) {}

  /** Requests in flight: counted exactly while draining; while ready, the connections with a response on the wire, counted now. */
  get inFlight(): number {
    return this.exact ? this.snapshot.inFlight : this.countInFlight();
  }

  /** Long-lived connections open now, by kind, counted on each read (long-lived/census.ts). */
  get longLivedOpen(): LongLivedCounts {
    return this.countLongLived();
  }

  /**
   * For lifecycles that serve /metrics: keeps the snapshot's gauges within SAMPLE_MS of the truth
   * (DRAINING_SAMPLE_MS for long-lived connections during the drain). Returns the function that stops it.
   */
  sample(): () => void {
    this.sampling = true;
    this.every(this.exact ? DRAINING_SAMPLE_MS : SAMPLE_MS);
    return () => {
      this.sampling = false;
      clearInterval(this.sampler);
    };
  }

  /** The drain begins: the in-flight sample (or nothing) gives way to the exact count, built up from 0. */
  countExactly(): void {
    this.exact = true;
    this.snapshot.setInFlight(0);
    if (this.sampling) this.every(DRAINING_SAMPLE_MS);
  }

  private every(ms: number): void {
    const sample = () => {
      if (!this.exact) this.snapshot.setInFlight(this.countInFlight());
      this.snapshot.setLongLivedOpen(this.countLongLived());
    };
    sample();
    clearInterval(this.sampler);
    // Unref'd: a gauge never keeps the process alive.
    this.sampler = setInterval(sample, ms).unref();
  }
}
