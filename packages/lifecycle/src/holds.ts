/**
 * Holds: background work (a queue consumer finishing its batch) that the shutdown waits for,
 * before the hooks. Names may repeat; they only label the "waiting for" log line.
 */
import { InvalidOptionError } from './errors.js';
import type { Logger } from './logger.js';

export interface Holds {
  hold(name: string): () => void;
  /** Resolves once every hold is released (at once when there is none). */
  released(): Promise<void>;
  /** The names of the holds not released yet, oldest first. */
  open(): string[];
}

export function createHolds(logger: Logger): Holds {
  const holds = new Map<symbol, string>();
  const waiters: Array<() => void> = [];
  return {
    hold(name) {
      if (typeof name !== 'string' || name.trim() === '') throw new InvalidOptionError('hold name', name, 'a non-empty string');
      const key = Symbol(name);
      holds.set(key, name);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        holds.delete(key);
        if (holds.size === 0) for (const resolve of waiters.splice(0)) resolve();
      };
    },
    open() {
      return [...holds.values()];
    },
    released() {
      if (holds.size === 0) return Promise.resolve();
      logger.info({ event: 'holds', holds: [...holds.values()] }, 'waiting for background work');
      return new Promise((resolve) => waiters.push(resolve));
    },
  };
}
