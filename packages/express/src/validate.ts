import { InvalidOptionError, type Lifecycle } from '@podkit/lifecycle';

/** Programmer errors throw at construction, naming what was received. */
export function assertLifecycle(where: string, value: unknown): asserts value is Lifecycle {
  const candidate = value as Partial<Lifecycle> | null | undefined;
  if (typeof candidate !== 'object' || candidate === null || typeof candidate.track !== 'function' || typeof candidate.answerProbe !== 'function') {
    throw new InvalidOptionError(where, value, 'a lifecycle from createLifecycle() of @podkit/lifecycle');
  }
}
