/**
 * Logging: anything with pino's `info/warn/error/fatal(obj, msg)` shape works (pino itself, or a
 * child logger). The default writes one JSON object per line to stdout, which every log collector
 * in a cluster understands.
 */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  fatal(obj: object, msg?: string): void;
}

type Level = 'info' | 'warn' | 'error' | 'fatal';

export function createJsonLogger(write: (line: string) => void = (line) => process.stdout.write(line)): Logger {
  const log = (level: Level) => (obj: object, msg?: string) => {
    write(`${JSON.stringify({ level, time: new Date().toISOString(), name: 'podkit', msg, ...obj }, errorReplacer)}\n`);
  };
  return { info: log('info'), warn: log('warn'), error: log('error'), fatal: log('fatal') };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {}, fatal() {} };

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const { code } = value as { code?: unknown };
    return { type: value.name, message: value.message, ...(code === undefined ? {} : { code }), stack: value.stack };
  }
  return value;
}
