/**
 * The lifecycle both podkit peers run under: probes on their own port (in the worker thread, or on
 * the main thread with PODKIT_PROBE_THREAD=main), drain delay and shutdown
 * budget from the bench, and (only when REDIS_URL is set, for the dependency-reaction scenario) a
 * Redis check from `@podkit/lifecycle/redis` on an ioredis client with ioredis's defaults, as
 * terminus.mjs uses. Check timings are the scenario's, stated in BENCHMARKS.md.
 */
import { createLifecycle } from '@podkit/lifecycle';
import { env } from './_env.mjs';

export const REDIS_CHECK_OPTIONS = { intervalMs: 250, timeoutMs: 250, failureThreshold: 2, successThreshold: 1 };

export async function createBenchLifecycle() {
  const lifecycle = createLifecycle({
    probes: { port: env.probePort, host: env.host, ...(env.probeThread ? { thread: env.probeThread } : {}) },
    drainDelayMs: env.drainDelayMs,
    shutdownTimeoutMs: env.graceMs,
    terminationMessagePath: false,
    ...(env.livenessWindowMs ? { liveness: { heartbeatTimeoutMs: env.livenessWindowMs } } : {}),
  });
  if (env.redisUrl) {
    const [{ Redis }, { redisCheck, redisWarmup }] = await Promise.all([import('ioredis'), import('@podkit/lifecycle/redis')]);
    const client = new Redis(env.redisUrl, { lazyConnect: true });
    lifecycle.warmup('redis', redisWarmup(client));
    lifecycle.check('redis', redisCheck(client), REDIS_CHECK_OPTIONS);
    lifecycle.onShutdown('redis', () => client.quit());
  }
  return lifecycle;
}
