/**
 * The Greeter API (proto/greeter/v1/greeter.proto), loaded at start-up with @grpc/proto-loader, and
 * its implementation. Nothing here knows podkit: this is the service's own code.
 */
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadPackageDefinition, type Client, type ChannelCredentials, type ChannelOptions, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

export const PROTO_PATH = fileURLToPath(new URL('../proto/greeter/v1/greeter.proto', import.meta.url));

export interface HelloRequest {
  name: string;
  delayMs: number;
}
export interface StreamHellosRequest {
  name: string;
  count: number;
  intervalMs: number;
}
export interface HelloReply {
  message: string;
  index: number;
  replica: string;
}

/** Most a client may ask one call to take, so a request cannot hold a replica's drain for long, in ms. */
const MAX_DELAY_MS = 10_000;
const MAX_COUNT = 1000;

type GreeterClientConstructor = new (address: string, credentials: ChannelCredentials, options?: ChannelOptions) => Client;

interface GreeterPackage {
  greeter: { v1: { Greeter: GreeterClientConstructor & { service: ServiceDefinition } } };
}

const definition = loadSync(PROTO_PATH, { defaults: true });
const loaded = loadPackageDefinition(definition) as unknown as GreeterPackage;

export const GREETER_SERVICE = loaded.greeter.v1.Greeter.service;
/** A generated client: `new GreeterClient('host:50051', credentials.createInsecure())`. */
export const GreeterClient = loaded.greeter.v1.Greeter;

const replica = `${hostname()}/${process.pid}`;
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

interface UnaryCall<Req> {
  request: Req;
}
interface StreamCall<Req> {
  request: Req;
  cancelled: boolean;
  write(message: HelloReply): boolean;
  end(): void;
  on(event: 'cancelled', listener: () => void): unknown;
}

export const greeterImplementation: UntypedServiceImplementation = {
  SayHello(call: UnaryCall<HelloRequest>, callback: (error: null, reply: HelloReply) => void) {
    const delayMs = Math.min(call.request.delayMs, MAX_DELAY_MS);
    void sleep(delayMs).then(() => callback(null, { message: `hello, ${call.request.name || 'world'}`, index: 0, replica }));
  },
  StreamHellos(call: StreamCall<StreamHellosRequest>) {
    const count = Math.min(call.request.count, MAX_COUNT);
    const intervalMs = Math.min(call.request.intervalMs, MAX_DELAY_MS);
    const cancelled = new AbortController();
    call.on('cancelled', () => cancelled.abort());
    void (async () => {
      for (let index = 0; index < count && !call.cancelled; index += 1) {
        if (index > 0) await sleep(intervalMs, cancelled.signal);
        if (call.cancelled) return;
        call.write({ message: `hello #${index}, ${call.request.name || 'world'}`, index, replica });
      }
      call.end();
    })();
  },
};
