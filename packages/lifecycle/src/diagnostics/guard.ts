/**
 * Who may ask for a diagnostic: a caller from an allowed source address (403 otherwise) that sends
 * the bearer token (401 otherwise). Decided in the thread the probe listener runs in, before
 * anything is asked of the main thread: a refused request costs nothing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import type { ResolvedDiagnosticsOptions } from './options.js';

export interface Refusal {
  status: 401 | 403;
  reason: string;
}

/** `allow` as a node:net BlockList (used as an allow list): it matches IPv4-mapped IPv6 (`::ffff:10.0.0.1`) against IPv4 ranges too. */
function allowList(allow: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of allow) {
    const [address = '', bits] = entry.split('/');
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  return list;
}

/**
 * A fixed-length digest of each side, so the comparison takes the same time whatever the token's
 * length and however many leading bytes a guess gets right.
 */
function sameToken(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function createGuard(options: ResolvedDiagnosticsOptions): (remoteAddress: string | undefined, authorization: string | undefined) => Refusal | undefined {
  const allowed = allowList(options.allow);
  // Read once here (createLifecycle already refused an unset one), from this thread's environment:
  // a worker thread starts with a copy of the main thread's.
  const envToken = options.tokenFile === undefined ? process.env[options.tokenEnv]?.trim() : undefined;

  function expectedToken(): string | undefined {
    if (options.tokenFile === undefined) return envToken;
    try {
      // At each request: a Kubernetes Secret mounted as a file is updated in place when rotated.
      return readFileSync(options.tokenFile, 'utf8').trim() || undefined;
    } catch {
      return undefined;
    }
  }

  return (remoteAddress, authorization) => {
    const address = remoteAddress ?? '';
    const family = isIP(address);
    if (family === 0 || !allowed.check(address, family === 6 ? 'ipv6' : 'ipv4')) {
      return { status: 403, reason: 'source address not allowed (probes.diagnostics.allow)' };
    }
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
    const expected = expectedToken();
    // Fail closed: no token configured (an unreadable file) lets nobody in.
    if (!match || expected === undefined || !sameToken(match[1]!, expected)) {
      return { status: 401, reason: match ? 'wrong bearer token' : 'a bearer token is required' };
    }
    return undefined;
  };
}
