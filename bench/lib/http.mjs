/** A client that reports what it saw (status or error code) and how long it took; it never throws. */
import { request as httpRequest } from 'node:http';

/**
 * One request. Resolves with { ok, status, error, startedAt, endedAt, ms, headers }.
 * `agent: false` (the default) opens a fresh connection, as the kubelet does for every probe.
 */
export function hit(port, path = '/', { agent = false, timeoutMs = 5000, method = 'GET', host = '127.0.0.1' } = {}) {
  return new Promise((resolve) => {
    const startedAt = performance.now();
    let settled = false;
    const done = (result) => {
      if (settled) return;
      settled = true;
      const endedAt = performance.now();
      resolve({ ...result, startedAt, endedAt, ms: endedAt - startedAt });
    };
    const req = httpRequest({ host, port, path, method, agent }, (res) => {
      res.on('data', () => {});
      res.on('end', () => done({ ok: res.statusCode >= 200 && res.statusCode < 400, status: res.statusCode, headers: res.headers }));
      res.on('error', (error) => done({ ok: false, status: res.statusCode, error: error.code ?? error.message }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('client timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (error) => done({ ok: false, status: 0, error: error.code ?? error.message }));
    req.end();
  });
}

/** Polls `port path` until it answers `status` (default: any 2xx) or `timeoutMs` passes; resolves with the time or undefined. */
export async function waitForStatus(port, path, { status, timeoutMs = 10_000, intervalMs = 5 } = {}) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const r = await hit(port, path, { timeoutMs: 1000 });
    if (status === undefined ? r.ok : r.status === status) return r.endedAt;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return undefined;
}
