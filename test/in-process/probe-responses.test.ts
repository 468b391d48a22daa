/**
 * What the probe listener answers, over real HTTP on a free loopback port: every path in every
 * state, the verbose and JSON forms, exclusions, methods, redaction and body sizes.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Lifecycle } from '@podkit/lifecycle';
import { delay, get, waitFor } from '../support/http.js';
import { inThread, PROBE_THREADS, stopAll } from './helpers.js';

afterEach(stopAll);

/** Sends `request` as raw bytes and resolves with everything the server wrote before it closed the connection. */
function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('latin1');
    socket.setTimeout(5000, () => socket.destroy(new Error(`no close within 5 s; received ${JSON.stringify(received)}`)));
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
    socket.write(request);
  });
}

describe.each(PROBE_THREADS)('the probe listener in the %s thread', (thread) => {
  const testLifecycle = inThread(thread);

  const KIB = 1024;
  const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

  interface Deferred {
    promise: Promise<void>;
    resolve: () => void;
  }
  function deferred(): Deferred {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  }

  /** Waits until every registered check has run at least once. */
  async function checksSettled(lifecycle: Lifecycle, names: string[]): Promise<void> {
    await waitFor(() => names.every((name) => lifecycle.answerProbe({ method: 'GET', url: `/readyz/${name}` }).body.includes('pending') === false));
  }

  async function statuses(port: number): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const path of ['/livez', '/readyz', '/startupz', '/readyz/redis']) out[path] = (await get(port, path)).status;
    return out;
  }

  describe('probe answers in every state', () => {
    it('while warming: alive, not started, not ready', async () => {
      const t = testLifecycle();
      const gate = deferred();
      t.lifecycle.check('redis', () => true, { intervalMs: 60_000 });
      t.lifecycle.warmup('cache', () => gate.promise);
      const started = t.lifecycle.start();
      await waitFor(() => t.lifecycle.state === 'warming');
      await checksSettled(t.lifecycle, ['redis']);
      // The check itself passes (/readyz/redis 200), but the service is not ready while warming.
      expect(await statuses(t.probePort())).toEqual({ '/livez': 200, '/readyz': 503, '/startupz': 503, '/readyz/redis': 200 });
      const verbose = await get(t.probePort(), '/readyz?verbose');
      expect(verbose.body).toContain('[-]state warming');
      expect(verbose.body).toContain('[+]redis ok');
      expect((await get(t.probePort(), '/startupz?verbose')).body).toContain('[-]warmup not finished');
      gate.resolve();
      await started;
    });

    it('when ready: every probe answers 200 with a short "ok" body', async () => {
      const t = testLifecycle();
      t.lifecycle.check('redis', () => true, { intervalMs: 60_000 });
      await t.lifecycle.start();
      await checksSettled(t.lifecycle, ['redis']);
      expect(await statuses(t.probePort())).toEqual({ '/livez': 200, '/readyz': 200, '/startupz': 200, '/readyz/redis': 200 });
      expect((await get(t.probePort(), '/readyz')).body).toBe('ok\n');
      expect((await get(t.probePort(), '/livez')).body).toBe('ok\n');
    });

    it('while draining (stop() during the drain delay): alive and started, but /readyz 503', async () => {
      const t = testLifecycle({ drainDelayMs: 400 });
      t.lifecycle.check('redis', () => true, { intervalMs: 60_000 });
      await t.lifecycle.start();
      await checksSettled(t.lifecycle, ['redis']);
      const stopped = t.lifecycle.stop();
      expect(t.lifecycle.state).toBe('draining');
      expect(await statuses(t.probePort())).toEqual({ '/livez': 200, '/readyz': 503, '/startupz': 200, '/readyz/redis': 200 });
      expect((await get(t.probePort(), '/readyz?verbose')).body).toContain('[-]state draining');
      await stopped;
    });

    it('while stopping (held by background work): still answering, /readyz 503', async () => {
      const t = testLifecycle();
      t.lifecycle.check('redis', () => true, { intervalMs: 60_000 });
      await t.lifecycle.start();
      await checksSettled(t.lifecycle, ['redis']);
      const release = t.lifecycle.hold('queue-consumer');
      const stopped = t.lifecycle.stop();
      await waitFor(() => t.lifecycle.state === 'stopping');
      expect(await statuses(t.probePort())).toEqual({ '/livez': 200, '/readyz': 503, '/startupz': 200, '/readyz/redis': 200 });
      expect((await get(t.probePort(), '/readyz?verbose')).body).toContain('[-]state stopping');
      release();
      await stopped;
    });

    it('once stopped: the probe port is closed, and answerProbe() still tells the truth', async () => {
      const t = testLifecycle();
      await t.lifecycle.start();
      const port = t.probePort();
      await t.lifecycle.stop();
      expect(t.lifecycle.state).toBe('stopped');
      await expect(get(port, '/livez', { timeoutMs: 1000 })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      const answer = (url: string) => t.lifecycle.answerProbe({ method: 'GET', url }).status;
      expect([answer('/livez'), answer('/readyz'), answer('/startupz')]).toEqual([200, 503, 200]);
    });

    it('after a failed warmup: /livez 503 too, so the orchestrator restarts the pod', async () => {
      const t = testLifecycle();
      const inHook = deferred();
      const leaveHook = deferred();
      t.lifecycle.warmup('cache', () => Promise.reject(refused()));
      t.lifecycle.onShutdown('flush', async () => {
        inHook.resolve();
        await leaveHook.promise;
      });
      const started = t.lifecycle.start();
      const failedStart = expect(started).rejects.toMatchObject({ code: 'ERR_PODKIT_WARMUP_FAILED' });
      await inHook.promise;
      expect(t.lifecycle.state).toBe('failed');
      expect(await statuses(t.probePort())).toEqual({ '/livez': 503, '/readyz': 503, '/startupz': 503, '/readyz/redis': 404 });
      expect((await get(t.probePort(), '/livez?verbose')).body).toContain('[-]state failed');
      leaveHook.resolve();
      await failedStart;
    });
  });

  describe('checks registered after start()', () => {
    it('are in the very next answer, pending until their first run', async () => {
      const t = testLifecycle();
      await t.lifecycle.start();
      expect((await get(t.probePort(), '/readyz')).status).toBe(200);
      t.lifecycle.check('late', () => delay(300).then(() => true), { intervalMs: 60_000 });
      const one = await get(t.probePort(), '/readyz/late');
      expect([one.status, one.body]).toEqual([503, '[-]late pending\nlate check failed\n']);
      expect((await get(t.probePort(), '/readyz?verbose')).body).toContain('[-]late pending');
      await waitFor(async () => (await get(t.probePort(), '/readyz')).status === 200);
      expect((await get(t.probePort(), '/readyz/late')).body).toBe('[+]late ok\nok\n');
    });

    it('carry a changed error text into the next answer', async () => {
      const t = testLifecycle();
      let error: Error = refused();
      t.lifecycle.check('db', () => Promise.reject(error), { intervalMs: 50, failureThreshold: 1 });
      await t.lifecycle.start();
      await checksSettled(t.lifecycle, ['db']);
      expect((await get(t.probePort(), '/readyz/db')).body).toContain('[-]db failed: ECONNREFUSED');
      error = Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' });
      await waitFor(() => t.lifecycle.answerProbe({ method: 'GET', url: '/readyz/db' }).body.includes('ETIMEDOUT'));
      expect((await get(t.probePort(), '/readyz/db')).body).toContain('[-]db failed: ETIMEDOUT');
    });
  });

  describe('probe bodies', () => {
    async function degraded() {
      const t = testLifecycle();
      t.lifecycle.check('redis', () => 'PONG', { intervalMs: 60_000 });
      t.lifecycle.check('postgres', () => Promise.reject(refused()), { intervalMs: 60_000 });
      t.lifecycle.check('search', () => false, { intervalMs: 60_000, critical: false });
      await t.lifecycle.start();
      await checksSettled(t.lifecycle, ['redis', 'postgres', 'search']);
      return t;
    }

    it('lists each check on /readyz?verbose, kube-apiserver style', async () => {
      const t = await degraded();
      const res = await get(t.probePort(), '/readyz?verbose');
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(res.body.split('\n')).toEqual([
        '[+]state ready',
        '[+]redis ok',
        '[-]postgres failed: ECONNREFUSED',
        '[-]search failed (non-critical): error',
        'readyz check failed',
        '',
      ]);
    });

    it('shows the details on a failing /readyz even without ?verbose, and only "ok" on a passing one', async () => {
      const t = await degraded();
      expect((await get(t.probePort(), '/readyz')).body).toContain('[-]postgres failed: ECONNREFUSED');
      expect((await get(t.probePort(), '/readyz?exclude=postgres')).body).toBe('ok\n');
      expect((await get(t.probePort(), '/readyz?exclude=postgres&verbose')).body).toContain('[+]postgres excluded: failed');
    });

    it('answers JSON for Accept: application/json, with per-check status, duration and time of last change', async () => {
      const t = await degraded();
      const res = await get(t.probePort(), '/readyz', { headers: { accept: 'application/json' } });
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      const body = JSON.parse(res.body) as { status: string; state: string; checks: Record<string, Record<string, unknown>> };
      expect(body).toMatchObject({ status: 'fail', state: 'ready' });
      expect(Object.keys(body.checks)).toEqual(['redis', 'postgres', 'search']);
      expect(body.checks.redis).toMatchObject({ status: 'pass', critical: true });
      expect(body.checks.postgres).toMatchObject({ status: 'fail', critical: true, error: 'ECONNREFUSED' });
      expect(body.checks.search).toMatchObject({ status: 'warn', critical: false });
      for (const check of Object.values(body.checks)) {
        expect(typeof check.durationMs).toBe('number');
        expect(Number.isNaN(Date.parse(String(check.lastChange)))).toBe(false);
      }
    });

    it('answers application/health+json when asked for it, even among other types', async () => {
      const t = await degraded();
      const res = await get(t.probePort(), '/livez', { headers: { accept: 'text/html, application/health+json;q=0.9' } });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/health+json; charset=utf-8');
      expect(JSON.parse(res.body)).toMatchObject({ status: 'pass', state: 'ready' });
      const startup = await get(t.probePort(), '/startupz', { headers: { accept: 'application/json' } });
      expect(JSON.parse(startup.body)).toMatchObject({ status: 'pass', warmedUp: true });
    });

    it('ignores excluded checks for that call only: ?exclude=name, repeated and comma forms', async () => {
      const t = testLifecycle();
      t.lifecycle.check('redis', () => Promise.reject(refused()), { intervalMs: 60_000 });
      t.lifecycle.check('postgres', () => Promise.reject(refused()), { intervalMs: 60_000 });
      await t.lifecycle.start();
      await checksSettled(t.lifecycle, ['redis', 'postgres']);
      const port = t.probePort();
      expect((await get(port, '/readyz?exclude=redis')).status).toBe(503);
      expect((await get(port, '/readyz?exclude=redis&exclude=postgres')).status).toBe(200);
      expect((await get(port, '/readyz?exclude=redis,postgres')).status).toBe(200);
      expect((await get(port, '/readyz?exclude=redis,postgres&verbose')).body).toContain('[+]redis excluded: failed');
      const json = JSON.parse((await get(port, '/readyz?exclude=redis,postgres', { headers: { accept: 'application/json' } })).body) as {
        status: string;
        checks: Record<string, { excluded?: boolean }>;
      };
      expect(json.status).toBe('warn');
      expect(json.checks.redis?.excluded).toBe(true);
      // The next call without exclude sees the failure again.
      expect((await get(port, '/readyz')).status).toBe(503);
      // Excluding does not revive a service that is not ready.
      const stopped = t.lifecycle.stop();
      expect(t.lifecycle.answerProbe({ method: 'GET', url: '/readyz?exclude=redis,postgres' }).status).toBe(503);
      await stopped;
    });

    it('answers for one check on /readyz/<check>: 200, 503, or 404 for a name it does not know', async () => {
      const t = await degraded();
      const port = t.probePort();
      const redis = await get(port, '/readyz/redis');
      expect([redis.status, redis.body]).toEqual([200, '[+]redis ok\nok\n']);
      const postgres = await get(port, '/readyz/postgres');
      expect([postgres.status, postgres.body]).toEqual([503, '[-]postgres failed: ECONNREFUSED\npostgres check failed\n']);
      expect((await get(port, '/readyz/search')).status).toBe(503);
      const unknown = await get(port, '/readyz/mysql');
      expect(unknown.status).toBe(404);
      expect(unknown.body).toContain('no check named "mysql"');
      const json = await get(port, '/readyz/postgres', { headers: { accept: 'application/json' } });
      expect(JSON.parse(json.body)).toMatchObject({ status: 'fail', checks: { postgres: { status: 'fail', error: 'ECONNREFUSED' } } });
    });

    it('answers HEAD with the status and headers of GET and no body', async () => {
      const t = await degraded();
      for (const [path, status] of [['/livez', 200], ['/readyz', 503], ['/startupz', 200], ['/readyz/redis', 200], ['/nope', 404]] as const) {
        const head = await get(t.probePort(), path, { method: 'HEAD' });
        const full = await get(t.probePort(), path);
        expect(head.status).toBe(status);
        expect(head.body).toBe('');
        expect(head.headers['content-length']).toBe(full.headers['content-length']);
        expect(head.headers['content-type']).toBe(full.headers['content-type']);
      }
    });

    it('answers other methods with 405 and an Allow header', async () => {
      const t = await degraded();
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
        const res = await get(t.probePort(), '/readyz', { method });
        expect(res.status).toBe(405);
        expect(res.headers.allow).toBe('GET, HEAD');
      }
      expect((await get(t.probePort(), '/livez', { method: 'POST' })).status).toBe(405);
    });

    it('answers unknown paths with 404', async () => {
      const t = await degraded();
      for (const path of ['/', '/healthz', '/ready', '/livez/extra', '/readyz/redis/extra', '/metrics', '/LIVEZ']) {
        expect((await get(t.probePort(), path)).status).toBe(404);
      }
    });

    it('answers an absolute-form request (GET http://host/readyz?verbose), as proxies send it, for the path it names', async () => {
      const t = await degraded();
      const verbose = await raw(t.probePort(), 'GET http://probe.example:9000/readyz?verbose HTTP/1.1\r\nHost: probe.example:9000\r\n\r\n');
      expect(verbose).toMatch(/^HTTP\/1\.1 503 /);
      expect(verbose).toContain('[+]redis ok');
      expect(await raw(t.probePort(), 'GET HTTP://probe.example/livez HTTP/1.1\r\nHost: probe.example\r\n\r\n')).toMatch(/^HTTP\/1\.1 200 [^]*\r\n\r\nok\n$/);
      expect(await raw(t.probePort(), 'GET /livez#top HTTP/1.1\r\nHost: probe\r\n\r\n')).toMatch(/^HTTP\/1\.1 200 /);
      expect(await raw(t.probePort(), 'GET http://probe.example/nope HTTP/1.1\r\nHost: probe.example\r\n\r\n')).toMatch(/^HTTP\/1\.1 404 /);
    });

    it('answers CONNECT with a status, 405 on a probe path and 404 elsewhere, instead of closing the connection unanswered', async () => {
      const t = await degraded();
      const onProbe = await raw(t.probePort(), 'CONNECT /livez HTTP/1.1\r\nHost: probe\r\n\r\n');
      expect(onProbe).toMatch(/^HTTP\/1\.1 405 Method Not Allowed\r\n/);
      expect(onProbe.toLowerCase()).toContain('\r\nallow: get, head\r\n');
      expect(await raw(t.probePort(), 'CONNECT probe.example:443 HTTP/1.1\r\nHost: probe.example:443\r\n\r\n')).toMatch(/^HTTP\/1\.1 404 Not Found\r\n[^]*\r\n\r\nnot found\n$/);
      expect((await get(t.probePort(), '/livez')).status).toBe(200);
    });

    it('marks every answer as not cacheable and closes the connection', async () => {
      const t = await degraded();
      const res = await get(t.probePort(), '/livez');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers.connection).toBe('close');
    });
  });

  describe('error details in probe output', () => {
    const leak = 'connect ECONNREFUSED: postgres://app_user:s3cr3t-pw@db.internal:5432/app';

    async function leaking(exposeErrors: boolean) {
      const t = testLifecycle({ probes: { exposeErrors, metrics: true } });
      t.lifecycle.check('postgres', () => Promise.reject(Object.assign(new Error(leak), { code: 'ECONNREFUSED' })), { intervalMs: 60_000 });
      t.lifecycle.check('cache', () => Promise.reject(new Error(`GET failed: password=hunter2 host=cache.internal`)), { intervalMs: 60_000 });
      await t.lifecycle.start();
      await checksSettled(t.lifecycle, ['postgres', 'cache']);
      const port = t.probePort();
      const bodies: string[] = [];
      for (const path of ['/readyz', '/readyz?verbose', '/readyz/postgres', '/readyz/cache', '/metrics']) {
        bodies.push((await get(port, path)).body);
        bodies.push((await get(port, path, { headers: { accept: 'application/json' } })).body);
      }
      return { t, output: bodies.join('\n') };
    }

    it('shows only the kind of error by default: no credentials, no host', async () => {
      const { output } = await leaking(false);
      expect(output).toContain('[-]postgres failed: ECONNREFUSED');
      expect(output).not.toContain('s3cr3t');
      expect(output).not.toContain('app_user');
      expect(output).not.toContain('db.internal');
      expect(output).not.toContain('hunter2');
      expect(output).not.toContain('cache.internal');
    });

    it('with probes.exposeErrors, shows the message with the credentials stripped', async () => {
      const { output } = await leaking(true);
      expect(output).toContain('postgres://***@db.internal:5432/app');
      expect(output).toContain('password=***');
      expect(output).not.toContain('s3cr3t');
      expect(output).not.toContain('app_user');
      expect(output).not.toContain('hunter2');
    });

    it('strips credentials from the log lines as well', async () => {
      const { t } = await leaking(false);
      const logged = JSON.stringify(t.logs);
      expect(logged).toContain('postgres://***@db.internal:5432/app');
      expect(logged).not.toContain('s3cr3t');
      expect(logged).not.toContain('hunter2');
    });
  });

  describe('body size', () => {
    it('keeps every probe body under 10 KiB with 300 checks, verbose or JSON, and the JSON still parses', async () => {
      const t = testLifecycle({ probes: { exposeErrors: true } });
      const names: string[] = [];
      for (let i = 0; i < 300; i += 1) {
        const name = `dependency-${String(i).padStart(3, '0')}-with-a-rather-long-name`;
        names.push(name);
        const fails = i % 3 === 0;
        t.lifecycle.check(
          name,
          () => (fails ? Promise.reject(new Error(`upstream ${name} answered 503 Service Unavailable after a long wait`)) : true),
          { intervalMs: 60_000, critical: i % 2 === 0 },
        );
      }
      await t.lifecycle.start();
      await checksSettled(t.lifecycle, names);
      const port = t.probePort();

      for (const path of ['/livez', '/readyz', '/readyz?verbose', '/startupz?verbose', `/readyz/${names[0]}`]) {
        for (const accept of [undefined, 'application/json', 'application/health+json']) {
          const res = await get(port, path, accept ? { headers: { accept } } : {});
          expect(Buffer.byteLength(res.body)).toBeLessThan(10 * KIB);
          if (accept) expect(() => JSON.parse(res.body)).not.toThrow();
        }
      }

      // Cut to size, the failing checks come first and the verdict stays on the last line.
      const verbose = (await get(port, '/readyz?verbose')).body.trimEnd().split('\n');
      expect(verbose[0]).toBe('[+]state ready');
      expect(verbose[1]).toMatch(/^\[-\]dependency-000-/);
      expect(verbose.at(-2)).toMatch(/more checks not shown/);
      expect(verbose.at(-1)).toBe('readyz check failed');
      const json = JSON.parse((await get(port, '/readyz', { headers: { accept: 'application/json' } })).body) as {
        status: string;
        checks: Record<string, { status: string }>;
        omitted: number;
      };
      expect(json.status).toBe('fail');
      expect(json.omitted).toBeGreaterThan(0);
      expect(Object.keys(json.checks).length + json.omitted).toBe(300);
      expect(Object.values(json.checks)[0]?.status).toBe('fail');
    });
  });

  describe('/metrics', () => {
    it('is served only when probes.metrics is set', async () => {
      const off = testLifecycle();
      await off.lifecycle.start();
      expect((await get(off.probePort(), '/metrics')).status).toBe(404);

      const on = testLifecycle({ probes: { metrics: true } });
      on.lifecycle.check('redis', () => true, { intervalMs: 60_000 });
      await on.lifecycle.start();
      await checksSettled(on.lifecycle, ['redis']);
      const res = await get(on.probePort(), '/metrics');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(res.body).toContain('podkit_state{state="ready"} 1');
      expect(res.body).toContain('podkit_ready 1');
      expect(res.body).toContain('podkit_check_up{check="redis",critical="true"} 1');
      expect(res.body).toContain('podkit_check_runs_total{check="redis"} 1');
    });

    it('is never cut short, whatever the number of checks (Prometheus reads it all)', async () => {
      const t = testLifecycle({ probes: { metrics: true } });
      const names = Array.from({ length: 300 }, (_, i) => `dependency-${i}`);
      for (const name of names) t.lifecycle.check(name, () => true, { intervalMs: 60_000 });
      await t.lifecycle.start();
      await checksSettled(t.lifecycle, names);
      const body = (await get(t.probePort(), '/metrics')).body;
      expect(body).toContain('podkit_check_failures_total{check="dependency-299"} 0');
      expect(body).not.toContain('truncated');
      for (const line of body.trimEnd().split('\n')) expect(line).toMatch(/^(# (HELP|TYPE) .+|[a-z_]+(\{.*\})? -?[0-9.e-]+)$/);
    });
  });

  describe('answerProbe() for probe routes mounted on the app port', () => {
    it('answers under the prefix only: the app keeps its own /livez', async () => {
      const t = testLifecycle({ probes: false });
      await t.lifecycle.start();
      const status = (url: string, prefix: string) => t.lifecycle.answerProbe({ method: 'GET', url }, prefix).status;
      expect(status('/_health/livez', '/_health')).toBe(200);
      expect(status('/_health/readyz?verbose', '/_health')).toBe(200);
      expect(status('/_health/livez', '/_health/')).toBe(200);
      expect(status('/livez', '/_health')).toBe(404);
      expect(status('/_healthlivez', '/_health')).toBe(404);
      expect(status('/other/livez', '/_health')).toBe(404);
      expect(status('/livez', '')).toBe(200);
    });

    it('gives the same bytes as the probe port: status, headers and body, for every probe and form', async () => {
      const t = testLifecycle({ probes: { metrics: true } });
      t.lifecycle.check('postgres', () => Promise.reject(refused()), { intervalMs: 60_000 });
      t.lifecycle.check('redis', () => true, { intervalMs: 60_000 });
      t.lifecycle.check('search', () => false, { intervalMs: 60_000, critical: false });
      await t.lifecycle.start();
      await checksSettled(t.lifecycle, ['postgres', 'redis', 'search']);
      const urls = ['/livez', '/livez?verbose', '/readyz', '/readyz?verbose', '/readyz?exclude=postgres', '/startupz?verbose', '/readyz/postgres', '/readyz/redis', '/readyz/nope', '/metrics', '/nope'];
      for (const url of urls) {
        for (const accept of [undefined, 'application/json', 'application/health+json']) {
          for (const method of ['GET', 'HEAD', 'POST']) {
            const overHttp = await get(t.probePort(), url, { method, ...(accept ? { headers: { accept } } : {}) });
            const inProcess = t.lifecycle.answerProbe({ method, url, accept });
            const where = `${method} ${url} ${accept ?? ''}`;
            expect([overHttp.status, overHttp.body], where).toEqual([inProcess.status, inProcess.body]);
            for (const [name, value] of Object.entries(inProcess.headers)) expect(overHttp.headers[name], `${where}: ${name}`).toBe(value);
          }
        }
      }
    });
  });
});
