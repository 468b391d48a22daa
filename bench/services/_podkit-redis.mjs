/**
 * The Redis readiness check of the dependency-reaction scenario (only when REDIS_URL is set), with
 * `@podkit/lifecycle/redis` on an ioredis client with ioredis's defaults (as terminus.mjs uses).
 * Check timings are the scenario's, stated in BENCHMARKS.md.
 */
export const REDIS_CHECK_OPTIONS = { intervalMs: 250, timeoutMs: 250, failureThreshold: 2, successThreshold: 1 };

export async function redisFromEnv(lifecycle, redisUrl) {
  if (!redisUrl) return;
  const [{ Redis }, { redisCheck, redisWarmup }] = await Promise.all([import('ioredis'), import('@podkit/lifecycle/redis')]);
  const client = new Redis(redisUrl, { lazyConnect: true });
  lifecycle.warmup('redis', redisWarmup(client));
  lifecycle.check('redis', redisCheck(client), REDIS_CHECK_OPTIONS);
  lifecycle.onShutdown('redis', () => client.quit());
}
