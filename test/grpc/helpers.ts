/**
 * gRPC test support: a health client (grpc-js, the service definition @podkit/grpc serves), Check
 * and Watch as promises, and a tiny JSON-encoded test service with a unary and a server-streaming
 * method, so in-process tests need no .proto file.
 */
import {
  credentials,
  makeGenericClientConstructor,
  status as GrpcStatus,
  type ChannelCredentials,
  type ChannelOptions,
  type Client,
  type ClientReadableStream,
  type ServiceDefinition,
  type ServiceError,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { HEALTH_SERVICE, type HealthCheckResponse } from '@podkit/grpc';

export const HealthClient = makeGenericClientConstructor(HEALTH_SERVICE, 'Health');
export type HealthClientInstance = InstanceType<typeof HealthClient>;

export function healthClient(target: string, creds: ChannelCredentials = credentials.createInsecure(), options: ChannelOptions = {}): HealthClientInstance {
  return new HealthClient(target, creds, options);
}

export type CheckResult = { status: string } | { code: number; codeName: string; details: string };

export const codeName = (code: number) => (GrpcStatus as unknown as Record<number, string>)[code] ?? String(code);

/** One Health/Check: the status, or the error's code. */
export function check(client: HealthClientInstance, service = '', deadlineMs = 3000): Promise<CheckResult> {
  return new Promise((resolve) => {
    const call = client.Check as (req: unknown, opts: unknown, cb: (e: ServiceError | null, r?: HealthCheckResponse) => void) => void;
    call.call(client, { service }, { deadline: Date.now() + deadlineMs }, (error, response) => {
      if (error) resolve({ code: error.code, codeName: codeName(error.code), details: error.details });
      else resolve({ status: response!.status });
    });
  });
}

export interface WatchStream {
  /** Every status received, in order, with the time it arrived (performance.now()). */
  readonly received: Array<{ status: string; at: number }>;
  /** Resolves with the next status not yet taken by next() (already received or future). */
  next(timeoutMs?: number): Promise<string>;
  /** Resolves when the stream ends, with its status code. */
  readonly ended: Promise<{ code: number; codeName: string; at: number }>;
  cancel(): void;
}

export function watch(client: HealthClientInstance, service = ''): WatchStream {
  const stream = (client.Watch as (req: unknown) => ClientReadableStream<HealthCheckResponse>).call(client, { service });
  const received: Array<{ status: string; at: number }> = [];
  let taken = 0;
  const waiters: Array<() => void> = [];
  stream.on('data', (message: HealthCheckResponse) => {
    received.push({ status: message.status, at: performance.now() });
    for (const wake of waiters.splice(0)) wake();
  });
  const ended = new Promise<{ code: number; codeName: string; at: number }>((resolve) => {
    stream.on('status', (s: { code: number }) => resolve({ code: s.code, codeName: codeName(s.code), at: performance.now() }));
  });
  // The status event carries the outcome; an 'error' event without a listener would throw.
  stream.on('error', () => {});
  return {
    received,
    ended,
    async next(timeoutMs = 5000) {
      const until = performance.now() + timeoutMs;
      while (received.length <= taken) {
        const left = until - performance.now();
        if (left <= 0) throw new Error(`no Watch message within ${timeoutMs} ms (received: ${received.map((r) => r.status).join(', ')})`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => (clearTimeout(timer), resolve()));
        });
      }
      return received[taken++]!.status;
    },
    cancel() {
      stream.cancel();
    },
  };
}

// --- a test service: JSON over gRPC, a unary method and a server-streaming one ---------------

const json = {
  serialize: (value: unknown) => Buffer.from(JSON.stringify(value)),
  deserialize: (buffer: Buffer) => JSON.parse(buffer.toString()) as unknown,
};

export const WORK_SERVICE: ServiceDefinition = {
  Work: {
    path: '/podkit.test.Work/Work',
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
  Count: {
    path: '/podkit.test.Work/Count',
    requestStream: false,
    responseStream: true,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Work({ ms }) answers { done: ms } after ms; Count({ n, everyMs }) streams { i } n times, everyMs apart. */
export const workImplementation: UntypedServiceImplementation = {
  Work(call: { request: { ms: number } }, callback: (e: null, r: unknown) => void) {
    void sleep(call.request.ms).then(() => callback(null, { done: call.request.ms }));
  },
  Count(call: { request: { n: number; everyMs: number }; write(m: unknown): void; end(): void; cancelled: boolean }) {
    void (async () => {
      for (let i = 0; i < call.request.n && !call.cancelled; i += 1) {
        call.write({ i });
        await sleep(call.request.everyMs);
      }
      call.end();
    })();
  },
};

export const WorkClient = makeGenericClientConstructor(WORK_SERVICE, 'Work');
export type WorkClientInstance = InstanceType<typeof WorkClient>;

export function work(client: Client, ms: number): Promise<{ ok: true; at: number } | { ok: false; code: string; details: string }> {
  return new Promise((resolve) => {
    const fn = (client as WorkClientInstance).Work as (req: unknown, cb: (e: ServiceError | null) => void) => void;
    fn.call(client, { ms }, (error) => {
      resolve(error ? { ok: false, code: codeName(error.code), details: error.details } : { ok: true, at: performance.now() });
    });
  });
}

export function count(client: Client, n: number, everyMs: number): Promise<{ items: number; code: string; at: number }> {
  return new Promise((resolve) => {
    const stream = ((client as WorkClientInstance).Count as (req: unknown) => ClientReadableStream<unknown>).call(client, { n, everyMs });
    let items = 0;
    stream.on('data', () => (items += 1));
    stream.on('error', () => {});
    stream.on('status', (s: { code: number }) => resolve({ items, code: codeName(s.code), at: performance.now() }));
  });
}
