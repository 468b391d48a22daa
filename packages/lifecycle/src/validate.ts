/**
 * The validators the core, the dependency helpers and the adapters share. Each names the option,
 * the value received and what is allowed, and throws `InvalidOptionError` at construction.
 */
import { InvalidOptionError } from './errors.js';

export const MAX_TIMER_MS = 2_147_483_647; // setTimeout's ceiling; a larger value would fire at once.

export function plainObject(name: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidOptionError(name, value, 'an object');
  return value as Record<string, unknown>;
}

export function knownKeys(name: string, value: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      const where = name ? `${name}.${key}` : key;
      throw new InvalidOptionError(where, value[key], `no such option (known: ${allowed.join(', ')})`);
    }
  }
}

export function durationMs(name: string, value: unknown, fallback: number, { min = 0 } = {}): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_TIMER_MS) {
    throw new InvalidOptionError(name, value, `an integer number of milliseconds from ${min} to ${MAX_TIMER_MS}`);
  }
  return value;
}

export function positiveInteger(name: string, value: unknown, fallback: number, max = 1_000_000): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidOptionError(name, value, `an integer from 1 to ${max}`);
  }
  return value;
}

export function bool(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidOptionError(name, value, 'true or false');
  return value;
}

export function port(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535) {
    throw new InvalidOptionError(name, value, 'an integer port from 1 to 65535 (or 0 for any free port)');
  }
  return value;
}

/** The largest value an exit status can carry: the kernel keeps its low 8 bits. */
export const MAX_EXIT_CODE = 255;

export function exitCode(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_EXIT_CODE) {
    throw new InvalidOptionError(name, value, `an integer exit code from 0 to ${MAX_EXIT_CODE}`);
  }
  return value;
}

/** A check, warmup or hook name: non-empty, no spaces or slashes (it becomes a path: `/readyz/<name>`). */
export function assertName(kind: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.trim() === '' || /[\s/]/.test(name)) {
    throw new InvalidOptionError(`${kind} name`, name, 'a non-empty name without spaces or slashes');
  }
}

export function assertFunction(kind: string, fn: unknown): void {
  if (typeof fn !== 'function') throw new InvalidOptionError(kind, fn, 'a function');
}
