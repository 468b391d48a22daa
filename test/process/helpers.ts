/**
 * Shared pieces of the process tests: start the basic-service fixture and wait until it is ready,
 * find log lines and their order, a keep-alive/HTTPS-capable client, temp files.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { cleanup, spawnFixture, type Fixture, type LogLine } from '../support/process.js';

export const BASIC_SERVICE = new URL('../fixtures/basic-service.ts', import.meta.url);

export interface Service {
  f: Fixture;
  mainPort: number;
  probePort: number;
}

/** Every fixture and temp dir a test made, cleaned up in afterEach. */
export function createTracker() {
  const fixtures: Fixture[] = [];
  const dirs: string[] = [];
  function spawn(env: Record<string, string | undefined> = {}): Fixture {
    const f = spawnFixture(BASIC_SERVICE, env);
    fixtures.push(f);
    return f;
  }
  /** Spawns the basic service and waits until it is ready (its `listening` line). */
  async function start(env: Record<string, string | undefined> = {}): Promise<Service> {
    const f = spawn(env);
    const line = await f.waitForLine((l) => l.fixture === 'listening');
    return { f, mainPort: line.mainPort as number, probePort: line.probePort as number };
  }
  function tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'podkit-process-'));
    dirs.push(dir);
    return dir;
  }
  async function cleanupAll(): Promise<void> {
    await cleanup(fixtures);
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
  return { spawn, start, tempDir, cleanup: cleanupAll };
}

/** Index of the first line matching, -1 if none. */
export function indexOf(lines: readonly LogLine[], match: (l: LogLine) => boolean): number {
  return lines.findIndex(match);
}

/** Index of the last line matching, -1 if none. */
export function lastIndexOf(lines: readonly LogLine[], match: (l: LogLine) => boolean): number {
  for (let i = lines.length - 1; i >= 0; i -= 1) if (match(lines[i]!)) return i;
  return -1;
}

export const isState = (to: string) => (l: LogLine) => l.event === 'state' && l.to === to;
export const isExit = (l: LogLine) => l.event === 'exit';
export const isFixture = (kind: string) => (l: LogLine) => l.fixture === kind;

/** The `to` of every state line, in order. */
export function states(lines: readonly LogLine[]): string[] {
  return lines.filter((l) => l.event === 'state').map((l) => l.to as string);
}

/** Output of a fixture, for assertion messages. */
export function output(f: Fixture): string {
  return [...f.lines.map((l) => JSON.stringify(l)), ...f.text].join('\n');
}

export interface ClientResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** performance.now() when the whole body had arrived. */
  at: number;
  /** The socket it came over (to see whether the server closed it). */
  socket: Socket;
}

export interface ClientOptions {
  agent?: HttpAgent | HttpsAgent | false;
  /** Speak HTTPS, trusting this certificate (PEM). */
  ca?: string | Buffer;
  timeoutMs?: number;
}

/** One GET over HTTP or HTTPS, optionally through a keep-alive agent. Rejects on reset, refusal or timeout. */
export function fetchOnce(port: number, path = '/', options: ClientOptions = {}): Promise<ClientResponse> {
  const request = options.ca ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'GET', agent: options.agent ?? false, ...(options.ca ? { ca: options.ca } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        const socket = res.socket;
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString(), at: performance.now(), socket }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(options.timeoutMs ?? 15_000, () => req.destroy(Object.assign(new Error('client timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end();
  });
}

/** Resolves when the socket is closed (by either side), with the time it happened. */
export function closed(socket: Socket): Promise<number> {
  if (socket.destroyed) return Promise.resolve(performance.now());
  return new Promise((resolve) => socket.once('close', () => resolve(performance.now())));
}

/** Rounds a duration for the measurement lines the lead quotes. */
export const ms = (value: number) => `${Math.round(value)} ms`;
