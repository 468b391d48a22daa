/**
 * No secret reaches a log line: a secret planted in a failing warmup, a failing check, a failing
 * hook and a throwing listener, in messages and `cause` chains, and every line the logger received
 * is scanned for it. Probe output with probes.exposeErrors goes through the same rule.
 * (Crashes are in test/process/redaction.test.ts: only a real process can have an uncaught exception.)
 */
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from '@podkit/lifecycle';
import { get } from '../support/http.js';
import { nextEvent, stopAll, testLifecycle, type LogEntry } from './helpers.js';

afterEach(stopAll);

const SECRET = 'hunter2';
const URL_WITH_SECRET = `postgres://app:${SECRET}@db.internal:5432/app`;

/** An error with a secret in its message and two more down its `cause` chain, in shapes the rule must know. */
function leakyError(what: string): Error {
  const root = new Error(`{"user":"app","password":"${SECRET}"}`);
  const middle = new Error(`retry with Authorization: Bearer ${SECRET} failed`, { cause: root });
  return new Error(`${what}: ${URL_WITH_SECRET} (DB_PASS=${SECRET}, host=db)`, { cause: middle });
}

function everything(logs: LogEntry[]): string {
  return JSON.stringify(logs);
}

describe('every log line is redacted', () => {
  it('a failing warmup: the warmup, state and exit lines carry the reason without the secret', async () => {
    const t = testLifecycle();
    t.lifecycle.warmup('postgres', () => Promise.reject(leakyError('connect failed')));
    await expect(t.lifecycle.start()).rejects.toThrow('connect failed');
    const failed = t.logs.find((l) => l.obj.event === 'state' && l.obj.to === 'failed');
    expect(failed?.obj.reason).toBe('warmup "postgres" failed: connect failed: postgres://***@db.internal:5432/app (DB_PASS=***, host=db)');
    const exit = t.logs.find((l) => l.obj.event === 'exit');
    expect(exit?.obj.reason).toBe(failed?.obj.reason);
    expect(t.logs.length).toBeGreaterThan(3);
    expect(everything(t.logs)).not.toContain(SECRET);
  });

  it('a failing check: the "failing" line carries the redacted message', async () => {
    const t = testLifecycle();
    t.lifecycle.check('db', () => Promise.reject(leakyError('query failed')), { intervalMs: 60_000 });
    const failing = nextEvent(t.lifecycle, 'check', (e) => e.status === 'failing');
    await t.lifecycle.start();
    await failing;
    const line = t.logs.find((l) => l.obj.event === undefined && l.obj.check === 'db' && l.level === 'warn');
    expect(line?.obj.error).toBe('query failed: postgres://***@db.internal:5432/app (DB_PASS=***, host=db)');
    expect(everything(t.logs)).not.toContain(SECRET);
  });

  it('a failing hook: the hook line carries the redacted message', async () => {
    const t = testLifecycle();
    t.lifecycle.onShutdown('flush', () => {
      throw new Error(`flush failed: {"token": "${SECRET}"} sent with Bearer ${SECRET}`);
    });
    await t.lifecycle.start();
    await t.lifecycle.stop();
    const line = t.logs.find((l) => l.obj.event === 'hook');
    expect(line?.obj.error).toBe('flush failed: {"token": "***"} sent with Bearer ***');
    expect(everything(t.logs)).not.toContain(SECRET);
  });

  it('a throwing event listener: the error object is logged with its message, stack and cause chain redacted', async () => {
    const t = testLifecycle();
    t.lifecycle.on('state', () => {
      throw leakyError('listener broke');
    });
    await t.lifecycle.start();
    const line = t.logs.find((l) => l.msg === 'a "state" listener threw');
    const error = line?.obj.error as Record<string, unknown> | undefined;
    expect(error).toMatchObject({ type: 'Error', message: 'listener broke: postgres://***@db.internal:5432/app (DB_PASS=***, host=db)' });
    expect(String(error?.stack)).toContain('listener broke: postgres://***@db.internal');
    expect(error?.cause).toMatchObject({ message: 'retry with Authorization: Bearer *** failed', cause: { message: '{"user":"app","password":"***"}' } });
    expect(everything(t.logs)).not.toContain(SECRET);
  });

  it('a stop() reason with a secret: the state and exit lines are redacted, while the exit event keeps what the caller gave', async () => {
    const t = testLifecycle();
    await t.lifecycle.start();
    const result = await t.lifecycle.stop(`leaving: token=${SECRET}`);
    expect(result.reason).toBe(`leaving: token=${SECRET}`);
    expect(t.logs.filter((l) => l.obj.event === 'state' && l.obj.to === 'stopped').map((l) => l.obj.reason)).toEqual(['leaving: token=***']);
    expect(everything(t.logs)).not.toContain(SECRET);
  });

  it('reaches pino redacted, in the (obj, msg) form pino takes, with errors readable', async () => {
    const written: string[] = [];
    const app = Fastify({ logger: { level: 'info', stream: { write: (line: string) => void written.push(line) } } });
    const t = testLifecycle({ logger: app.log as unknown as Logger });
    t.lifecycle.on('state', ({ to }) => {
      if (to === 'warming') throw leakyError('listener broke');
    });
    t.lifecycle.warmup('postgres', () => Promise.reject(leakyError('connect failed')));
    await expect(t.lifecycle.start()).rejects.toThrow();
    await app.close();
    const lines = written.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(written.join('')).not.toContain(SECRET);
    expect(lines.find((l) => l.event === 'state' && l.to === 'failed')).toMatchObject({ level: 50, msg: 'podkit failed' });
    // pino prints an Error only under `err`; as a plain record it shows under `error` too.
    expect(lines.find((l) => l.msg === 'a "state" listener threw')?.error).toMatchObject({ message: expect.stringContaining('postgres://***@db.internal') });
  });
});

describe('probe output with probes.exposeErrors', () => {
  it('goes through the same rule: no secret in any body, in text or JSON', async () => {
    const t = testLifecycle({ probes: { exposeErrors: true } });
    t.lifecycle.check('db', () => Promise.reject(new Error(`auth failed: {"password":"${SECRET}"}`)), { intervalMs: 60_000 });
    t.lifecycle.check('api', () => Promise.reject(new Error(`401 for Authorization: Bearer ${SECRET}`)), { intervalMs: 60_000 });
    const settled = Promise.all([nextEvent(t.lifecycle, 'check', (e) => e.name === 'db'), nextEvent(t.lifecycle, 'check', (e) => e.name === 'api')]);
    await t.lifecycle.start();
    await settled;
    const bodies: string[] = [];
    for (const path of ['/readyz?verbose', '/readyz/db', '/readyz/api']) {
      bodies.push((await get(t.probePort(), path)).body);
      bodies.push((await get(t.probePort(), path, { headers: { accept: 'application/json' } })).body);
    }
    const output = bodies.join('\n');
    expect(output).toContain('[-]db failed: auth failed: {"password":"***"}');
    expect(output).toContain('[-]api failed: 401 for Authorization: Bearer ***');
    expect(output).not.toContain(SECRET);
  });
});
