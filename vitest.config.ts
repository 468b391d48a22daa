import { defineConfig } from 'vitest/config';

// Tiers: unit (pure logic), in-process (real servers on port 0), process (forked fixtures, real
// signals and exit codes), deps (real Redis and Postgres behind fault proxies), adapters (Express
// 4/5, Fastify 4/5), e2e (rolling restarts on the kernel dataplane and behind HAProxy), grpc (@podkit/grpc
// with real grpc-js clients, servers and processes, and a gRPC rolling restart). The machine has 2 cores: few workers.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
