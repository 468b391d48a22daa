/**
 * What @podkit/grpc exports is what its README documents, its defaults are the ones the options
 * tables state, and the self-dial target is derived from the bound address as documented.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as grpcPackage from '@podkit/grpc';
import { selfTarget } from '../../packages/grpc/src/serve.js';

const readme = readFileSync(new URL('../../packages/grpc/README.md', import.meta.url), 'utf8');

describe('@podkit/grpc exports', () => {
  it('exports exactly the documented names, each in the README', () => {
    const names = ['GRPC_DEFAULTS', 'GrpcBindError', 'GrpcHealthError', 'HEALTH_SERVICE', 'grpcClientCheck', 'grpcClientWarmup', 'serveGrpc'];
    expect(Object.keys(grpcPackage).sort()).toEqual([...names].sort());
    for (const name of names) expect(readme, `README mentions ${name}`).toContain(`\`${name}`);
  });

  it('serves the grpc.health.v1.Health definition with Check, Watch and List', () => {
    expect(Object.keys(grpcPackage.HEALTH_SERVICE).sort()).toEqual(['Check', 'List', 'Watch']);
    expect(grpcPackage.HEALTH_SERVICE.Check!.path).toBe('/grpc.health.v1.Health/Check');
    expect(grpcPackage.HEALTH_SERVICE.Watch!.responseStream).toBe(true);
  });

  it('has the defaults the README states', () => {
    expect(grpcPackage.GRPC_DEFAULTS).toEqual({ name: 'grpc', health: true, selfCheckDeadlineMs: 5000, clientDeadlineMs: 5000, service: '' });
    expect(readme).toMatch(/\| `selfCheck\.deadlineMs` \| `number` \| `5000` \|/);
    expect(readme).toMatch(/\| `deadlineMs` \(warmup only\) \| `number` \| `5000` \|/);
    expect(readme).toMatch(/\| `name` \| `string` \| `'grpc'` \|/);
  });
});

describe('the address the server dials itself on', () => {
  it('is the bound host and port, with loopback for a wildcard', () => {
    expect(selfTarget('0.0.0.0:50051', 50051)).toBe('127.0.0.1:50051');
    expect(selfTarget('0.0.0.0:0', 41234)).toBe('127.0.0.1:41234');
    expect(selfTarget(':0', 41234)).toBe('127.0.0.1:41234');
    expect(selfTarget('[::]:50051', 50051)).toBe('[::1]:50051');
    expect(selfTarget('127.0.0.1:0', 41234)).toBe('127.0.0.1:41234');
    expect(selfTarget('localhost:50051', 50051)).toBe('localhost:50051');
    expect(selfTarget('dns:greeter.internal:50051', 50051)).toBe('greeter.internal:50051');
    expect(selfTarget('[fd00::5]:50051', 50051)).toBe('[fd00::5]:50051');
    expect(selfTarget('unix:/run/greeter.sock', 0)).toBe('unix:/run/greeter.sock');
  });

  it('uses selfCheck.host when given', () => {
    expect(selfTarget('0.0.0.0:50051', 50051, 'greeter.internal')).toBe('greeter.internal:50051');
    expect(selfTarget('0.0.0.0:50051', 50051, '[::1]')).toBe('[::1]:50051');
  });
});
