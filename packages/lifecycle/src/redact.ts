/**
 * Error messages from database and HTTP clients carry connection strings, user names and
 * passwords. Probe output never shows a message (only a short, safe kind such as `ECONNREFUSED`
 * or `timeout`) unless the user opts in; logs always get the credentials stripped.
 */

// The userinfo runs to the LAST '@' before the path: a password may hold a raw '@'
// (postgres://user:p@ss@host), and stopping at the first one would print the rest of it.
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#]*@/gi;
// No word boundary before the key: DB_PASSWORD=… and PGPASSWORD: … must match too.
const SECRET_PAIR = /(password|passwd|pwd|secret|token|api[-_]?key|auth)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&]+)/gi;

/** Removes credentials from a message: `redis://user:pw@host` → `redis://***@host`, `password=x` → `password=***`. */
export function redactSecrets(message: string): string {
  return message.replace(URL_USERINFO, '$1***@').replace(SECRET_PAIR, '$1$2***');
}

/** A short, secret-free word for what went wrong: the error's code (ECONNREFUSED, ERR_PODKIT_TIMEOUT…) or its class. */
export function errorKind(error: unknown): string {
  if (error && typeof error === 'object') {
    const { code, name } = error as { code?: unknown; name?: unknown };
    if (typeof code === 'string' && /^[A-Z0-9_]{2,64}$/.test(code)) return code === 'ERR_PODKIT_TIMEOUT' ? 'timeout' : code;
    if (typeof name === 'string' && name !== 'Error' && /^[A-Za-z]{1,64}$/.test(name)) return name;
  }
  return 'error';
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : String(error);
}
