/**
 * The adapter plumbing of each lifecycle, kept off its public object: `@podkit/lifecycle/adapter`
 * reaches it through the lifecycle it is given. A WeakMap, so nothing outlives its lifecycle.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidOptionError } from './errors.js';
import type { LongLivedCounts, LongLivedKind, LongLivedOutcome } from './long-lived/outcomes.js';
import type { AttachedApp } from './parts.js';

export interface Plumbing {
  track(req: IncomingMessage, res: ServerResponse): void;
  attach(app: object, attached: AttachedApp): void;
  /** Long-lived connections open now (counted on each call), for the OpenTelemetry export. */
  longLivedOpen(): LongLivedCounts;
  /** Long-lived connections closed at shutdown, by kind and outcome. */
  longLivedClosed(kind: LongLivedKind, outcome: LongLivedOutcome): number;
}

const plumbings = new WeakMap<object, Plumbing>();

export function registerPlumbing(lifecycle: object, plumbing: Plumbing): void {
  plumbings.set(lifecycle, plumbing);
}

/** The plumbing of a lifecycle from createLifecycle(); anything else is a programmer error. */
export function plumbingOf(lifecycle: unknown, where: string): Plumbing {
  const plumbing = typeof lifecycle === 'object' && lifecycle !== null ? plumbings.get(lifecycle) : undefined;
  if (!plumbing) throw new InvalidOptionError(where, lifecycle, 'a lifecycle from createLifecycle() of @podkit/lifecycle');
  return plumbing;
}
