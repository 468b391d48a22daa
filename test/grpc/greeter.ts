/**
 * A client for the gRPC example (examples/grpc), loaded from its .proto with @grpc/proto-loader as
 * any client of the service would, plus the example's entry points for forked runs.
 */
import { fileURLToPath } from 'node:url';
import { credentials, loadPackageDefinition, type ChannelOptions, type Client, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { codeName } from './helpers.js';

export const EXAMPLE_SOURCE = new URL('../../examples/grpc/src/main.ts', import.meta.url);
export const EXAMPLE_DIST = new URL('../../examples/grpc/dist/main.js', import.meta.url);
const PROTO = fileURLToPath(new URL('../../examples/grpc/proto/greeter/v1/greeter.proto', import.meta.url));

interface HelloReply {
  message: string;
  index: number;
  replica: string;
}

type GreeterInstance = Client & {
  SayHello(request: { name: string; delayMs: number }, options: { deadline?: number }, callback: (error: ServiceError | null, reply?: HelloReply) => void): unknown;
  StreamHellos(request: { name: string; count: number; intervalMs: number }, options?: { deadline?: number }): ClientReadableStream<HelloReply>;
};
type GreeterConstructor = new (address: string, creds: ReturnType<typeof credentials.createInsecure>, options?: ChannelOptions) => GreeterInstance;

const loaded = loadPackageDefinition(loadSync(PROTO, { defaults: true })) as unknown as { greeter: { v1: { Greeter: GreeterConstructor } } };

export function greeterClient(target: string, options: ChannelOptions = {}): GreeterInstance {
  return new loaded.greeter.v1.Greeter(target, credentials.createInsecure(), options);
}

export type RpcOutcome = { ok: true; at: number; replica: string } | { ok: false; at: number; code: string; details: string };

export function sayHello(client: GreeterInstance, delayMs: number, deadlineMs = 15_000): Promise<RpcOutcome> {
  return new Promise((resolve) => {
    client.SayHello({ name: 'test', delayMs }, { deadline: Date.now() + deadlineMs }, (error, reply) => {
      const at = performance.now();
      resolve(error ? { ok: false, at, code: codeName(error.code), details: error.details } : { ok: true, at, replica: reply!.replica });
    });
  });
}

export interface StreamOutcome {
  ok: boolean;
  items: number;
  code: string;
  details: string;
  at: number;
}

/** A server stream; ok only when it ended OK with every message asked for. */
export function streamHellos(client: GreeterInstance, count: number, intervalMs: number, deadlineMs = 15_000): Promise<StreamOutcome> {
  return new Promise((resolve) => {
    const stream = client.StreamHellos({ name: 'test', count, intervalMs }, { deadline: Date.now() + deadlineMs });
    let items = 0;
    stream.on('data', () => (items += 1));
    stream.on('error', () => {});
    stream.on('status', (s: { code: number; details: string }) => {
      resolve({ ok: s.code === 0 && items === count, items, code: codeName(s.code), details: s.details, at: performance.now() });
    });
  });
}
