/**
 * What each entry point of @podkit/lifecycle exports at runtime is exactly what the README
 * documents: nothing missing, nothing undocumented.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

const ENTRY_POINTS = {
  '@podkit/lifecycle': [
    'DEFAULTS', 'InvalidOptionError', 'LIFECYCLE_STATES', 'PodkitError', 'RETRY_DEFAULTS', 'TimeoutError',
    'answerProbe', 'createJsonLogger', 'createLifecycle', 'isProbePath', 'redactSecrets', 'retry',
  ],
  '@podkit/lifecycle/redis': ['REDIS_DEFAULTS', 'RedisNotReadyError', 'redisCheck', 'redisWarmup'],
  '@podkit/lifecycle/postgres': ['POSTGRES_DEFAULTS', 'postgresCheck', 'postgresWarmup'],
  '@podkit/lifecycle/http': ['HTTP_DEFAULTS', 'HttpRequestError', 'UnexpectedStatusError', 'httpCheck', 'routeWarmup'],
  '@podkit/lifecycle/adapter': [
    'PROBE_METHODS', 'PROBE_ROUTES', 'answerProbe', 'answerRoute', 'assertLifecycle', 'attach', 'isProbePath', 'normalizeProbePrefix', 'track',
  ],
  '@podkit/lifecycle/otel': ['OTEL_DEFAULTS', 'OTEL_METER_NAME', 'exportLifecycleMetrics'],
} as const;

describe('the exports of @podkit/lifecycle', () => {
  for (const [entry, names] of Object.entries(ENTRY_POINTS)) {
    it(`${entry} exports exactly ${names.length} names, each documented in the README`, async () => {
      const module = (await import(entry)) as Record<string, unknown>;
      expect(Object.keys(module).sort()).toEqual([...names].sort());
      for (const name of names) expect(readme, `README mentions ${name}`).toContain(`\`${name}`);
    });
  }
});
