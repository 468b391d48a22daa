/**
 * The lifecycle's typed events: one emitter, one place where a throwing listener is caught and
 * logged (a listener's bug must never stop a shutdown).
 */
import type { CheckEvent } from './checks/runner.js';
import { InvalidOptionError } from './errors.js';
import type { ExitKind } from './exit.js';
import type { Logger } from './logger.js';
import type { LifecycleState } from './state.js';

export interface StateChange {
  from: LifecycleState;
  to: LifecycleState;
  reason: string;
}

export interface StepEvent {
  name: string;
  ok: boolean;
  durationMs: number;
  error?: unknown;
  /** Warmups only: `false` for an optional warmup, whose failure the service became ready without. */
  required?: boolean;
}

export interface ExitEvent {
  code: number;
  kind: ExitKind;
  reason: string;
}

export interface LifecycleEvents {
  state: StateChange;
  check: CheckEvent;
  warmup: StepEvent;
  hook: StepEvent;
  exit: ExitEvent;
}

export type Emit = <E extends keyof LifecycleEvents>(event: E, payload: LifecycleEvents[E]) => void;
export type On = <E extends keyof LifecycleEvents>(event: E, listener: (payload: LifecycleEvents[E]) => void) => () => void;

const EVENT_NAMES: readonly (keyof LifecycleEvents)[] = ['state', 'check', 'warmup', 'hook', 'exit'];

export function createEmitter(logger: Logger): { emit: Emit; on: On } {
  const listeners = new Map<keyof LifecycleEvents, Set<(payload: never) => void>>();
  const emit: Emit = (event, payload) => {
    for (const listener of listeners.get(event) ?? []) {
      try {
        (listener as (p: typeof payload) => void)(payload);
      } catch (error) {
        logger.error({ event, error }, `a "${event}" listener threw`);
      }
    }
  };
  const on: On = (event, listener) => {
    // A misspelt event name would otherwise subscribe to nothing, silently.
    if (!EVENT_NAMES.includes(event)) throw new InvalidOptionError('on(event)', event, `one of ${EVENT_NAMES.join(', ')}`);
    if (typeof listener !== 'function') throw new InvalidOptionError(`on("${event}", listener)`, listener, 'a function');
    let set = listeners.get(event);
    if (!set) listeners.set(event, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  };
  return { emit, on };
}
