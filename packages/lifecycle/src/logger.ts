/**
 * Logging: anything with pino's `info/warn/error/fatal(obj, msg)` shape works (pino itself, or a
 * child logger). The default writes one JSON object per line to stdout, which every log collector
 * in a cluster understands.
 *
 * Whichever logger it is, podkit hands it over wrapped in `redactingLogger` once, when the options
 * are resolved: every line podkit writes goes through the same redaction, and no call site can
 * forget it.
 */
import { isSecretKey, redactSecrets } from './redact.js';

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  fatal(obj: object, msg?: string): void;
}

type Level = 'info' | 'warn' | 'error' | 'fatal';
const LEVELS: readonly Level[] = ['info', 'warn', 'error', 'fatal'];

export function createJsonLogger(write: (line: string) => void = (line) => process.stdout.write(line)): Logger {
  const log = (level: Level) => (obj: object, msg?: string) => {
    // Plain and acyclic first: JSON.stringify would throw on a cycle (an error that is its own
    // cause) or a BigInt, and a logger that throws in the middle of a shutdown loses the exit line.
    const fields = toLogValue(obj, false);
    const rest = typeof fields === 'object' && fields !== null && !Array.isArray(fields) ? fields : { value: fields };
    write(`${JSON.stringify({ level, time: new Date().toISOString(), name: 'podkit', msg, ...rest })}\n`);
  };
  return { info: log('info'), warn: log('warn'), error: log('error'), fatal: log('fatal') };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {}, fatal() {} };

/**
 * Wraps a logger so that every line reaches it redacted: each string in the fields (nested objects,
 * arrays, errors with their `message`, `stack`, `cause` chain and AggregateError `errors`), the
 * value of every key that names a secret (`password`, `authorization`…), and `msg`. The fields are
 * copied, never changed: the caller's objects and errors stay as they were. It calls the logger's
 * own method with the logger as `this` and the `(obj, msg)` arguments pino expects.
 */
export function redactingLogger(logger: Logger): Logger {
  const wrap = (level: Level) => (obj: object, msg?: string) => {
    const fields = toLogValue(obj, true) as object;
    if (msg === undefined) logger[level](fields);
    else logger[level](fields, redactSecrets(String(msg)));
  };
  const wrapped = {} as Logger;
  for (const level of LEVELS) wrapped[level] = wrap(level);
  return wrapped;
}

/** Past these, a logged value is cut short: a log line is not the place for a whole socket's object graph. */
const MAX_DEPTH = 10;
const MAX_NODES = 2000;

/**
 * A plain, acyclic copy of a value for a log line, redacted when `redact` is set. Errors become
 * `{ type, message, code, …own fields, stack, cause, errors }` (the shape the default logger has
 * always written; pino prints such an object as it is, while it would print an Error under any key
 * but `err` as `{}`); objects with `toJSON` (Date, URL, Buffer) are logged as what it returns; a
 * cycle becomes '[Circular]'. Never throws: a getter or `toJSON` that throws is logged as '[Unreadable]'.
 */
export function toLogValue(value: unknown, redact: boolean): unknown {
  const ancestors: object[] = [];
  let nodes = 0;

  const text = (s: string, key: string): string => (redact ? (isSecretKey(key) ? '***' : redactSecrets(s)) : s);

  function copy(v: unknown, key: string, depth: number): unknown {
    if (typeof v === 'string') return text(v, key);
    if (redact && isSecretKey(key) && (typeof v === 'number' || typeof v === 'bigint')) return '***';
    if (typeof v === 'bigint') return v.toString();
    if (typeof v !== 'object' || v === null) return v;
    if (ancestors.includes(v)) return '[Circular]';
    if (depth >= MAX_DEPTH || (nodes += 1) > MAX_NODES) return '[Truncated]';
    ancestors.push(v);
    try {
      return copyObject(v, key, depth);
    } catch {
      return '[Unreadable]';
    } finally {
      ancestors.pop();
    }
  }

  function copyObject(v: object, key: string, depth: number): unknown {
    if (Array.isArray(v)) return v.map((item, i) => copy(item, String(i), depth + 1));
    if (ArrayBuffer.isView(v)) return `[${v.constructor.name} of ${v.byteLength} bytes]`;
    if (isError(v)) return copyError(v, depth);
    const { toJSON } = v as { toJSON?: unknown };
    if (typeof toJSON === 'function') {
      const json: unknown = toJSON.call(v, key);
      return json === v ? copyFields(v, depth, []) : copy(json, key, depth);
    }
    return copyFields(v, depth, []);
  }

  function copyFields(v: object, depth: number, skip: readonly string[]): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) {
      if (skip.includes(k)) continue;
      let field: unknown;
      try {
        field = (v as Record<string, unknown>)[k];
      } catch {
        field = '[Unreadable]';
      }
      out[k] = copy(field, k, depth + 1);
    }
    return out;
  }

  function copyError(error: Error, depth: number): Record<string, unknown> {
    const e = error as Error & { code?: unknown; cause?: unknown; errors?: unknown };
    const out: Record<string, unknown> = {
      type: text(String(read(() => e.name) ?? 'Error'), 'type'),
      message: text(String(read(() => e.message) ?? ''), 'message'),
    };
    const code = read(() => e.code);
    if (code !== undefined) out.code = copy(code, 'code', depth + 1);
    Object.assign(out, copyFields(e, depth, ['name', 'message', 'stack', 'code', 'cause', 'errors']));
    const stack = read(() => e.stack);
    if (typeof stack === 'string') out.stack = text(stack, 'stack');
    // `cause` and AggregateError's `errors` are own but not enumerable: Object.keys would miss them.
    if (Object.hasOwn(e, 'cause')) out.cause = copy(read(() => e.cause), 'cause', depth + 1);
    const errors = read(() => e.errors);
    if (Array.isArray(errors)) out.errors = copy(errors, 'errors', depth + 1);
    return out;
  }

  return copy(value, '', 0);
}

function isError(value: object): value is Error {
  // Errors from another realm (a vm context, a worker's structured clone) fail instanceof.
  return value instanceof Error || Object.prototype.toString.call(value) === '[object Error]';
}

function read<T>(get: () => T): T | undefined {
  try {
    return get();
  } catch {
    return undefined;
  }
}
