/** The environment the bench passes to every peer, and the line it waits for. */
export const env = {
  /** The address to listen on (the pod IP when the bench runs the peer inside a network namespace). */
  host: process.env.HOST || '127.0.0.1',
  /** Main port. */
  port: Number(process.env.PORT ?? 0),
  /** Probe port, for peers that have a separate probe listener. */
  probePort: Number(process.env.PROBE_PORT ?? 0),
  /** Wait after SIGTERM before closing (the peer's own drain delay / pre-close sleep), ms. */
  drainDelayMs: Number(process.env.DRAIN_DELAY_MS ?? 0),
  /** The peer's shutdown budget (its forced-exit timer), ms. */
  graceMs: Number(process.env.GRACE_MS ?? 10_000),
  /** podkit's `probes.thread` ('worker' by default; 'main' to compare). */
  probeThread: process.env.PODKIT_PROBE_THREAD,
  /** podkit's `liveness.heartbeatTimeoutMs`, when the scenario sets one. */
  livenessWindowMs: process.env.LIVENESS_WINDOW_MS ? Number(process.env.LIVENESS_WINDOW_MS) : undefined,
  /** Optional Redis for the dependency-reaction scenario. */
  redisUrl: process.env.REDIS_URL,
};

/** The one line the bench waits for: the service is listening and says it is ready. */
export function announce(mainPort, probePort) {
  process.stdout.write(`${JSON.stringify({ bench: 'ready', mainPort, probePort, uptimeMs: performance.now() })}\n`);
}

/** Holds the main loop for `ms` in one synchronous call, as an endless loop or a blocking native call would. */
export function blockFor(ms) {
  const until = performance.now() + ms;
  while (performance.now() < until);
}
