/**
 * The main port: what start(target) opens or waits for. A target is a server, a function that
 * starts one (wrapping `app.listen`), or an app an adapter attached. Every way it can fail to open
 * is ERR_PODKIT_LISTEN_FAILED (or LISTEN_TIMEOUT, NO_SERVER), and a shutdown that begins while it
 * opens ends the wait.
 */
import type { AddressInfo } from 'node:net';
import { isMainServer } from './servers.js';
import type { MainServer } from './drain.js';
import { InvalidOptionError, PodkitError } from './errors.js';
import type { Parts } from './parts.js';
import { errorMessage } from './redact.js';

/** What `lifecycle.start()` accepts: a server, a function that starts one (wrapping `app.listen`), or an app an adapter attached. */
export type StartTarget = MainServer | (() => unknown) | object;

// A listen error the start server emitted before start() came to wait for it.
const earlyListenErrors = new WeakMap<MainServer, Error>();

/**
 * The server behind a start() target, when it can be known before anything is called: followed
 * (drained) from now on, and its listen error kept if it comes early.
 */
export function serverOf(parts: Parts, target: StartTarget | undefined): MainServer | undefined {
  const server = isMainServer(target) ? target : target !== undefined && typeof target !== 'function' ? parts.attached.get(target)?.server : undefined;
  if (!server) return undefined;
  parts.drain.attach(server);
  // `server.listen(port); lifecycle.start(server)`: a taken port is reported on the next tick,
  // while start() still opens the probe port. Unheard, that 'error' event would be thrown as an
  // uncaught exception (a crash, exit 70) instead of failing the start with the listen error.
  if (!server.listening) {
    const onError = (error: Error) => {
      earlyListenErrors.set(server, error);
      server.off('listening', onListening);
    };
    const onListening = () => server.off('error', onError);
    server.once('error', onError);
    server.once('listening', onListening);
  }
  return server;
}

/** Every way the main server can fail to open is ERR_PODKIT_LISTEN_FAILED, naming the probe port when that is the one it tried. */
function listenFailed(parts: Parts, error: unknown): PodkitError {
  if (error instanceof PodkitError) return error;
  const { code, port: triedPort } = (error ?? {}) as NodeJS.ErrnoException & { port?: number };
  // With probes.port 0 the configured port says nothing: compare with the port actually bound.
  const probePort = parts.runtime.probeAddress?.port ?? (parts.config.probes ? parts.config.probes.port : undefined);
  // Only when it really is the probe port: any other EADDRINUSE is somebody else's port.
  const hint =
    code === 'EADDRINUSE' && probePort !== undefined && triedPort === probePort
      ? ` (port ${probePort} is the probe listener's, probes.port: give the main server and the probes different ports)`
      : '';
  return new PodkitError('ERR_PODKIT_LISTEN_FAILED', `the main server could not listen: ${errorMessage(error)}${hint}`, { cause: error });
}

/**
 * Resolves once the server listens; rejects on its listen error, past `listenTimeoutMs`, or when
 * the shutdown begins (then start() has nothing left to wait for). The timer is ref'd: a server
 * nobody calls listen() on holds nothing else open, and the failure must still be reported.
 */
function waitListening(parts: Parts, server: MainServer): Promise<void> {
  if (server.listening) return Promise.resolve();
  const early = server === parts.runtime.startServer ? earlyListenErrors.get(server) : undefined;
  if (early) return Promise.reject(listenFailed(parts, early));
  const aborted = parts.warmupController.signal;
  if (aborted.aborted) return Promise.reject(aborted.reason);
  const { listenTimeoutMs } = parts.config;
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      server.off('listening', onListening);
      server.off('error', onError);
      aborted.removeEventListener('abort', onAbort);
    };
    const onListening = () => (done(), resolve());
    const onError = (error: Error) => (done(), reject(listenFailed(parts, error)));
    const onAbort = () => (done(), reject(aborted.reason));
    const timer = setTimeout(() => {
      done();
      reject(
        new PodkitError(
          'ERR_PODKIT_LISTEN_TIMEOUT',
          `the main server was not listening within ${listenTimeoutMs} ms (listenTimeoutMs): call server.listen() before or right after start(server), or pass a function that does, as in start(() => server.listen(port))`,
        ),
      );
    }, listenTimeoutMs);
    server.once('listening', onListening);
    server.once('error', onError);
    aborted.addEventListener('abort', onAbort, { once: true });
  });
}

/** Opens (or waits for) the main server of `target`; undefined when start() was given none. */
export async function openMainServer(parts: Parts, target: StartTarget | undefined): Promise<MainServer | undefined> {
  const { drain, runtime } = parts;
  let server: MainServer | undefined;
  if (typeof target === 'function') {
    let result: unknown;
    try {
      result = await (target as () => unknown)();
    } catch (error) {
      // start(fn)'s fn is what opens the main port (an async fn awaiting fastify.listen() throws
      // EADDRINUSE right here): its failure is a listen failure, not a warmup's.
      throw listenFailed(parts, error);
    }
    server = isMainServer(result) ? result : runtime.lastAttached?.server;
    if (!server) {
      throw new PodkitError(
        'ERR_PODKIT_NO_SERVER',
        'start(fn): fn returned no http.Server and no adapter attached one. Return the server (Express: () => app.listen(port)) or register the Fastify plugin first.',
      );
    }
    runtime.startServer = server;
  } else if (isMainServer(target)) {
    server = target;
  } else if (target !== undefined) {
    const app = parts.attached.get(target);
    if (!app) {
      throw new InvalidOptionError('start(target)', target, 'an http(s) or HTTP/2 server, a function that starts one, or an app registered with a podkit adapter');
    }
    server = app.server;
    if (!server.listening) {
      if (!app.listen) throw new PodkitError('ERR_PODKIT_NO_SERVER', 'start(app): the app is not listening and its adapter cannot start it.');
      drain.attach(server);
      try {
        await app.listen();
      } catch (error) {
        // Fastify's listen() rejects with the listen error itself (EADDRINUSE…).
        throw listenFailed(parts, error);
      }
    }
  }
  if (!server) return undefined;
  drain.attach(server);
  await waitListening(parts, server);
  const port = (server.address() as AddressInfo | null)?.port;
  if (runtime.probeAddress && port === runtime.probeAddress.port) {
    throw new InvalidOptionError('probes.port', runtime.probeAddress.port, 'a port other than the main server\'s');
  }
  return server;
}
