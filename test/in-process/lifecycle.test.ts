/**
 * The lifecycle API in-process: states and their log lines, warmups, holds, hooks, stop(),
 * start() in its forms, and when the main port opens. Exits are captured, never taken.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidOptionError, PodkitError, retry, type LifecycleState, type StateChange } from '@podkit/lifecycle';
import { delay, get, waitFor } from '../support/http.js';
import { helloServer, portOf, stopAll, testLifecycle } from './helpers.js';

afterEach(stopAll);

/** A free loopback port, found by listening on port 0 and closing again. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function listening(server: Server): Promise<void> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
}

describe('states', () => {
  it('moves starting → warming → ready → draining → stopping → stopped, one event and one log line per transition', async () => {
    const t = testLifecycle();
    const changes: StateChange[] = [];
    t.lifecycle.on('state', (change) => changes.push(change));
    expect(t.lifecycle.state).toBe('starting');
    await t.lifecycle.start();
    expect(t.lifecycle.state).toBe('ready');
    await t.lifecycle.stop('rolling update');

    const order: LifecycleState[] = ['starting', 'warming', 'ready', 'draining', 'stopping', 'stopped'];
    expect(changes.map((c) => [c.from, c.to])).toEqual(order.slice(0, -1).map((from, i) => [from, order[i + 1]]));
    expect(changes.slice(3).every((c) => c.reason === 'rolling update')).toBe(true);

    const lines = t.logs.filter((l) => l.obj.event === 'state');
    expect(lines.map((l) => [l.level, l.obj.from, l.obj.to, l.msg])).toEqual(
      changes.map((c) => ['info', c.from, c.to, `podkit ${c.to}`]),
    );
    expect(lines.every((l) => typeof l.obj.reason === 'string')).toBe(true);
  });

  it('logs the failed state at error level, with the reason, credentials stripped', async () => {
    const t = testLifecycle();
    t.lifecycle.warmup('cache', () => Promise.reject(new Error('cache unreachable: redis://app:hunter2@cache:6379')));
    await expect(t.lifecycle.start()).rejects.toThrow('cache unreachable');
    const failed = t.logs.find((l) => l.obj.event === 'state' && l.obj.to === 'failed');
    expect(failed?.level).toBe('error');
    expect(failed?.obj.reason).toBe('warmup "cache" failed: cache unreachable: redis://***@cache:6379');
  });

  it('emits an "exit" event and calls the exit function once, with the code and the reason', async () => {
    const t = testLifecycle();
    const exitEvents: unknown[] = [];
    t.lifecycle.on('exit', (event) => exitEvents.push(event));
    await t.lifecycle.start();
    const result = await t.lifecycle.stop('deploy');
    expect(result).toEqual({ code: 0, kind: 'clean', reason: 'deploy' });
    expect(exitEvents).toEqual([result]);
    expect(t.exits).toEqual([{ code: 0, reason: 'deploy' }]);
    expect(t.logs.filter((l) => l.obj.event === 'exit').map((l) => l.msg)).toEqual(['podkit exit 0']);
  });

  it('keeps going when a state listener throws, and logs it', async () => {
    const t = testLifecycle();
    t.lifecycle.on('state', () => {
      throw new Error('listener bug');
    });
    await t.lifecycle.start();
    expect(t.lifecycle.state).toBe('ready');
    expect(t.logs.some((l) => l.level === 'error' && l.msg === 'a "state" listener threw')).toBe(true);
  });

  it('stops calling a listener once unsubscribed', async () => {
    const t = testLifecycle();
    const seen: string[] = [];
    const off = t.lifecycle.on('state', ({ to }) => {
      seen.push(to);
      if (to === 'warming') off();
    });
    await t.lifecycle.start();
    expect(seen).toEqual(['warming']);
  });
});

describe('warmup', () => {
  it('runs warmups one after another in the order registered, before ready', async () => {
    const t = testLifecycle();
    const order: string[] = [];
    for (const name of ['postgres-pool', 'redis', 'routes']) {
      t.lifecycle.warmup(name, async () => {
        order.push(`${name} begins (${t.lifecycle.state})`);
        await delay(10);
        order.push(`${name} ends`);
      });
    }
    const events: string[] = [];
    t.lifecycle.on('warmup', (e) => events.push(`${e.name}:${e.ok}`));
    await t.lifecycle.start();
    expect(order).toEqual([
      'postgres-pool begins (warming)',
      'postgres-pool ends',
      'redis begins (warming)',
      'redis ends',
      'routes begins (warming)',
      'routes ends',
    ]);
    expect(events).toEqual(['postgres-pool:true', 'redis:true', 'routes:true']);
  });

  it('aborts a warmup at its timeout, fails the start with ERR_PODKIT_WARMUP_FAILED and exits with 75', async () => {
    const t = testLifecycle();
    let signal: AbortSignal | undefined;
    let later = false;
    t.lifecycle.warmup('slow-cache', (s) => {
      signal = s;
      return new Promise(() => {}); // hangs, ignoring its signal
    }, { timeoutMs: 100 });
    t.lifecycle.warmup('never-runs', () => {
      later = true;
    });
    const begun = performance.now();
    const error = await t.lifecycle.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(performance.now() - begun).toBeGreaterThanOrEqual(90);
    expect(performance.now() - begun).toBeLessThan(2000);
    expect(error).toBeInstanceOf(PodkitError);
    expect((error as PodkitError).code).toBe('ERR_PODKIT_WARMUP_FAILED');
    expect((error as PodkitError).message).toContain('warmup "slow-cache" failed');
    expect(signal?.aborted).toBe(true);
    expect((signal?.reason as PodkitError).code).toBe('ERR_PODKIT_TIMEOUT');
    expect(later).toBe(false);
    expect(t.lifecycle.state).toBe('failed');
    expect(t.exits).toHaveLength(1);
    expect(t.exits[0]?.code).toBe(75);
    expect(t.exits[0]?.reason).toContain('slow-cache');
  });

  it('lets a warmup retry with backoff through retry(), within its timeout', async () => {
    const t = testLifecycle();
    let attempts = 0;
    t.lifecycle.warmup(
      'redis',
      retry(
        async () => {
          attempts += 1;
          if (attempts < 3) throw new Error('ECONNREFUSED');
        },
        { initialDelayMs: 5 },
      ),
      { timeoutMs: 2000 },
    );
    await t.lifecycle.start();
    expect(attempts).toBe(3);
    expect(t.lifecycle.state).toBe('ready');
  });

  it('ends a retrying warmup when its timeout aborts the backoff', async () => {
    const t = testLifecycle();
    let attempts = 0;
    t.lifecycle.warmup(
      'redis',
      retry(
        async () => {
          attempts += 1;
          throw new Error('ECONNREFUSED');
        },
        { attempts: 100, initialDelayMs: 40, factor: 1 },
      ),
      { timeoutMs: 150 },
    );
    await expect(t.lifecycle.start()).rejects.toMatchObject({ code: 'ERR_PODKIT_WARMUP_FAILED' });
    const after = attempts;
    expect(after).toBeGreaterThanOrEqual(2);
    expect(after).toBeLessThanOrEqual(6);
    await delay(150);
    expect(attempts).toBe(after); // no attempt after the abort
  });

  it('aborts the running warmup when stop() arrives during warmup, and shuts down cleanly without becoming ready', async () => {
    const t = testLifecycle();
    let signal: AbortSignal | undefined;
    t.lifecycle.warmup('cache', (s) => {
      signal = s;
      return new Promise((_resolve, reject) => s.addEventListener('abort', () => reject(s.reason)));
    });
    const states: string[] = [];
    t.lifecycle.on('state', ({ to }) => states.push(to));
    const started = t.lifecycle.start();
    await waitFor(() => signal);
    const result = await t.lifecycle.stop('SIGTERM during warmup');
    await started;
    expect(signal?.aborted).toBe(true);
    expect(states).toEqual(['warming', 'draining', 'stopping', 'stopped']);
    expect(result.code).toBe(0);
  });

  it('refuses a warmup registered after start() (ERR_PODKIT_WARMUP_AFTER_START)', async () => {
    const t = testLifecycle();
    await t.lifecycle.start();
    expect(() => t.lifecycle.warmup('late', () => {})).toThrow(expect.objectContaining({ code: 'ERR_PODKIT_WARMUP_AFTER_START' }));
  });
});

describe('holds and the stop signal', () => {
  it('aborts lifecycle.signal at the stopping step and waits for every hold before the hooks run', async () => {
    const t = testLifecycle({ drainDelayMs: 150 });
    const order: string[] = [];
    t.lifecycle.signal.addEventListener('abort', () => order.push(`signal aborted (${t.lifecycle.state})`));
    t.lifecycle.onShutdown('pool', () => {
      order.push('hook');
    });
    await t.lifecycle.start();
    const releaseQueue = t.lifecycle.hold('queue-consumer');
    const releaseJob = t.lifecycle.hold('nightly-job');

    const stopped = t.lifecycle.stop();
    await delay(50);
    expect(t.lifecycle.state).toBe('draining');
    expect(t.lifecycle.signal.aborted).toBe(false);

    await waitFor(() => t.lifecycle.signal.aborted);
    expect(t.lifecycle.state).toBe('stopping');
    expect(t.logs.find((l) => l.obj.event === 'holds')?.obj.holds).toEqual(['queue-consumer', 'nightly-job']);
    await delay(100);
    expect(order).toEqual(['signal aborted (stopping)']);

    releaseQueue();
    releaseQueue(); // releasing twice is harmless
    await delay(50);
    expect(order).toEqual(['signal aborted (stopping)']);
    releaseJob();
    await stopped;
    expect(order).toEqual(['signal aborted (stopping)', 'hook']);
  });

  it('does not wait for a hold released before shutdown', async () => {
    const t = testLifecycle();
    await t.lifecycle.start();
    t.lifecycle.hold('done-already')();
    const begun = performance.now();
    await t.lifecycle.stop();
    expect(performance.now() - begun).toBeLessThan(1000);
  });

  it('gives up on a hold at shutdownTimeoutMs and exits 124, naming the timeout', async () => {
    const t = testLifecycle({ shutdownTimeoutMs: 200 });
    await t.lifecycle.start();
    t.lifecycle.hold('stuck-consumer');
    const result = await t.lifecycle.stop();
    expect(result.code).toBe(124);
    expect(result.kind).toBe('shutdownTimeout');
    expect(result.reason).toContain('shutdown exceeded 200 ms');
    expect(t.exits).toEqual([{ code: 124, reason: result.reason }]);
  });
});

describe('shutdown hooks', () => {
  it('run in reverse order of registration, after the drain', async () => {
    const t = testLifecycle();
    const order: string[] = [];
    for (const name of ['postgres', 'redis', 'tracing']) {
      t.lifecycle.onShutdown(name, () => {
        order.push(`${name} (${t.lifecycle.state}, signal aborted: ${t.lifecycle.signal.aborted})`);
      });
    }
    await t.lifecycle.start();
    await t.lifecycle.stop();
    expect(order).toEqual(['tracing (stopping, signal aborted: true)', 'redis (stopping, signal aborted: true)', 'postgres (stopping, signal aborted: true)']);
  });

  it('log a failing or timed-out hook and still run the rest, then exit 0', async () => {
    const t = testLifecycle();
    const ran: string[] = [];
    let hungSignal: AbortSignal | undefined;
    t.lifecycle.onShutdown('first-registered', () => {
      ran.push('first-registered');
    });
    t.lifecycle.onShutdown('hangs', (signal) => {
      hungSignal = signal;
      ran.push('hangs');
      return new Promise(() => {});
    }, { timeoutMs: 100 });
    t.lifecycle.onShutdown('throws', () => {
      ran.push('throws');
      throw new Error('flush failed for redis://u:s3cr3t@cache:6379');
    });
    const hookEvents: Array<[string, boolean]> = [];
    t.lifecycle.on('hook', (e) => hookEvents.push([e.name, e.ok]));
    await t.lifecycle.start();
    const result = await t.lifecycle.stop();

    expect(ran).toEqual(['throws', 'hangs', 'first-registered']);
    expect(hookEvents).toEqual([
      ['throws', false],
      ['hangs', false],
      ['first-registered', true],
    ]);
    expect(hungSignal?.aborted).toBe(true);
    expect(result.code).toBe(0);
    const failures = t.logs.filter((l) => l.obj.event === 'hook' && l.level === 'error');
    expect(failures.map((l) => l.obj.hook)).toEqual(['throws', 'hangs']);
    expect(JSON.stringify(failures)).not.toContain('s3cr3t');
    expect(String(failures[1]?.obj.error)).toContain('timed out after 100 ms');
  });

  it('run on stop() even when start() was never called', async () => {
    const t = testLifecycle();
    const ran: string[] = [];
    t.lifecycle.onShutdown('a', () => void ran.push('a'));
    t.lifecycle.onShutdown('b', () => void ran.push('b'));
    const result = await t.lifecycle.stop();
    expect(ran).toEqual(['b', 'a']);
    expect(result.code).toBe(0);
    expect(t.lifecycle.state).toBe('stopped');
  });
});

describe('stop()', () => {
  it('returns the same promise when called twice, and exits once', async () => {
    const t = testLifecycle({ drainDelayMs: 50 });
    await t.lifecycle.start();
    const first = t.lifecycle.stop('first');
    const second = t.lifecycle.stop('second');
    expect(second).toBe(first);
    expect((await first).reason).toBe('first');
    expect(t.exits).toHaveLength(1);
  });

  it('flips readiness to 503 in the same tick it is called', async () => {
    const t = testLifecycle({ drainDelayMs: 200 });
    await t.lifecycle.start();
    expect(t.lifecycle.isReady()).toBe(true);
    const stopped = t.lifecycle.stop();
    expect(t.lifecycle.isReady()).toBe(false);
    expect(t.lifecycle.answerProbe({ method: 'GET', url: '/readyz' }).status).toBe(503);
    await stopped;
  });

  it('lets a request in flight finish, with Connection: close, before it resolves', async () => {
    const t = testLifecycle();
    const server = createServer((_req, res) => setTimeout(() => res.end('slow done'), 300));
    await t.lifecycle.start(() => server.listen(0, '127.0.0.1'));
    const port = portOf(server);
    const response = get(port, '/slow');
    await waitFor(() => t.lifecycle.inFlight === 1);
    const stopped = t.lifecycle.stop();
    const res = await response;
    expect(res.status).toBe(200);
    expect(res.body).toBe('slow done');
    expect(res.headers.connection).toBe('close');
    expect((await stopped).code).toBe(0);
    expect(server.listening).toBe(false);
    expect(t.lifecycle.inFlight).toBe(0);
  });

  it('exits promptly, not at the end of a fixed timer, when there is nothing to wait for', async () => {
    const t = testLifecycle({ shutdownTimeoutMs: 20_000 });
    const server = helloServer();
    await t.lifecycle.start(() => server.listen(0, '127.0.0.1'));
    expect((await get(portOf(server), '/')).body).toBe('hello');
    const begun = performance.now();
    await t.lifecycle.stop();
    expect(performance.now() - begun).toBeLessThan(1500);
  });
});

describe('start()', () => {
  it('throws ERR_PODKIT_ALREADY_STARTED when called twice', async () => {
    const t = testLifecycle();
    await t.lifecycle.start();
    await expect(t.lifecycle.start()).rejects.toMatchObject({ code: 'ERR_PODKIT_ALREADY_STARTED' });
    expect(t.lifecycle.state).toBe('ready');
  });

  it('throws ERR_PODKIT_ALREADY_STARTED when called after stop(), saying a lifecycle runs once', async () => {
    const t = testLifecycle();
    await t.lifecycle.stop();
    await expect(t.lifecycle.start()).rejects.toMatchObject({ code: 'ERR_PODKIT_ALREADY_STARTED', message: expect.stringContaining('runs once') });
  });

  it('adopts a server that is already listening, and drains it at stop()', async () => {
    const t = testLifecycle();
    const server = helloServer();
    await listening(server);
    const returned = await t.lifecycle.start(server);
    expect(returned).toBe(server);
    expect(t.lifecycle.server).toBe(server);
    expect((await get(portOf(server), '/')).body).toBe('hello');
    await t.lifecycle.stop();
    expect(server.listening).toBe(false);
  });

  it('accepts a function that starts the server (wrapping app.listen) and returns it', async () => {
    const t = testLifecycle();
    const server = helloServer();
    const returned = await t.lifecycle.start(() => server.listen(0, '127.0.0.1'));
    expect(returned).toBe(server);
    expect(server.listening).toBe(true);
  });

  it('rejects a function that returns no server (ERR_PODKIT_NO_SERVER), saying what to return', async () => {
    const t = testLifecycle();
    const error = await t.lifecycle.start(() => 42).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PodkitError);
    expect((error as PodkitError).code).toBe('ERR_PODKIT_NO_SERVER');
    expect((error as PodkitError).message).toContain('() => app.listen(port)');
  });

  it('runs with no target at all: probes only, no main server', async () => {
    const t = testLifecycle();
    const returned = await t.lifecycle.start();
    expect(returned).toBeUndefined();
    expect(t.lifecycle.server).toBeUndefined();
    expect((await get(t.probePort(), '/readyz')).status).toBe(200);
  });

  it('opens the main port before warmup by default, with /readyz 503 until warmup ends', async () => {
    const t = testLifecycle();
    const server = helloServer();
    let duringWarmup: { main: string; readyz: number } | undefined;
    t.lifecycle.warmup('routes', async () => {
      duringWarmup = {
        main: (await get(portOf(server), '/')).body,
        readyz: (await get(t.probePort(), '/readyz')).status,
      };
    });
    await t.lifecycle.start(() => server.listen(0, '127.0.0.1'));
    expect(duringWarmup).toEqual({ main: 'hello', readyz: 503 });
  });

  it("keeps the main port closed during warmup with openMainPort 'after-warmup'", async () => {
    const t = testLifecycle({ openMainPort: 'after-warmup' });
    const port = await freePort();
    const server = helloServer();
    let listenCalled = false;
    let duringWarmup: string | undefined;
    t.lifecycle.warmup('cache', async () => {
      duringWarmup = await get(port, '/', { timeoutMs: 1000 }).then(
        () => 'answered',
        (error: NodeJS.ErrnoException) => error.code,
      );
    });
    await t.lifecycle.start(() => {
      listenCalled = true;
      return server.listen(port, '127.0.0.1');
    });
    expect(duringWarmup).toBe('ECONNREFUSED');
    expect(listenCalled).toBe(true);
    expect((await get(port, '/')).body).toBe('hello');
  });

  it('refuses a server already listening on the probe port, naming probes.port', async () => {
    const server = helloServer();
    await listening(server);
    const port = portOf(server);
    const t = testLifecycle({ probes: { port } });
    const error = await t.lifecycle.start(server).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe('probes.port');
    expect((error as Error).message).toContain(String(port));
  });

  it('says clearly when app.listen uses the probe port, naming probes.port', async () => {
    const port = await freePort();
    const t = testLifecycle({ probes: { port } });
    const server = helloServer();
    const error = await t.lifecycle.start(() => server.listen(port, '127.0.0.1')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PodkitError);
    expect((error as PodkitError).code).toBe('ERR_PODKIT_LISTEN_FAILED');
    expect((error as Error).message).toContain('probes.port');
    expect((error as Error).message).toContain(String(port));
  });

  it('names the actual probe port when probes.port is 0 and app.listen takes the one it got', async () => {
    const t = testLifecycle();
    const server = helloServer();
    const error = await t.lifecycle.start(() => server.listen(t.probePort(), '127.0.0.1')).catch((e: unknown) => e);
    expect((error as Error).message).toContain(`port ${t.probePort()} is the probe listener's, probes.port`);
  });

  it('says which port the probe listener could not get', async () => {
    const taken = helloServer();
    await listening(taken);
    const t = testLifecycle({ probes: { port: portOf(taken) } });
    const error = await t.lifecycle.start().catch((e: unknown) => e);
    expect((error as PodkitError).code).toBe('ERR_PODKIT_LISTEN_FAILED');
    expect((error as Error).message).toContain(`port ${portOf(taken)} (probes.port)`);
  });
});

describe('stop() racing start()', () => {
  it('leaves nothing listening when stop() is called in the same tick as start()', async () => {
    const t = testLifecycle();
    const server = helloServer();
    let listenCalled = false;
    const started = t.lifecycle.start(() => {
      listenCalled = true;
      return server.listen(0, '127.0.0.1');
    });
    const result = await t.lifecycle.stop('SIGTERM while starting');
    await started;
    await delay(50);
    expect(result.code).toBe(0);
    expect(t.lifecycle.state).toBe('stopped');
    expect(listenCalled && server.listening).toBe(false);
    const probePort = t.lifecycle.probeAddress?.port;
    if (probePort !== undefined) await expect(get(probePort, '/livez', { timeoutMs: 1000 })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('leaves nothing listening when stop() comes while the main server is starting to listen', async () => {
    const t = testLifecycle();
    const server = helloServer();
    const started = t.lifecycle.start(() => {
      // The shutdown begins after app.listen() was called and before the port is bound.
      const listening = server.listen(0, '127.0.0.1');
      void t.lifecycle.stop('SIGTERM while listening');
      return listening;
    });
    await started;
    const result = await t.lifecycle.stop();
    await delay(50);
    expect(result.code).toBe(0);
    expect(server.listening).toBe(false);
  });

  it('does not start checks once the shutdown has begun', async () => {
    const t = testLifecycle();
    let runs = 0;
    t.lifecycle.check('db', () => void (runs += 1), { intervalMs: 5 });
    const started = t.lifecycle.start();
    await t.lifecycle.stop();
    await started;
    await delay(50);
    expect(runs).toBe(0);
  });
});

describe('terminationGracePeriodSeconds', () => {
  it('warns at start-up when shutdownTimeoutMs does not fit in the grace period', async () => {
    const t = testLifecycle({ shutdownTimeoutMs: 30_000, terminationGracePeriodSeconds: 30 });
    await t.lifecycle.start();
    const warning = t.logs.find((l) => l.level === 'warn' && l.obj.event === 'config');
    expect(warning?.msg).toContain('terminationGracePeriodSeconds (30 s)');
  });

  it('stays quiet when it fits', async () => {
    const t = testLifecycle({ shutdownTimeoutMs: 25_000, terminationGracePeriodSeconds: 30 });
    await t.lifecycle.start();
    expect(t.logs.some((l) => l.obj.event === 'config')).toBe(false);
  });

  it('warns when shutdownTimeoutMs leaves less than a second of the grace period, saying the drain delay is already inside it', async () => {
    const t = testLifecycle({ shutdownTimeoutMs: 29_500, terminationGracePeriodSeconds: 30 });
    await t.lifecycle.start();
    const warning = t.logs.find((l) => l.level === 'warn' && l.obj.event === 'config');
    expect(warning?.obj).toMatchObject({ shutdownTimeoutMs: 29_500, terminationGracePeriodSeconds: 30, marginMs: 1000 });
    expect(warning?.msg).toContain('terminationGracePeriodSeconds (30 s) must exceed shutdownTimeoutMs (29500 ms, the drain delay included) by at least 1000 ms, plus any preStop time');
  });

  it('counts a preStop sleep: 5 s of preStopSleepSeconds before a 25 s budget does not fit a 30 s grace period', async () => {
    const t = testLifecycle({ preStopSleepSeconds: 5, shutdownTimeoutMs: 25_000, terminationGracePeriodSeconds: 30 });
    await t.lifecycle.start();
    const warning = t.logs.find((l) => l.level === 'warn' && l.obj.event === 'config');
    expect(warning?.obj).toMatchObject({ preStopSleepSeconds: 5, shutdownTimeoutMs: 25_000, terminationGracePeriodSeconds: 30 });
    expect(warning?.msg).toContain('must exceed preStopSleepSeconds (5 s) plus shutdownTimeoutMs (25000 ms');
  });

  it('stays quiet when the preStop sleep and the budget fit: 5 s + 20 s in 30 s', async () => {
    const t = testLifecycle({ preStopSleepSeconds: 5, shutdownTimeoutMs: 20_000, terminationGracePeriodSeconds: 30 });
    await t.lifecycle.start();
    expect(t.logs.some((l) => l.obj.event === 'config')).toBe(false);
  });

  it('does not add the drain delay to shutdownTimeoutMs: 1.5 s of delay inside a 29 s budget fits a 30 s grace period', async () => {
    const t = testLifecycle({ drainDelayMs: 1500, shutdownTimeoutMs: 29_000, terminationGracePeriodSeconds: 30 });
    await t.lifecycle.start();
    expect(t.logs.some((l) => l.obj.event === 'config')).toBe(false);
  });
});
