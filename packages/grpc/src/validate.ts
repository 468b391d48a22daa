/**
 * Option checks for this package: programmer errors throw `InvalidOptionError` at the call, naming
 * the option, the value received and what is allowed, as the core's do.
 */
import { InvalidOptionError, type Lifecycle } from '@podkit/lifecycle';

/** setTimeout's ceiling; a larger value would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

export function assertLifecycle(where: string, value: unknown): asserts value is Lifecycle {
  const candidate = value as Partial<Lifecycle> | null | undefined;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.on !== 'function' ||
    typeof candidate.hold !== 'function' ||
    typeof candidate.warmup !== 'function' ||
    typeof candidate.answerProbe !== 'function'
  ) {
    throw new InvalidOptionError(where, value, 'a lifecycle from createLifecycle() of @podkit/lifecycle');
  }
}

export function plainObject(name: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidOptionError(name, value, 'an object');
  return value as Record<string, unknown>;
}

export function knownKeys(name: string, value: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw new InvalidOptionError(`${name}.${key}`, value[key], `no such option (known: ${allowed.join(', ')})`);
  }
}

export function durationMs(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_TIMER_MS) {
    throw new InvalidOptionError(name, value, `an integer number of milliseconds from 1 to ${MAX_TIMER_MS}`);
  }
  return value;
}

export function bool(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidOptionError(name, value, 'true or false');
  return value;
}

export function string(name: string, value: unknown, fallback: string, { allowEmpty = true } = {}): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || (!allowEmpty && value.trim() === '')) {
    throw new InvalidOptionError(name, value, allowEmpty ? 'a string' : 'a non-empty string');
  }
  return value;
}

export function stringList(name: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new InvalidOptionError(name, value, 'an array of strings');
  return [...(value as string[])];
}
