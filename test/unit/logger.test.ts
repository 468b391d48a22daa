/**
 * The logger podkit writes to: the user's (or the default JSON one) wrapped once, so that every
 * field of every line is redacted, without touching the caller's objects, whatever their shape.
 */
import { describe, expect, it } from 'vitest';
import { createJsonLogger, redactingLogger } from '../../packages/lifecycle/src/logger.js';

type Call = { level: string; self: unknown; args: unknown[] };

/** A logger that records each call's arguments and `this`, as pino's methods would see them. */
function recorder() {
  const calls: Call[] = [];
  const logger = {
    info(...args: unknown[]) {
      calls.push({ level: 'info', self: this, args });
    },
    warn(...args: unknown[]) {
      calls.push({ level: 'warn', self: this, args });
    },
    error(...args: unknown[]) {
      calls.push({ level: 'error', self: this, args });
    },
    fatal(...args: unknown[]) {
      calls.push({ level: 'fatal', self: this, args });
    },
  };
  return { logger, calls };
}

function logged(obj: object, msg?: string): { fields: Record<string, unknown>; msg: unknown; text: string } {
  const { logger, calls } = recorder();
  redactingLogger(logger).error(obj, msg);
  const [fields, message] = calls[0]!.args as [Record<string, unknown>, unknown];
  return { fields, msg: message, text: JSON.stringify(calls[0]!.args) };
}

