/**
 * Importing @podkit/lifecycle is paid by every service at start-up, HTTP/2 or not, diagnostics or
 * not: the modules only some services need (node:http2, node:inspector, node:v8) are loaded when
 * used, never by the import. Measured on top of `node:http`, which every service loads anyway (and
 * which itself loads node:http2 on Node 22 and later: there, the saving is node:inspector and node:v8).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ENTRY = fileURLToPath(new URL('../../packages/lifecycle/dist/index.js', import.meta.url));

describe('importing @podkit/lifecycle', () => {
  it('loads neither node:http2 nor node:inspector nor node:v8 beyond what node:http loads', () => {
    const script = `await import('node:http');
      const before = new Set(process.moduleLoadList);
      await import(${JSON.stringify(ENTRY)});
      const all = process.moduleLoadList;
      process.stdout.write(JSON.stringify({ all, added: all.filter((m) => !before.has(m)) }));`;
    const { all, added } = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as { all: string[]; added: string[] };
    // The list names built-in modules this way (podkit needs worker_threads for its probe thread).
    expect(all).toContain('NativeModule worker_threads');
    for (const name of ['http2', 'inspector', 'inspector/promises', 'v8']) expect(added).not.toContain(`NativeModule ${name}`);
  });
});
