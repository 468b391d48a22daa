/**
 * What counts as a secret, in one table. Error messages from database and HTTP clients carry
 * connection strings, passwords, tokens and signed URLs. Three places show such text, and all three
 * go through this module: every log line (the logger is wrapped once, in `redactingLogger`), probe
 * bodies with `probes.exposeErrors` (by default they show only a short, safe kind such as
 * `ECONNREFUSED` or `timeout`), and the termination message.
 *
 * Each rule replaces the secret with `***` and keeps what surrounds it (the key, the scheme, the
 * host, the next parameter), so a redacted line still says what went wrong and where.
 */

/**
 * Words that name a secret anywhere in a key, with any prefix or suffix: `DB_PASSWORD`,
 * `PGPASSWORD`, `client_secret`, `accessToken`, `X-Amz-Signature`, `X-Amz-Credential`, `X-Api-Key`.
 */
const SECRET_WORDS = ['password', 'passwd', 'passphrase', 'secret', 'token', 'api[-_]?key', 'credential', 'authorization', 'private[-_]?key', 'signature'];
/**
 * Short words that name a secret only as a whole key or after a separator (`DB_PASS`, `MYSQL_PWD`,
 * `X-Auth`, Azure SAS's `sig`), so that `bypass=1` or `compass: north` stay as they are.
 */
const SHORT_SECRET_WORDS = ['pass', 'pwd', 'auth', 'sig'];
/** Authorization schemes kept in front of the redacted credentials (`Authorization: Bearer ***`). */
const AUTH_SCHEMES = 'Bearer|Basic|Digest|Negotiate|NTLM|Token|AWS4-HMAC-SHA256';

// Keys are bounded in length (40 characters either side of the word) and start where a key can
// start: the rules stay linear on a 100 KiB message, which may well be a remote server's reply.
const KEY = `(?<![\\w.-])(?:[\\w.-]{0,40}?(?:${SECRET_WORDS.join('|')})[\\w.-]{0,40}|(?:[\\w.-]{0,40}[_.-])?(?:${SHORT_SECRET_WORDS.join('|')}))`;

/** A key that names a secret, as a whole: for the keys of logged objects (`{ password: … }`, `headers.authorization`). */
const SECRET_KEY = new RegExp(`^${KEY}$`, 'i');

interface RedactionRule {
  /** What it catches, for the reader (the test table shows each at work). */
  name: string;
  pattern: RegExp;
  replace: (match: string, ...groups: string[]) => string;
}

/** Every rule, applied in this order. */
const RULES: readonly RedactionRule[] = [
  {
    name: 'PEM private key',
    pattern: /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
    replace: (_m, kind = '') => `-----BEGIN ${kind}PRIVATE KEY-----***-----END ${kind}PRIVATE KEY-----`,
  },
  {
    // The userinfo runs to the LAST '@' before the path: a password may hold a raw '@'
    // (postgres://user:p@ss@host), and stopping at the first one would print the rest of it.
    name: 'URL user and password',
    pattern: /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#]*@/gi,
    replace: (_m, scheme = '') => `${scheme}***@`,
  },
  {
    // key=value, key: value, "key": "value", 'key': 'value', and query parameters (?api_key=…&x=1).
    // A quoted value goes whole (quotes kept, so JSON stays JSON); one whose quote never closes on
    // its line (a message cut short) goes to the end of the line; a bare one ends at whitespace, a
    // comma, a semicolon, an '&' or a quote, so `password=x, host=db` keeps `host=db`.
    name: 'secret key and its value',
    pattern: new RegExp(
      `(${KEY}(?:\\\\?["'])?\\s*[=:]\\s*)((?:${AUTH_SCHEMES})\\s+)?("(?:[^"\\\\\\r\\n]|\\\\.)*"|'(?:[^'\\\\\\r\\n]|\\\\.)*'|["'][^\\r\\n]*|(?![{\\[])[^\\s,;&"']+)`,
      'gi',
    ),
    replace: (_m, key = '', scheme = '', value = '') => {
      const quote = value[0] === '"' || value[0] === "'" ? value[0] : '';
      const closed = quote !== '' && value.length > 1 && value.endsWith(quote);
      return `${key}${scheme}${quote}***${closed ? quote : ''}`;
    },
  },
  {
    // A bearer token on its own ("sent Bearer eyJhbGciOi…"), but not the phrase "bearer token".
    name: 'bearer token',
    pattern: /\b(Bearer\s+)(?!(?:tokens?|auth|authentication|authorization|scheme|realm|header|credentials?|required|missing|invalid|expired)\b)[A-Za-z0-9\-._~+/]+=*/gi,
    replace: (_m, scheme = '') => `${scheme}***`,
  },
  {
    // Short parameter names that are secrets in a query string only: Google's ?key=…
    name: 'query-string key',
    pattern: /([?&;](?:amp;)?key=)[^&#\s"']+/gi,
    replace: (_m, key = '') => `${key}***`,
  },
];

/**
 * Removes credentials from a text: `redis://user:pw@host` → `redis://***@host`, `password=x` →
 * `password=***`, `{"token":"x"}` → `{"token":"***"}`, `Authorization: Bearer x` →
 * `Authorization: Bearer ***`, `?X-Amz-Signature=x&y=1` → `?X-Amz-Signature=***&y=1`.
 */
export function redactSecrets(text: string): string {
  let out = text;
  for (const rule of RULES) out = out.replace(rule.pattern, rule.replace as (match: string, ...groups: unknown[]) => string);
  return out;
}

/** True when a property name names a secret (`password`, `DB_PASS`, `authorization`, `apiKey`): its value is never logged. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** A short, secret-free word for what went wrong: the error's code (ECONNREFUSED, ERR_PODKIT_TIMEOUT…) or its class. */
export function errorKind(error: unknown): string {
  if (error && typeof error === 'object') {
    const { kind, code, name } = error as { kind?: unknown; code?: unknown; name?: unknown };
    // A helper's error keeps its short kind (HTTP_503, REDIS_NOT_READY) for probes; its code is the family's.
    if (typeof kind === 'string' && /^[A-Z0-9_]{2,64}$/.test(kind)) return kind;
    if (typeof code === 'string' && /^[A-Z0-9_]{2,64}$/.test(code)) return code === 'ERR_PODKIT_TIMEOUT' ? 'timeout' : code;
    if (typeof name === 'string' && name !== 'Error' && /^[A-Za-z]{1,64}$/.test(name)) return name;
  }
  return 'error';
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : String(error);
}
