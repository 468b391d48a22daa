/**
 * Option validation: every wrong option is a programmer error caught at construction, with an
 * InvalidOptionError that names the option, the value received and what is allowed.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLifecycle, DEFAULTS, InvalidOptionError, PodkitError, type LifecycleOptions } from '@podkit/lifecycle';

/** Options as a user might write them in plain JavaScript, type errors included. */
type LooseOptions = Record<string, unknown>;

const quiet = { logger: false, exit: false } as const;

function create(options: LooseOptions) {
  return createLifecycle({ ...quiet, ...options } as LifecycleOptions);
}

/** Runs `fn` and returns the InvalidOptionError it throws; fails the test when it throws nothing or something else. */
function invalidOption(fn: () => unknown): InvalidOptionError {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  if (thrown === undefined) throw new Error('expected an InvalidOptionError, but nothing was thrown');
  expect(thrown).toBeInstanceOf(InvalidOptionError);
  expect(thrown).toBeInstanceOf(PodkitError);
  const error = thrown as InvalidOptionError;
  expect(error.code).toBe('ERR_PODKIT_INVALID_OPTION');
  return error;
}

/** The message names the option (quoted), shows the value received and says what is expected. */
function expectNamed(error: InvalidOptionError, option: string, shown: string): void {
  expect(error.option).toBe(option);
  expect(error.message).toContain(`"${option}"`);
  expect(error.message).toContain(`received ${shown}`);
  expect(error.message).toMatch(/expected \S/);
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('createLifecycle validates durations', () => {
  const durations = [
    'drainDelayMs',
    'shutdownTimeoutMs',
    'crashTimeoutMs',
    'listenTimeoutMs',
    'checks.intervalMs',
    'checks.timeoutMs',
    'warmup.timeoutMs',
    'hooks.timeoutMs',
    'probes.headersTimeoutMs',
    'probes.requestTimeoutMs',
  ] as const;
  const bad: Array<[string, unknown, string]> = [
    ['negative', -1, '-1'],
    ['non-integer', 1.5, '1.5'],
    ['larger than setTimeout can wait', 2 ** 31, String(2 ** 31)],
    ['infinite', Number.POSITIVE_INFINITY, 'Infinity'],
    ['NaN', Number.NaN, 'NaN'],
    ['a string', '5000', '"5000"'],
  ];

  for (const option of durations) {
    for (const [what, value, shown] of bad) {
      it(`rejects a ${what} ${option}, naming the option, the value and the allowed range`, () => {
        const [group, key] = option.split('.') as [string, string | undefined];
        const options: LooseOptions = key ? { [group]: { [key]: value } } : { [group]: value };
        const error = invalidOption(() => create(options));
        expectNamed(error, option, shown);
        expect(error.message).toContain('2147483647');
        expect(error.value).toBe(value);
      });
    }
  }

  it('rejects a zero timeout where zero would mean "already timed out"', () => {
    for (const option of ['shutdownTimeoutMs', 'crashTimeoutMs', 'listenTimeoutMs'] as const) {
      expectNamed(invalidOption(() => create({ [option]: 0 })), option, '0');
    }
    expectNamed(invalidOption(() => create({ checks: { timeoutMs: 0 } })), 'checks.timeoutMs', '0');
    expectNamed(invalidOption(() => create({ hooks: { timeoutMs: 0 } })), 'hooks.timeoutMs', '0');
    expectNamed(invalidOption(() => create({ warmup: { timeoutMs: 0 } })), 'warmup.timeoutMs', '0');
  });

  it('accepts drainDelayMs 0 (no delay) and the largest timer setTimeout can wait', () => {
    expect(() => create({ drainDelayMs: 0 })).not.toThrow();
    expect(() => create({ shutdownTimeoutMs: 2 ** 31 - 1, drainDelayMs: 2 ** 31 - 2 })).not.toThrow();
  });

  it('rejects drainDelayMs equal to or above shutdownTimeoutMs, which bounds the delay, the drain and the hooks together', () => {
    const equal = invalidOption(() => create({ drainDelayMs: 1000, shutdownTimeoutMs: 1000 }));
    expectNamed(equal, 'drainDelayMs', '1000');
    expect(equal.message).toContain('shutdownTimeoutMs (1000 ms)');
    expectNamed(invalidOption(() => create({ drainDelayMs: 30_000 })), 'drainDelayMs', '30000');
    expect(() => create({ drainDelayMs: 999, shutdownTimeoutMs: 1000 })).not.toThrow();
  });

  it('rejects probes.headersTimeoutMs above probes.requestTimeoutMs (Node requires headersTimeout ≤ requestTimeout)', () => {
    const error = invalidOption(() => create({ probes: { headersTimeoutMs: 3000, requestTimeoutMs: 2000 } }));
    expectNamed(error, 'probes.headersTimeoutMs', '3000');
    expect(error.message).toContain('probes.requestTimeoutMs (2000 ms)');
    // Against the default request timeout (5000 ms) too.
    expectNamed(invalidOption(() => create({ probes: { headersTimeoutMs: 6000 } })), 'probes.headersTimeoutMs', '6000');
    expect(() => create({ probes: { headersTimeoutMs: 2000, requestTimeoutMs: 2000 } })).not.toThrow();
  });
});

describe('createLifecycle validates counts, flags and choices', () => {
  it.each([
    [{ checks: { failureThreshold: 0 } }, 'checks.failureThreshold', '0'],
    [{ checks: { successThreshold: 1.5 } }, 'checks.successThreshold', '1.5'],
    [{ checks: { critical: 'yes' } }, 'checks.critical', '"yes"'],
    [{ probes: { maxConnections: 0 } }, 'probes.maxConnections', '0'],
    [{ probes: { maxHeaderSize: -1 } }, 'probes.maxHeaderSize', '-1'],
    [{ probes: { metrics: 1 } }, 'probes.metrics', '1'],
    [{ probes: { exposeErrors: 'true' } }, 'probes.exposeErrors', '"true"'],
    [{ probes: { host: '' } }, 'probes.host', '""'],
    [{ handleCrashes: 'no' }, 'handleCrashes', '"no"'],
    [{ exitCodes: { crash: 256 } }, 'exitCodes.crash', '256'],
    [{ exitCodes: { clean: -1 } }, 'exitCodes.clean', '-1'],
    [{ exitCodes: { warmupFailed: '75' } }, 'exitCodes.warmupFailed', '"75"'],
    [{ exitCodes: { shutdownTimeout: 12.5 } }, 'exitCodes.shutdownTimeout', '12.5'],
    [{ exitCodes: { forcedBase: 256 } }, 'exitCodes.forcedBase', '256'],
    [{ exitCodes: { forcedBase: Number.NaN } }, 'exitCodes.forcedBase', 'NaN'],
    [{ terminationGracePeriodSeconds: -30 }, 'terminationGracePeriodSeconds', '-30'],
    [{ liveness: { heartbeatTimeoutMs: 999 } }, 'liveness.heartbeatTimeoutMs', '999'],
    [{ liveness: { heartbeatTimeoutMs: '5s' } }, 'liveness.heartbeatTimeoutMs', '"5s"'],
    [{ liveness: 5000 }, 'liveness', '5000'],
    [{ probes: { thread: 'fork' } }, 'probes.thread', '"fork"'],
    [{ preStopSleepSeconds: 2.5 }, 'preStopSleepSeconds', '2.5'],
    [{ preStopSleepSeconds: -1 }, 'preStopSleepSeconds', '-1'],
    [{ preStopSleepSeconds: '5' }, 'preStopSleepSeconds', '"5"'],
  ] as Array<[LooseOptions, string, string]>)('rejects %j, naming %s', (options, option, shown) => {
    expectNamed(invalidOption(() => create(options)), option, shown);
  });

  it.each([
    ['a negative port', -1, '-1'],
    ['a port above 65535', 65_536, '65536'],
    ['a non-integer port', 80.5, '80.5'],
    ['a port given as a string', '9000', '"9000"'],
    ['NaN', Number.NaN, 'NaN'],
  ])('rejects %s for probes.port, saying ports run from 1 to 65535 or 0 for any free one', (_what, value, shown) => {
    const error = invalidOption(() => create({ probes: { port: value } }));
    expectNamed(error, 'probes.port', shown);
    expect(error.message).toContain('65535');
  });

  it('rejects a short or malformed probes.preStopToken without echoing it, and accepts a random hex one', () => {
    for (const token of ['short-token', 'has spaces in it, sixteen+', 42]) {
      const error = invalidOption(() => create({ probes: { preStopToken: token } }));
      expect(error.message).toContain('"probes.preStopToken"');
      expect(error.message).toContain('at least 16 characters');
      if (typeof token === 'string') expect(error.message).not.toContain(token);
    }
    expect(() => create({ probes: { preStopToken: '0123456789abcdef0123456789abcdef' } })).not.toThrow();
  });

  it('accepts port 0 (any free port) and 65535', () => {
    expect(() => create({ probes: { port: 0 } })).not.toThrow();
    expect(() => create({ probes: { port: 65_535 } })).not.toThrow();
  });

  it.each([
    ['an unknown name', ['SIGFOO'], '"SIGFOO"'],
    ['a lower-case name', ['sigterm'], '"sigterm"'],
    ['SIGKILL, which cannot be caught', ['SIGKILL'], '"SIGKILL"'],
    ['SIGSTOP, which cannot be caught', ['SIGSTOP'], '"SIGSTOP"'],
    ['SIGSEGV, after which no JavaScript runs safely', ['SIGTERM', 'SIGSEGV'], '"SIGSEGV"'],
    ['SIGBUS, after which no JavaScript runs safely', ['SIGBUS'], '"SIGBUS"'],
    ['a name that is not a string among valid ones', ['SIGTERM', null], 'null'],
    ['a signal number', [15], '15'],
    ['a single name instead of an array', 'SIGTERM', '"SIGTERM"'],
  ])('rejects %s in signals', (_what, value, shown) => {
    const error = invalidOption(() => create({ signals: value }));
    expectNamed(error, 'signals', shown);
  });

  it('accepts catchable signals such as SIGUSR2 and SIGHUP', () => {
    expect(() => create({ signals: ['SIGTERM', 'SIGUSR2', 'SIGHUP'] })).not.toThrow();
  });

  it('refuses an empty signals list (as PID 1 that process would ignore SIGTERM), pointing to signals: false', () => {
    const error = invalidOption(() => create({ signals: [] }));
    expectNamed(error, 'signals', 'an array ([])');
    expect(error.message).toContain('at least one signal name');
    expect(error.message).toContain('or false to install no handler');
  });

  it('accepts signals: false, the explicit opt-out for a process that handles signals itself', () => {
    expect(() => create({ signals: false })).not.toThrow();
    expectNamed(invalidOption(() => create({ signals: true })), 'signals', 'true');
  });

  it.each([
    ['an empty object', {}],
    ['console-like object without fatal', { info() {}, warn() {}, error() {} }],
    ['true', true],
    ['null', null],
    ['a function', () => {}],
  ])('rejects %s as logger, saying a pino-shaped logger or false is expected', (_what, value) => {
    const error = invalidOption(() => create({ logger: value }));
    expect(error.option).toBe('logger');
    expect(error.message).toContain('"logger"');
    expect(error.message).toMatch(/info, warn, error and fatal/);
  });

  it.each([
    ['a string', 'yes', '"yes"'],
    ['a number', 0, '0'],
    ['null', null, 'null'],
  ])('rejects %s as exit, saying true, false or a function is expected', (_what, value, shown) => {
    const error = invalidOption(() => createLifecycle({ logger: false, exit: value } as unknown as LifecycleOptions));
    expectNamed(error, 'exit', shown);
    expect(error.message).toMatch(/true, false or a function/);
  });

  it.each([
    ['a misspelt choice', 'after-warm-up', '"after-warm-up"'],
    ['true', true, 'true'],
  ])('rejects %s as openMainPort, listing the two choices', (_what, value, shown) => {
    const error = invalidOption(() => create({ openMainPort: value }));
    expectNamed(error, 'openMainPort', shown);
    expect(error.message).toContain('"before-warmup" or "after-warmup"');
  });

  it.each([
    ['an empty path', '', '""'],
    ['true', true, 'true'],
    ['a number', 42, '42'],
  ])('rejects %s as terminationMessagePath, saying a path or false is expected', (_what, value, shown) => {
    expectNamed(invalidOption(() => create({ terminationMessagePath: value })), 'terminationMessagePath', shown);
  });

  it('accepts false and a path as terminationMessagePath', () => {
    expect(() => create({ terminationMessagePath: false })).not.toThrow();
    expect(() => create({ terminationMessagePath: '/tmp/termination-log' })).not.toThrow();
  });
});

describe('exitCodes.forcedBase fits every configured signal in an exit status', () => {
  // The kernel keeps the low 8 bits of an exit status: forcedBase + n above 255 would be reported
  // as something else entirely (128 + 137 = 265 reaches Kubernetes as 9).
  it.each([
    ['the default signals (SIGTERM is 15)', undefined, 'SIGTERM', 15],
    ['SIGUSR2 (12)', ['SIGUSR2'], 'SIGUSR2', 12],
    ['SIGHUP next to SIGSYS (31)', ['SIGHUP', 'SIGSYS'], 'SIGSYS', 31],
  ] as Array<[string, string[] | undefined, string, number]>)('with %s: accepts 255 - n and refuses one more, naming the option, the value and the signal', (_what, signals, largest, n) => {
    const options: LooseOptions = signals === undefined ? {} : { signals };
    expect(() => create({ ...options, exitCodes: { forcedBase: 255 - n } })).not.toThrow();
    const error = invalidOption(() => create({ ...options, exitCodes: { forcedBase: 256 - n } }));
    expectNamed(error, 'exitCodes.forcedBase', String(256 - n));
    expect(error.message).toContain(`at most ${255 - n}`);
    expect(error.message).toContain(`${largest} is ${n}`);
  });

  it('refuses the base that reported 265 for SIGTERM where the process really exited 9', () => {
    expectNamed(invalidOption(() => create({ exitCodes: { forcedBase: 250 } })), 'exitCodes.forcedBase', '250');
  });

  it('only checks the range 0–255 when signals is false (no signal ever forces an exit)', () => {
    expect(() => create({ signals: false, exitCodes: { forcedBase: 255 } })).not.toThrow();
  });
});

describe('the replaced eventLoop option', () => {
  it.each([[{ maxDelayMs: 100, windowMs: 1000 }], [{ maxDelayMs: 100 }], [{}]])(
    'is rejected (%j) with an error that names liveness.heartbeatTimeoutMs, the option that replaced it',
    (eventLoop) => {
      const error = invalidOption(() => create({ eventLoop }));
      expect(error.option).toBe('eventLoop');
      expect(error.message).toContain('liveness: { heartbeatTimeoutMs }');
      expect(error.message).toContain('Migrating from eventLoop');
    },
  );

  it('has a successor that takes its window: liveness.heartbeatTimeoutMs from 1000 ms, 5000 by default', () => {
    expect(DEFAULTS.liveness.heartbeatTimeoutMs).toBe(5000);
    expect(() => create({ liveness: { heartbeatTimeoutMs: 1000 } })).not.toThrow();
    expect(() => create({ liveness: {} })).not.toThrow();
    expect(() => create({ probes: { thread: 'main' } })).not.toThrow();
    expect(DEFAULTS.probes.thread).toBe('worker');
  });
});

describe('createLifecycle rejects option names it does not know', () => {
  it.each([
    [{ drainDelay: 5000 }, 'drainDelay'],
    [{ probes: { prot: 9000 } }, 'probes.prot'],
    [{ exitCodes: { foo: 3 } }, 'exitCodes.foo'],
    [{ checks: { x: 1 } }, 'checks.x'],
    [{ warmup: { timeout: 10 } }, 'warmup.timeout'],
    [{ hooks: { timeoutMS: 10 } }, 'hooks.timeoutMS'],
    [{ liveness: { windowMs: 10_000 } }, 'liveness.windowMs'],
  ] as Array<[LooseOptions, string]>)('rejects %j naming %s and listing the known names', (options, option) => {
    const error = invalidOption(() => create(options));
    expect(error.option).toBe(option);
    expect(error.message).toContain(`"${option}"`);
    expect(error.message).toContain('no such option (known: ');
  });

  it('lists the real name next to a misspelt one (probes.prot → port)', () => {
    const error = invalidOption(() => create({ probes: { prot: 9000 } }));
    expect(error.message).toMatch(/known: port, /);
  });

  it('rejects options, probes and checks that are not objects', () => {
    expect(invalidOption(() => createLifecycle(42 as unknown as LifecycleOptions)).option).toBe('options');
    expectNamed(invalidOption(() => create({ probes: 9000 })), 'probes', '9000');
    expectNamed(invalidOption(() => create({ checks: [] })), 'checks', 'an array ([])');
  });

  it('accepts probes: false (probe routes mounted on the app instead)', () => {
    expect(() => create({ probes: false })).not.toThrow();
  });
});

describe('drainDelayMs defaults to 5000 inside Kubernetes and 0 elsewhere', () => {
  it('keeps both defaults in the DEFAULTS object', () => {
    expect(DEFAULTS.drainDelayMsInKubernetes).toBe(5000);
    expect(DEFAULTS.drainDelayMsElsewhere).toBe(0);
  });

  it('uses 5000 ms when KUBERNETES_SERVICE_HOST is set: a 4000 ms shutdown budget cannot hold it', () => {
    vi.stubEnv('KUBERNETES_SERVICE_HOST', '10.96.0.1');
    const error = invalidOption(() => create({ shutdownTimeoutMs: 4000 }));
    expectNamed(error, 'drainDelayMs', '5000');
    expect(() => create({ shutdownTimeoutMs: 5001 })).not.toThrow();
  });

  it('uses 0 ms outside Kubernetes: a 1 ms shutdown budget is accepted', () => {
    vi.stubEnv('KUBERNETES_SERVICE_HOST', '');
    expect(() => create({ shutdownTimeoutMs: 1 })).not.toThrow();
  });

  it('reads the environment when the lifecycle is created, not when the module was imported', () => {
    vi.stubEnv('KUBERNETES_SERVICE_HOST', '');
    expect(() => create({ shutdownTimeoutMs: 4000 })).not.toThrow();
    vi.stubEnv('KUBERNETES_SERVICE_HOST', 'kubernetes.default.svc');
    expect(() => create({ shutdownTimeoutMs: 4000 })).toThrow(InvalidOptionError);
  });
});

describe('per-call options and names', () => {
  const ok = () => true;

  it.each([
    ['a negative interval', { intervalMs: -5 }, 'intervalMs', '-5'],
    ['a zero timeout', { timeoutMs: 0 }, 'timeoutMs', '0'],
    ['a huge timeout', { timeoutMs: 1e12 }, 'timeoutMs', '1000000000000'],
    ['a zero failure threshold', { failureThreshold: 0 }, 'failureThreshold', '0'],
    ['a non-boolean critical', { critical: 0 }, 'critical', '0'],
    ['an unknown name', { interval: 100 }, 'interval', '100'],
  ] as Array<[string, LooseOptions, string, string]>)('check() rejects %s, naming the check and the option', (_what, options, key, shown) => {
    const lifecycle = create({});
    const error = invalidOption(() => lifecycle.check('db', ok, options));
    expectNamed(error, `check "db" options.${key}`, shown);
  });

  it('check() rejects options that are not an object', () => {
    const lifecycle = create({});
    expectNamed(invalidOption(() => lifecycle.check('db', ok, 'fast' as never)), 'check "db" options', '"fast"');
  });

  it.each([
    ['a negative timeout', { timeoutMs: -1 }, 'timeoutMs', '-1'],
    ['a non-integer timeout', { timeoutMs: 0.5 }, 'timeoutMs', '0.5'],
    ['an unknown name', { timeout: 100 }, 'timeout', '100'],
  ] as Array<[string, LooseOptions, string, string]>)('warmup() and onShutdown() reject %s', (_what, options, key, shown) => {
    const lifecycle = create({});
    expectNamed(invalidOption(() => lifecycle.warmup('cache', ok, options)), `warmup "cache" options.${key}`, shown);
    expectNamed(invalidOption(() => lifecycle.onShutdown('pool', ok, options)), `shutdown hook "pool" options.${key}`, shown);
  });

  it.each([
    ['an empty name', ''],
    ['a blank name', '   '],
    ['a name with a space', 'my check'],
    ['a name with a slash (it would not route under /readyz/<name>)', 'db/primary'],
    ['a name that is not a string', 42],
  ])('rejects %s for a check, a warmup and a shutdown hook', (_what, name) => {
    const lifecycle = create({});
    for (const [kind, register] of [
      ['check', () => lifecycle.check(name as string, ok)],
      ['warmup', () => lifecycle.warmup(name as string, ok)],
      ['shutdown hook', () => lifecycle.onShutdown(name as string, ok)],
    ] as const) {
      const error = invalidOption(register);
      expect(error.option).toBe(`${kind} name`);
      expect(error.value).toBe(name);
    }
  });

  it('rejects a second check, warmup or shutdown hook with a name already taken (ERR_PODKIT_DUPLICATE_NAME)', () => {
    const lifecycle = create({});
    lifecycle.check('db', ok).warmup('db', ok).onShutdown('db', ok);
    for (const register of [() => lifecycle.check('db', ok), () => lifecycle.warmup('db', ok), () => lifecycle.onShutdown('db', ok)]) {
      let thrown: unknown;
      try {
        register();
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(PodkitError);
      expect((thrown as PodkitError).code).toBe('ERR_PODKIT_DUPLICATE_NAME');
      expect((thrown as PodkitError).message).toContain('"db"');
    }
  });

  it.each([
    ['a string', 'SELECT 1'],
    ['a promise', Promise.resolve(true)],
    ['undefined', undefined],
  ])('rejects %s instead of a check, warmup or hook function', (_what, value) => {
    const lifecycle = create({});
    expect(invalidOption(() => lifecycle.check('db', value as never)).option).toBe('check function');
    expect(invalidOption(() => lifecycle.warmup('db', value as never)).option).toBe('warmup function');
    expect(invalidOption(() => lifecycle.onShutdown('db', value as never)).option).toBe('shutdown hook function');
  });

  it.each([
    ['an empty name', ''],
    ['a name that is not a string', undefined],
  ])('hold() rejects %s', (_what, name) => {
    const lifecycle = create({});
    expect(invalidOption(() => lifecycle.hold(name as string)).option).toBe('hold name');
  });

  it('hold() accepts the same name twice (several consumers of one queue)', () => {
    const lifecycle = create({});
    expect(() => [lifecycle.hold('consumer'), lifecycle.hold('consumer')]).not.toThrow();
  });

  it('on() rejects an event name it does not know instead of subscribing to nothing', () => {
    const lifecycle = create({});
    const error = invalidOption(() => lifecycle.on('ready' as never, () => {}));
    expectNamed(error, 'on(event)', '"ready"');
    expect(error.message).toContain('state, check, warmup, hook, exit');
  });

  it('on() rejects a listener that is not a function', () => {
    const lifecycle = create({});
    expect(invalidOption(() => lifecycle.on('state', 'log' as never)).option).toBe('on("state", listener)');
  });
});

describe('longLived options', () => {
  it('accepts the defaults and a full set', () => {
    expect(() => create({})).not.toThrow();
    expect(() => create({ longLived: { closeWindowMs: 0, closeTimeoutMs: 500, budgetMs: 2000, webSocketGoodbye: 'app', sseRetryMs: 1000 } })).not.toThrow();
    expect(DEFAULTS.longLived.webSocketGoodbye).toBe('podkit');
  });

  it('rejects a close window as long as the budget that bounds it', () => {
    expectNamed(invalidOption(() => create({ longLived: { closeWindowMs: 3000 } })), 'longLived.closeWindowMs', '3000');
  });

  it('rejects an unknown goodbye, an unknown key and a zero budget', () => {
    expectNamed(invalidOption(() => create({ longLived: { webSocketGoodbye: 'library' } })), 'longLived.webSocketGoodbye', '"library"');
    expect(invalidOption(() => create({ longLived: { closeWindow: 5 } })).option).toContain('longLived');
    expect(invalidOption(() => create({ longLived: { budgetMs: 0 } })).option).toBe('longLived.budgetMs');
  });
});
