/**
 * The options of the guarded diagnostics (`probes.diagnostics`): their types and their validation.
 * Their defaults are in DEFAULTS (options.ts), with every other default.
 */
import { isIP } from 'node:net';
import { InvalidOptionError } from '../errors.js';
import { bool, knownKeys, plainObject, positiveInteger } from '../validate.js';

/**
 * Heap snapshot, CPU profile and diagnostic report of the main thread, on the probe port, for
 * callers that have the bearer token AND come from an allowed address. Off by default.
 */
export interface DiagnosticsOptions {
  /** Serve `/debug/heap-snapshot`, `/debug/cpu-profile?seconds=N` and `/debug/report` on the probe port. @default false */
  enabled?: boolean;
  /**
   * The environment variable that holds the bearer token, read at `createLifecycle()` (a missing
   * or empty one is an option error there, unless `tokenFile` is set).
   * @default 'PODKIT_DIAGNOSTICS_TOKEN'
   */
  tokenEnv?: string;
  /**
   * A file that holds the bearer token (a mounted Kubernetes Secret); it wins over `tokenEnv`. Read
   * at each request, so a rotated Secret takes effect without a restart; missing or empty: every
   * request gets 401.
   * @default undefined
   */
  tokenFile?: string | undefined;
  /** Source addresses allowed, as addresses or CIDR ranges (IPv4 or IPv6); others get 403. @default ['127.0.0.0/8', '::1/128'] */
  allow?: string[];
  /**
   * The container's cgroup directory, where the memory limit and usage are read before a heap
   * snapshot (cgroup v2 `memory.max`/`memory.current`, or v1 `memory/memory.limit_in_bytes`).
   * @default '/sys/fs/cgroup'
   */
  cgroupRoot?: string;
  /** The longest CPU profile `?seconds=N` may ask for, in seconds. @default 60 */
  maxCpuProfileSeconds?: number;
}

export interface ResolvedDiagnosticsOptions {
  enabled: boolean;
  tokenEnv: string;
  tokenFile: string | undefined;
  allow: string[];
  cgroupRoot: string;
  maxCpuProfileSeconds: number;
}

/** A `/N` suffix within the address family's bits, or none. */
function isCidr(entry: string): boolean {
  const [address = '', bits, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

function nonEmptyString(name: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.trim() === '') throw new InvalidOptionError(name, value, 'a non-empty string');
  return value;
}

/** The defaults as DEFAULTS holds them (frozen). */
type DiagnosticsDefaults = Readonly<Omit<ResolvedDiagnosticsOptions, 'allow'>> & { readonly allow: readonly string[] };

export function resolveDiagnostics(value: unknown, d: DiagnosticsDefaults, env: NodeJS.ProcessEnv): ResolvedDiagnosticsOptions {
  const name = 'probes.diagnostics';
  if (value === undefined) return { ...d, allow: [...d.allow] };
  const o = plainObject(name, value);
  knownKeys(name, o, Object.keys(d));
  const allow = o.allow === undefined ? [...d.allow] : o.allow;
  if (!Array.isArray(allow) || allow.length === 0 || !allow.every((entry) => typeof entry === 'string' && isCidr(entry))) {
    throw new InvalidOptionError(`${name}.allow`, allow, 'a non-empty array of IP addresses or CIDR ranges, such as ["127.0.0.0/8", "::1/128", "10.0.0.0/8"]');
  }
  const resolved: ResolvedDiagnosticsOptions = {
    enabled: bool(`${name}.enabled`, o.enabled, d.enabled),
    tokenEnv: nonEmptyString(`${name}.tokenEnv`, o.tokenEnv, d.tokenEnv),
    tokenFile: o.tokenFile === undefined ? d.tokenFile : nonEmptyString(`${name}.tokenFile`, o.tokenFile, ''),
    allow: [...(allow as string[])],
    cgroupRoot: nonEmptyString(`${name}.cgroupRoot`, o.cgroupRoot, d.cgroupRoot),
    maxCpuProfileSeconds: positiveInteger(`${name}.maxCpuProfileSeconds`, o.maxCpuProfileSeconds, d.maxCpuProfileSeconds, 3600),
  };
  // Enabled without a token would answer 401 to everyone, forever: say so at construction.
  // (The value is never part of the message: only whether it is there.)
  if (resolved.enabled && resolved.tokenFile === undefined && !env[resolved.tokenEnv]?.trim()) {
    throw new InvalidOptionError(
      `${name}.tokenEnv`,
      resolved.tokenEnv,
      `the name of a set, non-empty environment variable holding the bearer token (${resolved.tokenEnv} is unset or empty), or probes.diagnostics.tokenFile`,
    );
  }
  return resolved;
}
