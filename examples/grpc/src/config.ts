/**
 * Configuration from the environment, read once at start-up. Timings left unset fall back to
 * podkit's defaults (a 5 s drain delay inside Kubernetes, none outside it).
 */
export interface Config {
  /** gRPC port (0: any free port, logged at start-up). @default 50051 */
  port: number;
  /** Probe port (/livez, /readyz, /startupz), kept off the Service. @default 9000 */
  probePort: number;
  /** Another Greeter this one calls (`host:port`): warmed with a real Health/Check before ready. @default none */
  upstreamAddress: string | undefined;
  /** Keep serving this long after SIGTERM while endpoints catch up, in ms. @default podkit's */
  drainDelayMs: number | undefined;
  /** Bound on drain delay + drain + shutdown hooks, in ms. @default podkit's (25000) */
  shutdownTimeoutMs: number | undefined;
  /** The pod's terminationGracePeriodSeconds, so podkit can warn when its budget does not fit. */
  terminationGracePeriodSeconds: number | undefined;
  /** The pod's `preStop: sleep` seconds: no second drain delay after SIGTERM (k8s/prestop-sleep.yaml). @default 0 */
  preStopSleepSeconds: number | undefined;
  /** Turns on `GET /prestopz` on the probe port for a `preStop: httpGet` hook with this bearer token (k8s/prestop-http.yaml). @default none */
  preStopToken: string | undefined;
  /** Where the reason of a non-zero exit is written. @default podkit's (/dev/termination-log when it exists) */
  terminationMessagePath: string | undefined;
}

function integer(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number, got "${raw}"`);
  return value;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    port: integer(env, 'PORT') ?? 50051,
    probePort: integer(env, 'PROBE_PORT') ?? 9000,
    upstreamAddress: env.UPSTREAM_ADDRESS || undefined,
    drainDelayMs: integer(env, 'DRAIN_DELAY_MS'),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS'),
    terminationGracePeriodSeconds: integer(env, 'TERMINATION_GRACE_PERIOD_SECONDS'),
    preStopSleepSeconds: integer(env, 'PRESTOP_SLEEP_SECONDS'),
    preStopToken: env.PRESTOP_TOKEN || undefined,
    terminationMessagePath: env.TERMINATION_MESSAGE_PATH || undefined,
  };
}
