/**
 * No secret leaves a real process through podkit: a forked service with the default JSON logger
 * fails in every way that carries a secret (warmup, crash, unhandled rejection, check, hook), and
 * every byte it wrote to stdout and stderr, and its termination message, is searched for it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnFixture, type Fixture } from '../support/process.js';
import { createTracker, isExit, output } from './helpers.js';

const SECRET_SERVICE = new URL('../fixtures/secret-service.ts', import.meta.url);
const SECRET = 'hunter2';

const t = createTracker();
const fixtures: Fixture[] = [];
afterEach(async () => {
  for (const f of fixtures.splice(0)) f.kill('SIGKILL');
  await t.cleanup();
});

/** Forks the service and keeps every byte it writes, from the first one. */
function spawn(scenario: string, messagePath: string): { f: Fixture; all: () => string } {
  const f = spawnFixture(SECRET_SERVICE, { SCENARIO: scenario, TERMINATION_MESSAGE_PATH: messagePath });
  fixtures.push(f);
  const chunks: Buffer[] = [];
  f.child.stdout!.on('data', (chunk: Buffer) => chunks.push(chunk));
  f.child.stderr!.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { f, all: () => Buffer.concat(chunks).toString() };
}

describe('a secret in a failure never reaches the output of the process', () => {
  it.each([
    { scenario: 'warmup', code: 75, line: 'state', text: 'warmup "postgres" failed: connect failed: postgres://***@db.internal:5432/app (DB_PASS=***, host=db)' },
    { scenario: 'crash', code: 70, line: 'crash', text: 'request handler blew up: postgres://***@db.internal:5432/app (DB_PASS=***, host=db)' },
    { scenario: 'rejection', code: 70, line: 'crash', text: 'background job failed: postgres://***@db.internal:5432/app (DB_PASS=***, host=db)' },
    { scenario: 'check', code: 0, line: 'check', text: 'query failed: postgres://***@db.internal:5432/app (DB_PASS=***, host=db)' },
    { scenario: 'hook', code: 0, line: 'hook', text: 'pool.end() failed: postgres://***@db.internal:5432/app (DB_PASS=***, host=db)' },
  ])('$scenario: the $line line says what failed, the exit code is right, and "hunter2" appears nowhere', async ({ scenario, code, line, text }) => {
    const messagePath = join(t.tempDir(), 'termination-log');
    const { f, all } = spawn(scenario, messagePath);
    if (scenario === 'check') {
      await f.waitForLine((l) => l.check === 'postgres' && l.to === 'failing');
      f.kill('SIGTERM');
    } else if (scenario === 'hook') {
      await f.waitForLine((l) => l.fixture === 'listening');
      f.kill('SIGTERM');
    }
    const exit = await f.exited;
    expect(exit.code, output(f)).toBe(code);

    // The lines are there, and say what went wrong: the redaction removed the secret, not the news.
    expect(JSON.stringify(f.lines)).toContain(JSON.stringify(text).slice(1, -1));
    expect(f.lines.find(isExit), output(f)).toBeDefined();
    if (line === 'crash') {
      const crash = f.lines.find((l) => l.event === 'crash');
      const error = crash?.error as Record<string, unknown> | undefined;
      expect(error?.message).toBe(text);
      expect(String(error?.stack)).toContain(text);
      // The whole cause chain is logged, redacted: the Authorization header, then the AggregateError and its errors.
      expect(error?.cause).toMatchObject({
        message: 'retried with Authorization: Bearer ***',
        cause: { type: 'AggregateError', message: 'both hosts refused passphrase=***', errors: [{ message: 'token=***' }, { message: '{"password":"***"}' }] },
      });
    }

    const everything = all();
    expect(everything.length).toBeGreaterThan(200);
    expect(everything).not.toContain(SECRET);
    if (code !== 0) {
      expect(readFileSync(messagePath, 'utf8')).not.toContain(SECRET);
    } else {
      expect(existsSync(messagePath)).toBe(false);
    }
  });
});
