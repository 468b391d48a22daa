/**
 * The consumer's programs, as a user of the README would write them. Each starts a service with
 * its probes on port 0, prints one `{"consumer":"listening",…}` line with both ports once
 * `lifecycle.start()` resolved, and leaves it to SIGTERM to end it.
 */

export type Framework = 'express' | 'fastify';

const listening = `{ consumer: 'listening', framework: FRAMEWORK, port: address.port, probePort: lifecycle.probeAddress.port }`;

/** TypeScript: every public entry point, the subpaths included, with the types a user would spell out. */
export function typescriptProgram(framework: Framework): string {
  const common = `
import type { AddressInfo } from 'node:net';
import {
  createLifecycle,
  DEFAULTS,
  InvalidOptionError,
  LIFECYCLE_STATES,
  PodkitError,
  retry,
  type CheckFunction,
  type Lifecycle,
  type LifecycleOptions,
  type LifecycleState,
  type StateChange,
} from '@podkit/lifecycle';
import { httpCheck, routeWarmup } from '@podkit/lifecycle/http';
import { postgresCheck, postgresWarmup } from '@podkit/lifecycle/postgres';
import { redisCheck, redisWarmup } from '@podkit/lifecycle/redis';
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';

// The dependency helpers with real client types; not registered: this program has no Redis or Postgres.
export function dependencyChecks(redis: Redis, pool: Pool): CheckFunction[] {
  return [redisCheck(redis, { writeKey: 'podkit:check' }), postgresCheck(pool, { statementTimeoutMs: 500 }), httpCheck(new URL('http://127.0.0.1:1/'), { expectStatus: [200, 299] })];
}
export function dependencyWarmups(lifecycle: Lifecycle, redis: Redis, pool: Pool): Lifecycle {
  return lifecycle.warmup('redis', redisWarmup(redis)).warmup('postgres', postgresWarmup(pool, { connections: 2 }));
}

const FRAMEWORK = '${framework}';
const options: LifecycleOptions = { probes: { port: 0 }, drainDelayMs: 0, shutdownTimeoutMs: DEFAULTS.shutdownTimeoutMs };
const lifecycle: Lifecycle = createLifecycle(options);
try {
  createLifecycle({ drainDelayMs: -1 });
  throw new Error('a negative drainDelayMs was accepted');
} catch (error) {
  if (!(error instanceof InvalidOptionError) || !(error instanceof PodkitError)) throw error;
}
const states: readonly LifecycleState[] = LIFECYCLE_STATES;
lifecycle.on('state', (change: StateChange) => {
  if (!states.includes(change.to)) throw new Error(\`unknown state \${change.to}\`);
});
lifecycle.warmup('cache', retry(async (signal: AbortSignal) => signal.throwIfAborted(), { attempts: 2 }));
`;
  if (framework === 'express') {
    return `${common}
import express, { type Request, type Response } from 'express';
import { createMiddleware, createProbeRouter, type ProbeRouterOptions } from '@podkit/express';

const app = express();
const probeRoutes: ProbeRouterOptions = { prefix: '/health' };
app.use(createMiddleware(lifecycle));
app.use(createProbeRouter(lifecycle, probeRoutes));
app.get('/', (_req: Request, res: Response) => {
  res.send('hello');
});
lifecycle.warmup('routes', routeWarmup(lifecycle, { paths: ['/'] }));

const server = await lifecycle.start(() => app.listen(0, '127.0.0.1'));
const address = server?.address() as AddressInfo;
if (!lifecycle.probeAddress) throw new Error('no probe address');
console.log(JSON.stringify(${listening}));
`;
  }
  return `${common}
import Fastify from 'fastify';
import podkitFastify, { podkitFastify as named, type PodkitFastifyOptions } from '@podkit/fastify';

if (named !== podkitFastify) throw new Error('the default and the named export differ');
const app = Fastify();
const plugin: PodkitFastifyOptions = { lifecycle, probeRoutes: { prefix: '/health' }, listen: { port: 0, host: '127.0.0.1' } };
await app.register(podkitFastify, plugin);
app.get('/', async () => 'hello');
lifecycle.warmup('routes', routeWarmup(lifecycle, { paths: ['/'] }));

await lifecycle.start(app);
// The plugin's declaration merging: fastify.lifecycle is typed for the consumer too.
const state: LifecycleState = app.lifecycle.state;
if (state !== 'ready') throw new Error(\`not ready: \${state}\`);
const address = app.server.address() as AddressInfo;
if (!lifecycle.probeAddress) throw new Error('no probe address');
console.log(JSON.stringify(${listening}));
`;
}

