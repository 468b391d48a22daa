/** Every default of @podkit/grpc, in one place; the README's option tables are written from it. */
export const GRPC_DEFAULTS = {
  /** Name of the server's warmup and of its shutdown hold (log lines say it). */
  name: 'grpc',
  /** Add `grpc.health.v1.Health` to the server. */
  health: true,
  /** Deadline of the server's Health/Check RPC to itself, in ms. */
  selfCheckDeadlineMs: 5000,
  /** Deadline of a client warmup's Health/Check RPC, in ms. */
  clientDeadlineMs: 5000,
  /** The service name a client warmup or check asks about: '' is the server's overall health. */
  service: '',
} as const;
