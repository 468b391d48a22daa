/**
 * In-process test support: lifecycles with a real probe listener on a free loopback port, that
 * never exit the test process and log into an array, plus their cleanup.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLifecycle, type Lifecycle, type LifecycleEvents, type LifecycleOptions, type Logger, type ProbeThread } from '@podkit/lifecycle';

export type Level = 'info' | 'warn' | 'error' | 'fatal';

export interface LogEntry {
  level: Level;
  obj: Record<string, unknown>;
  msg: string | undefined;
}

/** A logger with pino's `level(obj, msg)` shape that keeps every line. */
export function captureLogger(): { logger: Logger; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at = (level: Level) => (obj: object, msg?: string) => {
    entries.push({ level, obj: { ...(obj as Record<string, unknown>) }, msg });
  };
  return { logger: { info: at('info'), warn: at('warn'), error: at('error'), fatal: at('fatal') }, entries };
}

export interface TestLifecycle {
  lifecycle: Lifecycle;
  logs: LogEntry[];
  /** Every `exit(code, reason)` call podkit made. */
  exits: Array<{ code: number; reason: string }>;
  /** The probe port, once started. */
  probePort(): number;
}

const open: Lifecycle[] = [];
const servers: Server[] = [];

/**
 * A lifecycle for in-process tests: probes on 127.0.0.1 port 0, `exit` captured (never
 * `process.exit`), logs captured, crash handlers off (the test runner owns those), no drain delay.
 * `probes` given here are merged into those defaults.
 */
export function testLifecycle(options: LifecycleOptions = {}): TestLifecycle {
  const { logger, entries } = captureLogger();
  const exits: Array<{ code: number; reason: string }> = [];
  const probes = options.probes === false ? false : { port: 0, host: '127.0.0.1', ...(options.probes ?? {}) };
  const lifecycle = createLifecycle({
    drainDelayMs: 0,
    shutdownTimeoutMs: 10_000,
    handleCrashes: false,
    terminationMessagePath: false,
    logger,
    exit: (code, reason) => {
      exits.push({ code, reason });
    },
    ...options,
    probes,
  });
  open.push(lifecycle);
  return {
    lifecycle,
    logs: entries,
    exits,
    probePort() {
      const address = lifecycle.probeAddress;
      if (!address) throw new Error('the probe listener is not listening');
      return address.port;
    },
  };
}

/** Where the probe listener can run: every probe test runs in both. */
export const PROBE_THREADS: readonly ProbeThread[] = ['worker', 'main'];

/** `testLifecycle` with the probe listener in `thread` (unless a test's own options choose). */
export function inThread(thread: ProbeThread): typeof testLifecycle {
  return (options = {}) => testLifecycle(options.probes === false ? options : { ...options, probes: { thread, ...options.probes } });
}

/** A plain node:http server answering "hello", not listening yet; closed after the test. */
export function helloServer(): Server {
  const server = createServer((_req, res) => res.end('hello'));
  servers.push(server);
  return server;
}

export function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

/** afterEach: stops every lifecycle a test created (started or not) and closes stray servers. */
export async function stopAll(): Promise<void> {
  await Promise.all(open.splice(0).map((lifecycle) => (lifecycle.state === 'starting' ? undefined : lifecycle.stop('test over'))));
  for (const server of servers.splice(0)) {
    if (server.listening) server.close();
    server.closeAllConnections();
  }
}

/** Resolves with the next `event` payload matching `match`. */
export function nextEvent<E extends keyof LifecycleEvents>(
  lifecycle: Lifecycle,
  event: E,
  match: (payload: LifecycleEvents[E]) => boolean = () => true,
  timeoutMs = 5000,
): Promise<LifecycleEvents[E]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching "${event}" event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = lifecycle.on(event, (payload) => {
      if (match(payload)) {
        clearTimeout(timer);
        off();
        resolve(payload);
      }
    });
  });
}