/** Plain JavaScript, ES modules: `import`, top-level await. */
export function esmProgram(framework: Framework): string {
  const common = `
import { createLifecycle, retry } from '@podkit/lifecycle';
import { httpCheck, routeWarmup } from '@podkit/lifecycle/http';
import { postgresCheck } from '@podkit/lifecycle/postgres';
import { redisCheck } from '@podkit/lifecycle/redis';

const FRAMEWORK = '${framework}';
for (const helper of [httpCheck, postgresCheck, redisCheck]) if (typeof helper !== 'function') throw new Error('a subpath export is missing');
const lifecycle = createLifecycle({ probes: { port: 0 }, drainDelayMs: 0 });
lifecycle.warmup('cache', retry(async () => {}, { attempts: 2 }));
lifecycle.warmup('routes', routeWarmup(lifecycle, { paths: ['/'] }));
`;
  if (framework === 'express') {
    return `${common}
import express from 'express';
import { createMiddleware, createProbeRouter } from '@podkit/express';

const app = express();
app.use(createMiddleware(lifecycle));
app.use(createProbeRouter(lifecycle, { prefix: '/health' }));
app.get('/', (_req, res) => res.send('hello'));
const server = await lifecycle.start(() => app.listen(0, '127.0.0.1'));
const address = server.address();
console.log(JSON.stringify(${listening}));
`;
  }
  return `${common}
import Fastify from 'fastify';
import podkitFastify from '@podkit/fastify';

const app = Fastify();
await app.register(podkitFastify, { lifecycle, probeRoutes: { prefix: '/health' }, listen: { port: 0, host: '127.0.0.1' } });
app.get('/', async () => 'hello');
await lifecycle.start(app);
const address = app.server.address();
console.log(JSON.stringify(${listening}));
`;
}

/** CommonJS: `require()` of the ES-module packages (require(esm)), no top-level await. */
export function commonjsProgram(framework: Framework): string {
  const common = `
'use strict';
const { createLifecycle, retry } = require('@podkit/lifecycle');
const { httpCheck, routeWarmup } = require('@podkit/lifecycle/http');
const { postgresCheck } = require('@podkit/lifecycle/postgres');
const { redisCheck } = require('@podkit/lifecycle/redis');

const FRAMEWORK = '${framework}';
for (const helper of [httpCheck, postgresCheck, redisCheck]) if (typeof helper !== 'function') throw new Error('a subpath export is missing');
const lifecycle = createLifecycle({ probes: { port: 0 }, drainDelayMs: 0 });
lifecycle.warmup('cache', retry(async () => {}, { attempts: 2 }));
lifecycle.warmup('routes', routeWarmup(lifecycle, { paths: ['/'] }));
`;
  if (framework === 'express') {
    return `${common}
const express = require('express');
const { createMiddleware, createProbeRouter } = require('@podkit/express');

const app = express();
app.use(createMiddleware(lifecycle));
app.use(createProbeRouter(lifecycle, { prefix: '/health' }));
app.get('/', (_req, res) => res.send('hello'));
lifecycle.start(() => app.listen(0, '127.0.0.1')).then((server) => {
  const address = server.address();
  console.log(JSON.stringify(${listening}));
});
`;
  }
  return `${common}
const Fastify = require('fastify');
// An ES module's default export is \`.default\` of what require() returns.
const { podkitFastify, default: asDefault } = require('@podkit/fastify');

if (asDefault !== podkitFastify) throw new Error('the default and the named export differ');
const app = Fastify();
app
  .register(podkitFastify, { lifecycle, probeRoutes: { prefix: '/health' }, listen: { port: 0, host: '127.0.0.1' } })
  .then(() => {
    app.get('/', async () => 'hello');
    return lifecycle.start(app);
  })
  .then(() => {
    const address = app.server.address();
    console.log(JSON.stringify(${listening}));
  });
`;
}

const compilerOptions = { target: 'es2022', strict: true, types: ['node'], rootDir: 'src' };

/**
 * tsconfig files: NodeNext (what Node runs as is), checking every declaration file, ours included;
 * and Bundler (what a bundler or tsx resolves) with `skipLibCheck`, as bundler templates set it.
 */
export const TSCONFIGS = {
  'tsconfig.nodenext.json': { compilerOptions: { ...compilerOptions, module: 'nodenext', moduleResolution: 'nodenext', skipLibCheck: false, outDir: 'out/nodenext' }, include: ['src'] },
  'tsconfig.bundler.json': { compilerOptions: { ...compilerOptions, module: 'preserve', moduleResolution: 'bundler', skipLibCheck: true, outDir: 'out/bundler' }, include: ['src'] },
};
