import { assertLifecycle as assertCoreLifecycle } from '@podkit/lifecycle/adapter';
import type { Lifecycle } from '@podkit/lifecycle';

/** Programmer errors throw at construction, naming what was received. */
export function assertLifecycle(where: string, value: unknown): asserts value is Lifecycle {
  assertCoreLifecycle(value, where);
}
