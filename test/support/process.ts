/**
 * Forked fixture services: real child processes that receive real signals. A fixture prints JSON
 * lines on stdout (podkit's logs plus its own `{"fixture":"listening",…}` lines); this helper
 * collects them so a test can wait for one and assert on the order they came in.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export type LogLine = Record<string, unknown> & { at: number };

export interface Fixture {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Every JSON line printed so far, with the time (performance.now() in the test) it arrived. */
  readonly lines: LogLine[];
  /** Non-JSON output (stderr and stray stdout), for failure messages. */
  readonly text: string[];
  /** Resolves with the first line (already seen or future) matching `match`. */
  waitForLine(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Resolves when the process exits. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  kill(signal?: NodeJS.Signals): void;
}

const TSX = fileURLToPath(import.meta.resolve('tsx'));

/** Runs a .ts fixture with tsx. `env` is added to the test's environment. */
export function spawnFixture(file: string | URL, env: Record<string, string | undefined> = {}, args: string[] = []): Fixture {
  const path = file instanceof URL ? fileURLToPath(file) : file;
  return follow(spawn(process.execPath, ['--import', TSX, path, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
}

/**
 * Runs a JavaScript program with plain Node, no loader: module resolution exactly as a user's
 * `node main.js` does it. Same Node as the test (process.execPath).
 */
export function spawnNode(file: string, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Fixture {
  return follow(spawn(process.execPath, [file], { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] }));
}

function follow(child: ChildProcess): Fixture {
  const lines: LogLine[] = [];
  const text: string[] = [];
  const waiters = new Set<{ match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }>();
  const onLine = (raw: string) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      text.push(raw);
      return;
    }
    if (typeof parsed !== 'object' || parsed === null) {
      text.push(raw);
      return;
    }
    const line = { ...(parsed as Record<string, unknown>), at: performance.now() };
    lines.push(line);
    for (const waiter of waiters) {
      if (waiter.match(line)) {
        waiters.delete(waiter);
        waiter.resolve(line);
      }
    }
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', (raw) => text.push(raw));

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() }));
  });

  return {
    child,
    pid: child.pid!,
    lines,
    text,
    exited,
    waitForLine(match, timeoutMs = 15_000) {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = { match, resolve: (line: LogLine) => (clearTimeout(timer), resolve(line)) };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching line within ${timeoutMs} ms; output so far:\n${[...lines.map((l) => JSON.stringify(l)), ...text].join('\n')}`));
        }, timeoutMs);
        waiters.add(waiter);
        void exited.then(() => {
          if (waiters.delete(waiter)) {
            clearTimeout(timer);
            reject(new Error(`process exited before a matching line; output:\n${[...lines.map((l) => JSON.stringify(l)), ...text].join('\n')}`));
          }
        });
      });
    },
    kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** Kills every fixture still running (afterEach). */
export async function cleanup(fixtures: Fixture[]): Promise<void> {
  await Promise.all(
    fixtures.splice(0).map(async (f) => {
      f.kill('SIGKILL');
      await f.exited;
    }),
  );
}