describe('redactingLogger()', () => {
  it('redacts every string of the fields, nested objects and arrays included, and the message', () => {
    const { fields, msg, text } = logged(
      { event: 'state', reason: 'warmup failed: postgres://app:hunter2@db/app', nested: { list: ['password=hunter2', { deep: '{"token":"hunter2"}' }] } },
      'failed with Bearer hunter2',
    );
    expect(text).not.toContain('hunter2');
    expect(fields.reason).toBe('warmup failed: postgres://***@db/app');
    expect(fields.nested).toEqual({ list: ['password=***', { deep: '{"token":"***"}' }] });
    expect(msg).toBe('failed with Bearer ***');
  });

  it('hides the value of every key that names a secret', () => {
    const { fields, text } = logged({ config: { headers: { Authorization: 'Bearer hunter2', 'x-request-id': 'r1' }, password: 'hunter2', apiKey: 12345 } });
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('12345');
    expect(fields.config).toEqual({ headers: { Authorization: '***', 'x-request-id': 'r1' }, password: '***', apiKey: '***' });
  });

  it('logs an error as a plain record with its message, stack, code, own fields and the whole cause chain, redacted', () => {
    const root = Object.assign(new Error('FATAL: password authentication failed, password=hunter2'), { code: '28P01', detail: 'DB_PASS=hunter2' });
    const middle = new Error('pool: postgres://app:hunter2@db/app', { cause: root });
    const aggregate = new AggregateError([new Error('token=hunter2'), 'secret=hunter2'], 'all failed: api_key=hunter2', { cause: middle });
    const { fields, text } = logged({ event: 'crash', error: aggregate });
    expect(text).not.toContain('hunter2');
    const error = fields.error as Record<string, unknown>;
    expect(error).toMatchObject({ type: 'AggregateError', message: 'all failed: api_key=***' });
    expect(error.stack).toMatch(/^AggregateError: all failed: api_key=\*\*\*\n\s+at /);
    expect(error.errors).toMatchObject([{ type: 'Error', message: 'token=***' }, 'secret=***']);
    const cause = error.cause as Record<string, unknown>;
    expect(cause).toMatchObject({ type: 'Error', message: 'pool: postgres://***@db/app' });
    expect(cause.stack).toContain('pool: postgres://***@db/app');
    expect(cause.cause).toMatchObject({ type: 'Error', code: '28P01', message: 'FATAL: password authentication failed, password=***', detail: 'DB_PASS=***' });
  });

  it('does not change the caller\'s objects or errors', () => {
    const cause = new Error('password=hunter2');
    const error = new Error('postgres://app:hunter2@db/app', { cause });
    const stack = error.stack;
    const obj = { event: 'crash', error, nested: { reason: 'token=hunter2' } };
    logged(obj, 'secret=hunter2');
    expect(obj).toEqual({ event: 'crash', error, nested: { reason: 'token=hunter2' } });
    expect(obj.error).toBe(error);
    expect(error.message).toBe('postgres://app:hunter2@db/app');
    expect(error.stack).toBe(stack);
    expect(error.cause).toBe(cause);
    expect(cause.message).toBe('password=hunter2');
  });

  it('survives cycles: an error that is its own cause, an object that holds itself', () => {
    const error: Error & { self?: unknown } = new Error('password=hunter2');
    error.cause = error;
    error.self = error;
    const obj: Record<string, unknown> = { event: 'x', error };
    obj.me = obj;
    const { fields, text } = logged(obj);
    expect(text).not.toContain('hunter2');
    expect(fields.me).toBe('[Circular]');
    expect(fields.error).toMatchObject({ message: 'password=***', self: '[Circular]', cause: '[Circular]' });
    // The same object twice is not a cycle.
    const shared = { reason: 'secret=hunter2' };
    expect(logged({ a: shared, b: shared }).fields).toEqual({ a: { reason: 'secret=***' }, b: { reason: 'secret=***' } });
  });

  it('never throws: getters and toJSON that throw are logged as unreadable; toJSON results (URL, Date) are redacted', () => {
    const hostile = {
      get boom(): string {
        throw new Error('getter');
      },
      bad: { toJSON: () => { throw new Error('toJSON'); } },
      url: new URL('https://app:hunter2@api.internal/v1?access_token=hunter2'),
      at: new Date(0),
      big: 10n,
      buffer: Buffer.from('password=hunter2'),
    };
    const { fields, text } = logged(hostile);
    expect(text).not.toContain('hunter2');
    expect(fields).toEqual({
      boom: '[Unreadable]',
      bad: '[Unreadable]',
      url: 'https://***@api.internal/v1?access_token=***',
      at: '1970-01-01T00:00:00.000Z',
      big: '10',
      buffer: '[Buffer of 16 bytes]',
    });
  });

  it('cuts a deep or huge object graph short instead of walking it all', () => {
    let deep: Record<string, unknown> = { secret: 'hunter2' };
    for (let i = 0; i < 50; i += 1) deep = { next: deep };
    const wide = Array.from({ length: 10_000 }, (_, i) => ({ i, pass: 'hunter2' }));
    const { text } = logged({ deep, wide });
    expect(text).not.toContain('hunter2');
    expect(text).toContain('[Truncated]');
  });

  it('keeps pino\'s calling convention: (obj, msg) with the logger as `this`, or (obj) alone', () => {
    const { logger, calls } = recorder();
    const wrapped = redactingLogger(logger);
    wrapped.info({ event: 'a' }, 'with message');
    wrapped.warn({ event: 'b' });
    wrapped.fatal({ event: 'c' }, 'fatal');
    expect(calls.map((c) => [c.level, c.self === logger, c.args.length])).toEqual([
      ['info', true, 2],
      ['warn', true, 1],
      ['fatal', true, 2],
    ]);
  });
});

describe('createJsonLogger()', () => {
  it('writes one JSON line even for a cyclic error, a BigInt and an AggregateError, with the cause chain', () => {
    const lines: string[] = [];
    const logger = createJsonLogger((line) => lines.push(line));
    const error: Error = new Error('outer', { cause: new AggregateError([new Error('first')], 'inner') });
    (error.cause as Error).cause = error;
    logger.error({ event: 'crash', error, count: 10n }, 'podkit crash');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('\n')).toBe(true);
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({ level: 'error', name: 'podkit', msg: 'podkit crash', event: 'crash', count: '10' });
    expect(line.error).toMatchObject({ type: 'Error', message: 'outer', cause: { type: 'AggregateError', message: 'inner', errors: [{ message: 'first' }], cause: '[Circular]' } });
  });
});
