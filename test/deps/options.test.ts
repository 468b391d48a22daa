import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '@podkit/lifecycle';
import { httpCheck, routeWarmup } from '@podkit/lifecycle/http';
import { postgresCheck, postgresWarmup } from '@podkit/lifecycle/postgres';
import { redisCheck, redisWarmup } from '@podkit/lifecycle/redis';

// Neither client connects: lazyConnect, and a pg Pool only connects on demand.
const redis = new Redis({ lazyConnect: true });
const pool = new pg.Pool({ max: 3 });
const lifecycle = { server: undefined };

const invalid: Array<[string, () => unknown, string, unknown]> = [
  ['redisCheck without a client', () => redisCheck({} as never), 'redisCheck(client)', {}],
  ['redisCheck with an empty writeKey', () => redisCheck(redis, { writeKey: '' }), 'redisCheck.writeKey', ''],
  ['redisCheck with a negative writeTtlMs', () => redisCheck(redis, { writeKey: 'k', writeTtlMs: -1 }), 'redisCheck.writeTtlMs', -1],
  ['redisCheck with writeTtlMs but no writeKey', () => redisCheck(redis, { writeTtlMs: 1000 }), 'redisCheck.writeTtlMs', 1000],
  ['redisCheck with a misspelled option', () => redisCheck(redis, { writekey: 'k' } as never), 'redisCheck.writekey', 'k'],
  ['redisWarmup with retry: true', () => redisWarmup(redis, { retry: true as never }), 'redisWarmup.retry', true],
  ['redisWarmup with zero attempts', () => redisWarmup(redis, { retry: { attempts: 0 } }), 'retry.attempts', 0],
  ['postgresCheck without a pool', () => postgresCheck('postgres://x' as never), 'postgresCheck(pool)', 'postgres://x'],
  ['postgresCheck with a fractional statementTimeoutMs', () => postgresCheck(pool, { statementTimeoutMs: 1.5 }), 'postgresCheck.statementTimeoutMs', 1.5],
  ['postgresCheck with an empty query', () => postgresCheck(pool, { query: ' ' }), 'postgresCheck.query', ' '],
  ['postgresWarmup with more connections than max', () => postgresWarmup(pool, { connections: 4 }), 'postgresWarmup.connections', 4],
  ['postgresWarmup with zero connections', () => postgresWarmup(pool, { connections: 0 }), 'postgresWarmup.connections', 0],
  ['httpCheck with a relative URL', () => httpCheck('/healthz'), 'httpCheck(url)', '/healthz'],
  ['httpCheck with an ftp URL', () => httpCheck('ftp://x/'), 'httpCheck(url)', 'ftp://x/'],
  ['httpCheck with a status out of range', () => httpCheck('http://x/', { expectStatus: 700 }), 'httpCheck.expectStatus', 700],
  ['httpCheck with a reversed range', () => httpCheck('http://x/', { expectStatus: [299, 200] }), 'httpCheck.expectStatus', [299, 200]],
  ['httpCheck with a method with a space', () => httpCheck('http://x/', { method: 'GE T' }), 'httpCheck.method', 'GE T'],
  ['httpCheck with a non-string header', () => httpCheck('http://x/', { headers: { 'x-n': 1 as never } }), 'httpCheck.headers.x-n', 1],
  ['routeWarmup without a lifecycle', () => routeWarmup(undefined as never, { paths: ['/'] }), 'routeWarmup(lifecycle)', undefined],
  ['routeWarmup with no paths', () => routeWarmup(lifecycle, { paths: [] }), 'routeWarmup.paths', []],
  ['routeWarmup with a path without a slash', () => routeWarmup(lifecycle, { paths: ['/', 'api'] }), 'routeWarmup.paths[1]', 'api'],
  ['routeWarmup with zero times', () => routeWarmup(lifecycle, { paths: ['/'], times: 0 }), 'routeWarmup.times', 0],
];

describe('option validation of the dependency helpers', () => {
  it.each(invalid)('rejects %s with an InvalidOptionError naming the option and the value', (_, call, option, value) => {
    let error: unknown;
    try {
      call();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).code).toBe('ERR_PODKIT_INVALID_OPTION');
    expect((error as InvalidOptionError).option).toBe(option);
    expect((error as InvalidOptionError).value).toEqual(value);
    expect((error as Error).message).toContain(`"${option}"`);
  });

  it('accepts every documented option', () => {
    expect(() => redisCheck(redis, { writeKey: 'podkit:health', writeTtlMs: 5000 })).not.toThrow();
    expect(() => redisWarmup(redis, { retry: false })).not.toThrow();
    expect(() => redisWarmup(redis, { retry: { attempts: 3, initialDelayMs: 10, maxDelayMs: 100, factor: 3, onRetry: () => {} } })).not.toThrow();
    expect(() => postgresCheck(pool, { statementTimeoutMs: 200, query: 'SELECT 1' })).not.toThrow();
    expect(() => postgresWarmup(pool, { connections: 3, retry: false })).not.toThrow();
    expect(() => httpCheck(new URL('https://example.test/healthz'), { method: 'head', headers: { accept: '*/*' }, expectStatus: [200, 204] })).not.toThrow();
    expect(() => routeWarmup(lifecycle, { paths: ['/', { path: '/items', method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }], times: 2, expectStatus: 200, headers: { 'x-warmup': '1' } })).not.toThrow();
  });
});

describe('packaging of the dependency helpers', () => {
  // The installed package, as a user would load it.
  const dist = dirname(createRequire(import.meta.url).resolve('@podkit/lifecycle'));
  // Every module of the package, with its path under dist/ (the helpers live in dist/deps/).
  const files = (readdirSync(dist, { recursive: true }) as string[]).filter((f) => f.endsWith('.js')).map((f) => f.split(sep).join('/'));
  const imports = (file: string) => [...readFileSync(join(dist, file), 'utf8').matchAll(/^\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]/gm)].map((m) => m[1]);
  const helpers = ['deps/redis.js', 'deps/postgres.js', 'deps/http.js'];

  it('never loads ioredis or pg at runtime: the helpers import their types only, and the core never imports the helpers', () => {
    for (const file of files) {
      expect(imports(file).filter((spec) => /^(ioredis|pg)(\/|$)/.test(spec ?? '')), file).toEqual([]);
    }
    const core = files.filter((f) => !helpers.includes(f));
    for (const file of core) {
      expect(imports(file).filter((spec) => /(^|\/)deps\/(redis|postgres|http)\.js$|^\.\/(redis|postgres|http)\.js$/.test(spec ?? '')), file).toEqual([]);
    }
    expect(files).toEqual(expect.arrayContaining([...helpers, 'index.js']));
  });
});
