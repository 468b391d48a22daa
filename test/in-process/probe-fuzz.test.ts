/**
 * The probe listener fuzzed over real sockets: random request lines (methods in any case, garbage,
 * very long ones), header sets, absolute-form and malformed targets, huge query strings, HTTP/1.0,
 * missing Host, pipelined garbage, bytes split across writes. Every connection must end, every
 * response must start with a valid status line, nothing may crash, and /livez answers 200 after.
 *
 * Seeded, so a failure reproduces: the seed is printed, and PODKIT_FUZZ_SEED=<seed> replays it.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { get } from '../support/http.js';
import { stopAll, testLifecycle } from './helpers.js';

afterEach(stopAll);

/** mulberry32: small, fast, and the same sequence for the same seed on every platform. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const bytes = (n: number) => Array.from({ length: n }, () => String.fromCharCode(int(256))).join('');
  return { next, int, pick, bytes, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof prng>;

const KIB = 1024;

function method(r: Rng): string {
  return r.pick([
    'GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PATCH', 'PROPFIND', 'PURGE', 'CONNECT',
    'get', 'head', 'gEt', 'FOO', 'G ET', 'GET\t', '', 'A'.repeat(r.int(20 * KIB)), r.bytes(1 + r.int(16)), 'PRI',
  ]);
}

function target(r: Rng): string {
  const path = r.pick(['/livez', '/readyz', '/startupz', '/metrics', '/readyz/db', '/readyz/nope', '/', '/LIVEZ', '/livez/', '//livez', '/readyz/%zz', '/readyz/%00', '/readyz/..%2f..%2f', `/readyz/${'a'.repeat(r.int(12 * KIB))}`]);
  const query = r.pick([
    '',
    '?verbose',
    '?verbose=0',
    '?exclude=db',
    `?${'exclude=db&'.repeat(r.int(2000))}verbose`,
    `?exclude=${'%zz'.repeat(r.int(500))}`,
    `?${'x'.repeat(r.int(100 * KIB))}`,
    '?%',
    '?&&&=&=',
    `?${r.bytes(r.int(64))}`,
    '#frag',
  ]);
  const form = r.int(14);
  if (form === 0) return `http://probe.example${path}${query}`; // absolute-form
  if (form === 1) return `HTTP://x:9000${path}${query}`;
  if (form === 2) return '*';
  if (form === 3) return 'probe.example:9000'; // authority-form
  if (form === 4) return r.bytes(r.int(32));
  return `${path}${query}`;
}

function headers(r: Rng, eol: string): string {
  const lines: string[] = [];
  if (r.chance(0.75)) lines.push('Host: probe');
  if (r.chance(0.1)) lines.push('Host: a', 'Host: b');
  if (r.chance(0.4)) lines.push(`Accept: ${r.pick(['application/json', 'application/health+json', 'text/plain', '*/*', '', r.bytes(8)])}`);
  if (r.chance(0.1)) lines.push('Connection: keep-alive');
  if (r.chance(0.1)) lines.push('Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13');
  if (r.chance(0.1)) lines.push('Expect: 100-continue');
  if (r.chance(0.1)) lines.push(`Content-Length: ${r.pick(['5', '0', '-1', 'abc', '99999999999999999999'])}`);
  if (r.chance(0.1)) lines.push('Transfer-Encoding: chunked');
  if (r.chance(0.05)) lines.push('Transfer-Encoding: chunked', 'Content-Length: 3'); // a smuggling attempt
  if (r.chance(0.05)) lines.push(`X-Big: ${'b'.repeat(r.int(16 * KIB))}`);
  if (r.chance(0.05)) for (let i = 0; i < r.int(500); i += 1) lines.push(`X-H${i}: ${i}`);
  if (r.chance(0.05)) lines.push('no colon here');
  if (r.chance(0.05)) lines.push('X-Folded: a', ' continued');
  if (r.chance(0.05)) lines.push(`X-Raw: ${r.bytes(r.int(40))}`);
  return lines.map((l) => `${l}${eol}`).join('');
}

/** One request as a client might send it: half of them well-formed (so the answers get exercised too), the rest anything. */
function request(r: Rng): string {
  if (r.chance(0.5)) {
    const accept = r.pick(['', 'Accept: application/json\r\n', 'Accept: application/health+json\r\n']);
    const host = r.chance(0.9) ? 'Host: probe\r\n' : '';
    return `${r.pick(['GET', 'GET', 'HEAD', 'POST', 'OPTIONS'])} ${target(r)} ${r.pick(['HTTP/1.1', 'HTTP/1.0'])}\r\n${host}${accept}\r\n`;
  }
  const eol = r.pick(['\r\n', '\r\n', '\r\n', '\n', '\r']);
  const version = r.pick(['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/0.9', 'http/1.1', 'HTTP/1.1 extra', '', 'HTTP/9.9']);
  const line = version === '' ? `${method(r)} ${target(r)}` : `${method(r)} ${target(r)} ${version}`;
  const body = r.chance(0.15) ? r.pick(['hello', '5\r\nhello\r\n0\r\n\r\n', 'zz\r\n', r.bytes(r.int(200))]) : '';
  return `${line}${eol}${headers(r, eol)}${eol}${body}`;
}

/** What goes down one connection: one request, several pipelined (with garbage among them), or pure garbage. */
function payload(r: Rng): string {
  const kind = r.int(10);
  if (kind < 6) return request(r);
  if (kind < 9) return Array.from({ length: 2 + r.int(4) }, () => (r.chance(0.3) ? r.bytes(r.int(64)) : request(r))).join('');
  return r.chance(0.5) ? r.bytes(1 + r.int(2 * KIB)) : 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';
}

