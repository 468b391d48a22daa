/**
 * What the adapter packages export, as the API and the READMEs say: names, the plugin's metadata,
 * option errors, and types. The type assertions are checked by `pnpm typecheck` (tsc over test/),
 * the rest by vitest.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import fastify5 from 'fastify5';
import { createLifecycle, type Lifecycle } from '@podkit/lifecycle';
import * as expressAdapter from '@podkit/express';
import * as fastifyAdapter from '@podkit/fastify';
import podkitFastifyDefault, { podkitFastify, type PodkitFastifyOptions } from '@podkit/fastify';
import { createMiddleware, createProbeRouter } from '@podkit/express';

const quietLifecycle = () => createLifecycle({ probes: false, logger: false, exit: false, signals: false });

describe('@podkit/fastify exports', () => {
  it('exports the plugin as the default export and as podkitFastify, and nothing else', () => {
    expect(Object.keys(fastifyAdapter).sort()).toEqual(['default', 'podkitFastify']);
    expect(podkitFastifyDefault).toBe(podkitFastify);
    expect(typeof podkitFastify).toBe('function');
  });

  it('is a fastify-plugin named @podkit/fastify for Fastify 4.x || 5.x that does not encapsulate', () => {
    const plugin = podkitFastify as unknown as Record<symbol, unknown>;
    expect(plugin[Symbol.for('skip-override')]).toBe(true);
    expect(plugin[Symbol.for('fastify.display-name')]).toBe('@podkit/fastify');
    expect(plugin[Symbol.for('plugin-meta')]).toMatchObject({ name: '@podkit/fastify', fastify: '4.x || 5.x' });
  });

  it('types fastify.lifecycle as the Lifecycle once the package is imported', async () => {
    const lifecycle = quietLifecycle();
    const app = fastify5();
    await app.register(podkitFastify, { lifecycle });
    expect(app.lifecycle).toBe(lifecycle);
    expectTypeOf(app.lifecycle).toEqualTypeOf<Lifecycle>();
    expectTypeOf<PodkitFastifyOptions['lifecycle']>().toEqualTypeOf<Lifecycle>();
    await app.close();
  });
});

describe('@podkit/express exports', () => {
  it('exports createMiddleware and createProbeRouter, and nothing else', () => {
    expect(Object.keys(expressAdapter).sort()).toEqual(['createMiddleware', 'createProbeRouter']);
  });

  it('rejects what is not a lifecycle, naming the argument and the value received', () => {
    expect(() => createMiddleware(undefined as unknown as Lifecycle)).toThrow(
      expect.objectContaining({ code: 'ERR_PODKIT_INVALID_OPTION', option: 'createMiddleware(lifecycle)' }),
    );
    expect(() => createProbeRouter({} as Lifecycle)).toThrow(/createProbeRouter\(lifecycle\).*received \{\}/);
    expect(() => createProbeRouter(quietLifecycle(), { prefix: 'health' })).toThrow(
      expect.objectContaining({ code: 'ERR_PODKIT_INVALID_OPTION', option: 'prefix', value: 'health' }),
    );
  });
});

// Compile-time only: the options are typed.
export function typedOptions(lifecycle: Lifecycle): void {
  const app = fastify5();
  void app.register(podkitFastify, { lifecycle, probeRoutes: { prefix: '/health' }, listen: { port: 8080 } });
  // @ts-expect-error lifecycle is required
  void app.register(podkitFastify, { probeRoutes: true });
  // @ts-expect-error probeRoutes is a boolean or { prefix }
  void app.register(podkitFastify, { lifecycle, probeRoutes: 'yes' });
}
