/**
 * The in-flight gauge. While ready it is the number of connections with a response on the wire
 * (and HTTP/2 streams open), counted when asked: `lifecycle.inFlight` counts on each read; /metrics
 * reads a sample taken every IN_FLIGHT_SAMPLE_MS (only when metrics are served, from an unref'd
 * timer), so the probe listener reads one number and never walks the main server's sockets.
 * Requests pipelined behind one another on a connection are not told apart while ready: the
 * connection counts once. From the drain's start the snapshot's exact count (request-accounting.ts)
 * takes over.
 */
import type { HealthSnapshot } from './state.js';

/** While ready, how often the gauge /metrics reads is refreshed. Prometheus scrapes every 15–60 s. */
const IN_FLIGHT_SAMPLE_MS = 1000;

export class InFlightGauge {
  private exact = false;
  private sampler: NodeJS.Timeout | undefined;

  /** `countWhileReady()` counts what is in flight from what Node keeps, before the drain counts exactly. */
  constructor(
    private readonly snapshot: HealthSnapshot,
    private readonly countWhileReady: () => number,
  ) {}

  get value(): number {
    return this.exact ? this.snapshot.inFlight : this.countWhileReady();
  }

  /**
   * For lifecycles that serve /metrics: while ready, keeps the snapshot's in-flight count within
   * IN_FLIGHT_SAMPLE_MS of the truth. Returns the function that stops it.
   */
  sample(): () => void {
    const sample = () => {
      if (!this.exact) this.snapshot.setInFlight(this.countWhileReady());
    };
    sample();
    clearInterval(this.sampler);
    // Unref'd: a gauge never keeps the process alive.
    this.sampler = setInterval(sample, IN_FLIGHT_SAMPLE_MS).unref();
    return () => clearInterval(this.sampler);
  }

  /** The drain begins: the sample (or nothing) gives way to the exact count, built up from 0. */
  countExactly(): void {
    this.exact = true;
    clearInterval(this.sampler);
    this.snapshot.setInFlight(0);
  }
}