interface Outcome {
  sent: string;
  received: string;
  ended: boolean;
  error?: string;
  ms: number;
}

/** Sends the payload in random chunks, optionally half-closes, and collects everything until the server closes. */
function exchange(port: number, r: Rng, sent: string, hangMs: number): Promise<Outcome> {
  const chunks: string[] = [];
  for (let at = 0; at < sent.length; ) {
    const size = r.chance(0.7) ? sent.length - at : 1 + r.int(Math.max(1, sent.length - at));
    chunks.push(sent.slice(at, at + size));
    at += size;
  }
  const halfClose = r.chance(0.5);
  const gapMs = r.chance(0.2) ? r.int(30) : 0;
  return new Promise((resolve) => {
    const begun = performance.now();
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let error: string | undefined;
    socket.setEncoding('latin1');
    socket.on('data', (data: string) => (received += data));
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    const hang = setTimeout(() => {
      socket.destroy();
      resolve({ sent, received, ended: false, ms: performance.now() - begun, ...(error ? { error } : {}) });
    }, hangMs);
    socket.once('close', () => {
      clearTimeout(hang);
      resolve({ sent, received, ended: true, ms: performance.now() - begun, ...(error ? { error } : {}) });
    });
    socket.once('connect', async () => {
      for (const chunk of chunks) {
        if (socket.destroyed) return;
        socket.write(chunk, 'latin1');
        if (gapMs) await new Promise((done) => setTimeout(done, gapMs));
      }
      if (halfClose && !socket.destroyed) socket.end();
    });
  });
}

const STATUS_LINE = /^HTTP\/1\.[01] ([1-5]\d\d) [^\r\n]*\r\n/;

/** Every response in the bytes received starts with a valid status line and a complete header block; returns their statuses. */
function responses(received: string): number[] {
  const statuses: number[] = [];
  let rest = received;
  while (rest.length > 0) {
    const status = STATUS_LINE.exec(rest);
    if (!status) throw new Error(`not a status line: ${JSON.stringify(rest.slice(0, 80))}`);
    const end = rest.indexOf('\r\n\r\n');
    if (end === -1) throw new Error(`headers never end: ${JSON.stringify(rest.slice(0, 200))}`);
    statuses.push(Number(status[1]));
    const head = rest.slice(0, end);
    rest = rest.slice(end + 4);
    if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
      rest = skipChunkedBody(rest);
      continue;
    }
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    // A HEAD answer announces a length it does not send: then the next response starts at once.
    if (!rest.startsWith('HTTP/1.')) rest = rest.slice(length);
  }
  return statuses;
}

/** Node's own answers (400 to an HTTP/1.1 request without Host) come chunked. */
function skipChunkedBody(text: string): string {
  let rest = text;
  for (;;) {
    const line = /^([0-9a-fA-F]+)[^\r\n]*\r\n/.exec(rest);
    if (!line) throw new Error(`bad chunk: ${JSON.stringify(rest.slice(0, 80))}`);
    const size = parseInt(line[1]!, 16);
    rest = rest.slice(line[0].length);
    if (size === 0) {
      if (!rest.startsWith('\r\n')) throw new Error(`bad last chunk: ${JSON.stringify(rest.slice(0, 80))}`);
      return rest.slice(2);
    }
    rest = rest.slice(size + 2);
  }
}

const show = (text: string) => JSON.stringify(text.length > 300 ? `${text.slice(0, 300)}…(${text.length} bytes)` : text);

describe('the probe listener, fuzzed', () => {
  it('ends every connection, answers each with a valid status line, never crashes, and serves /livez right after', async () => {
    const seed = Number(process.env.PODKIT_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`[fuzz] seed ${seed} (replay with PODKIT_FUZZ_SEED=${seed})`);
    const r = prng(seed);
    const t = testLifecycle({ probes: { metrics: true, headersTimeoutMs: 300, requestTimeoutMs: 600 } });
    t.lifecycle.check('db', () => r.chance(0.5), { intervalMs: 20 });
    await t.lifecycle.start();
    const port = t.probePort();

    const outcomes: Outcome[] = [];
    const deadline = performance.now() + 4000;
    const MAX_CASES = 600;
    const PARALLEL = 8;
    let sent = 0;
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (sent < MAX_CASES && performance.now() < deadline) {
          sent += 1;
          outcomes.push(await exchange(port, r, payload(r), 5000));
        }
      }),
    );

    const problems: string[] = [];
    const statuses = new Map<number, number>();
    for (const o of outcomes) {
      if (!o.ended) problems.push(`hung for ${Math.round(o.ms)} ms: sent ${show(o.sent)}, received ${show(o.received)}`);
      // Every payload holds at least the start of a request, so every connection gets a status:
      // an answer, 400, 408 or 431, never a silent close.
      if (o.received === '') problems.push(`closed without a response${o.error ? ` (${o.error})` : ''}: sent ${show(o.sent)}`);
      try {
        for (const status of responses(o.received)) statuses.set(status, (statuses.get(status) ?? 0) + 1);
      } catch (error) {
        problems.push(`${(error as Error).message}; sent ${show(o.sent)}`);
      }
    }
    console.log(`[fuzz] ${outcomes.length} connections; statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(problems, `seed ${seed}`).toEqual([]);
    expect(outcomes.length).toBeGreaterThan(50);
    expect((await get(port, '/livez')).status).toBe(200);
    expect(t.lifecycle.state).toBe('ready');
    expect(t.logs.filter((l) => l.level === 'error' || l.level === 'fatal')).toEqual([]);
  });
});
