/**
 * @podkit/fastify: the Fastify plugin of @podkit/lifecycle (Fastify 4 and 5).
 *
 *   await app.register(podkitFastify, { lifecycle });
 *   await lifecycle.start(app);   // listens on listen.port, runs warmups, becomes ready
 *
 * It decorates `fastify.lifecycle`, tells the core which server to drain and how to listen,
 * optionally mounts the probe routes, and ties `fastify.close()` to the lifecycle (see
 * close-tie.ts). Every timing and state decision is the core's, and so is following the requests.
 */
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { InvalidOptionError, type Lifecycle } from '@podkit/lifecycle';
import { assertLifecycle, attach, normalizeProbePrefix } from '@podkit/lifecycle/adapter';
import { tieCloseToLifecycle } from './close-tie.js';
import { mountProbeRoutes } from './probe-routes.js';

export interface PodkitFastifyOptions {
  /** The lifecycle this app belongs to, from `createLifecycle()`. Required. */
  lifecycle: Lifecycle;
  /**
   * Mount `/livez`, `/readyz`, `/readyz/<check>`, `/startupz` (and `/metrics` when enabled) on the
   * app's own port, optionally under a prefix. The separate probe port stays the default.
   * @default false
   */
  probeRoutes?: boolean | { prefix?: string };
  /**
   * Where `lifecycle.start(app)` listens, when the app is not listening yet. A listen error
   * (`EADDRINUSE`…) fails the start with `ERR_PODKIT_LISTEN_FAILED` and exit 75, as for any server.
   */
  listen?: {
    /** @default 3000 */
    port?: number;
    /** Listen on every interface: inside a pod the kubelet and the Service reach the pod IP, not loopback. @default '0.0.0.0' */
    host?: string;
  };
}

/** The plugin's defaults, in one place. */
export const PLUGIN_DEFAULTS = {
  probeRoutes: false,
  listen: { port: 3000, host: '0.0.0.0' },
} as const;

declare module 'fastify' {
  interface FastifyInstance {
    /** The lifecycle the app was registered with (`@podkit/fastify`). */
    lifecycle: Lifecycle;
  }
}

const plugin: FastifyPluginAsync<PodkitFastifyOptions> = async (fastify, options) => {
  const { lifecycle, prefix, listen } = resolvePluginOptions(options);

  fastify.decorate('lifecycle', lifecycle);
  // start(app) finds the server to drain and the way to listen here; the core attaches to the
  // server now, so it follows every connection from the first one.
  attach(lifecycle, fastify, {
    server: fastify.server,
    listen: () => fastify.listen(listen),
  });
  // No onRequest hook, and nothing else per request: the core follows the attached server's
  // connections (fastify.server, the user's own server with a serverFactory too), reads the
  // in-flight count off them while ready, and only when the drain begins listens to the server's
  // 'request' event, first in line. A hook would run for every request, ready or not, and any
  // hook puts Fastify on its slower hook-running path.
  if (prefix !== undefined) mountProbeRoutes(fastify, lifecycle, prefix);
  tieCloseToLifecycle(fastify, lifecycle);
};

function resolvePluginOptions(options: unknown): { lifecycle: Lifecycle; prefix: string | undefined; listen: { port: number; host: string } } {
  const o = (typeof options === 'object' && options !== null ? options : {}) as Partial<PodkitFastifyOptions>;
  const lifecycle = o.lifecycle;
  assertLifecycle(lifecycle, 'lifecycle');

  let prefix: string | undefined;
  const probeRoutes = o.probeRoutes ?? PLUGIN_DEFAULTS.probeRoutes;
  if (probeRoutes === true) prefix = '';
  else if (typeof probeRoutes === 'object' && probeRoutes !== null) prefix = normalizeProbePrefix(probeRoutes.prefix, 'probeRoutes.prefix');
  else if (probeRoutes !== false) throw new InvalidOptionError('probeRoutes', probeRoutes, 'true, false or { prefix: "/health" }');

  const listen = o.listen ?? {};
  if (typeof listen !== 'object' || listen === null) throw new InvalidOptionError('listen', listen, 'an object such as { port: 3000, host: "0.0.0.0" }');
  const port = listen.port ?? PLUGIN_DEFAULTS.listen.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidOptionError('listen.port', port, 'an integer port from 1 to 65535 (or 0 for any free port)');
  }
  const host = listen.host ?? PLUGIN_DEFAULTS.listen.host;
  if (typeof host !== 'string' || host === '') throw new InvalidOptionError('listen.host', host, 'a non-empty host name or address');
  return { lifecycle, prefix, listen: { port, host } };
}

/** The plugin. Register it on the root instance, before the routes. */
export const podkitFastify = fp(plugin, { name: '@podkit/fastify', fastify: '4.x || 5.x' });
