/**
 * redactSecrets(): the one rule that every log line, probe output (with probes.exposeErrors) and the
 * termination message go through. One table: what goes in, what comes out.
 */
import { describe, expect, it } from 'vitest';
import { redactSecrets } from '@podkit/lifecycle';

/** [what it shows, input, expected]. A row whose input equals its output has nothing to redact. */
const TABLE: ReadonlyArray<readonly [string, string, string]> = [
  // URL userinfo: to the last '@' before the path, so a raw '@' in the password does not leak the rest.
  ['postgres URL', 'connect failed: postgres://app:hunter2@db.internal:5432/app', 'connect failed: postgres://***@db.internal:5432/app'],
  ['redis URL without user', 'redis://:hunter2@cache:6379/0', 'redis://***@cache:6379/0'],
  ['rediss URL', 'rediss://default:hunter2@cache:6380', 'rediss://***@cache:6380'],
  ['mongodb+srv URL, query kept', 'mongodb+srv://app:hunter2@cluster0.example.net/db?retryWrites=true', 'mongodb+srv://***@cluster0.example.net/db?retryWrites=true'],
  ['http URL in a sentence', 'GET http://user:hunter2@api.internal/v1 failed', 'GET http://***@api.internal/v1 failed'],
  ['two URLs', 'two: postgres://a:hunter2@x/db and http://b:hunter2@y/z', 'two: postgres://***@x/db and http://***@y/z'],
  ['password holding a raw @', 'postgres://app:p@ss@w0rd@db.internal:5432/app', 'postgres://***@db.internal:5432/app'],

  // key=value and key: value, with the key anywhere in a longer name.
  ['password=, next pair kept', 'password=hunter2 host=db', 'password=*** host=db'],
  ['password=, comma and next pair kept', 'password=x, host=db', 'password=***, host=db'],
  ['PGPASSWORD:', 'PGPASSWORD: hunter2', 'PGPASSWORD: ***'],
  ['DB_PASSWORD=', 'DB_PASSWORD=hunter2', 'DB_PASSWORD=***'],
  ['DB_PASS=', 'DB_PASS=hunter2 DB_HOST=db', 'DB_PASS=*** DB_HOST=db'],
  ['passwd=', 'passwd=hunter2', 'passwd=***'],
  ['pwd=', 'MYSQL_PWD=hunter2', 'MYSQL_PWD=***'],
  ['pass=', 'pass=hunter2', 'pass=***'],
  ['passphrase=', 'passphrase=hunter2', 'passphrase=***'],
  ['secret=', 'secret=hunter2', 'secret=***'],
  ['client_secret=', 'client_secret=hunter2 grant=code', 'client_secret=*** grant=code'],
  ['AWS_SECRET_ACCESS_KEY=', 'AWS_SECRET_ACCESS_KEY=hunter2', 'AWS_SECRET_ACCESS_KEY=***'],
  ['token:', 'token: hunter2', 'token: ***'],
  ['quoted value with a space', 'token: "hunter 2"', 'token: "***"'],
  ['api_key / apikey / apiKey / api-key', 'api_key=hunter2; apikey=hunter2; apiKey: hunter2; api-key=hunter2', 'api_key=***; apikey=***; apiKey: ***; api-key=***'],
  ['X-Api-Key header', 'X-Api-Key: hunter2', 'X-Api-Key: ***'],
  ['auth=', 'auth=hunter2', 'auth=***'],
  ['credentials:', 'credentials: hunter2', 'credentials: ***'],
  ['private_key=', 'private_key=hunter2', 'private_key=***'],
  ['SQL Server connection string, other keys kept', 'Server=db;User Id=app;Password=hunter2;Database=orders', 'Server=db;User Id=app;Password=***;Database=orders'],
  ['libpq keyword string', 'host=db user=app password=hunter2 dbname=orders', 'host=db user=app password=*** dbname=orders'],

  // JSON and object literals: the quotes stay, so JSON stays JSON.
  ['JSON password', '{"password":"hunter2","host":"db"}', '{"password":"***","host":"db"}'],
  ['JSON token with a space', '{"token": "hunter2"}', '{"token": "***"}'],
  ['JSON value with an escaped quote', '{"password":"hun\\"ter2","host":"db"}', '{"password":"***","host":"db"}'],
  ['nested JSON: the object is kept, its secret goes', '{"credentials":{"user":"app","password":"hunter2"}}', '{"credentials":{"user":"app","password":"***"}}'],
  ['single-quoted (Python, JS)', "{'password': 'hunter2'}", "{'password': '***'}"],
  ['a quote that never closes: to the end of the line', 'password: "hunter2 and more\nnext line', 'password: "***\nnext line'],

  // Authorization headers and bearer tokens: the scheme stays.
  ['Authorization: Bearer', 'Authorization: Bearer hunter2', 'Authorization: Bearer ***'],
  ['authorization: Basic', 'authorization: Basic aHVudGVyMjpodW50ZXIy', 'authorization: Basic ***'],
  ['Proxy-Authorization', 'Proxy-Authorization: Basic aHVudGVyMg==', 'Proxy-Authorization: Basic ***'],
  ['bare Bearer', 'the upstream rejected Bearer hunter2.abc-def', 'the upstream rejected Bearer ***'],
  ['"bearer token" is a phrase, not a token', 'missing bearer token', 'missing bearer token'],

  // Query strings and signed URLs: the other parameters stay.
  ['?api_key=', 'GET /v1/orders?api_key=hunter2&x=1', 'GET /v1/orders?api_key=***&x=1'],
  ['access_token / refresh_token', '/cb?access_token=hunter2&refresh_token=hunter2&state=ok', '/cb?access_token=***&refresh_token=***&state=ok'],
  ['id_token=', '/cb?id_token=hunter2', '/cb?id_token=***'],
  ['sig= and signature=', '/x?sig=hunter2&signature=hunter2&v=1', '/x?sig=***&signature=***&v=1'],
  [
    'S3 presigned URL',
    'https://b.s3.amazonaws.com/o?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAHUNTER2%2F20260101&X-Amz-Security-Token=hunter2&X-Amz-Signature=hunter2&X-Amz-Expires=60',
    'https://b.s3.amazonaws.com/o?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=***&X-Amz-Security-Token=***&X-Amz-Signature=***&X-Amz-Expires=60',
  ],
  [
    'GCS signed URL',
    'https://storage.googleapis.com/b/o?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=svc%40p.iam&X-Goog-Signature=hunter2',
    'https://storage.googleapis.com/b/o?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=***&X-Goog-Signature=***',
  ],
  // Azure SAS: `sig` is the signature; `se` (expiry) and `sp` (permissions) are not secret and tell why a SAS failed.
  ['Azure SAS', 'https://a.blob.core.windows.net/c/b?sv=2024-11-04&se=2026-01-01T00%3A00Z&sp=r&sig=hunter2%3D', 'https://a.blob.core.windows.net/c/b?sv=2024-11-04&se=2026-01-01T00%3A00Z&sp=r&sig=***'],
  ['Google ?key=', 'https://maps.googleapis.com/api?key=AIzahunter2&q=x', 'https://maps.googleapis.com/api?key=***&q=x'],
  ['HTML-escaped &amp;key=', '/api?q=x&amp;key=hunter2', '/api?q=x&amp;key=***'],

  // PEM private keys.
  ['PEM private key', 'key: -----BEGIN RSA PRIVATE KEY-----\nMIIEhunter2\n-----END RSA PRIVATE KEY----- loaded', 'key: -----BEGIN RSA PRIVATE KEY-----***-----END RSA PRIVATE KEY----- loaded'],

  // Nothing to redact: left as it is.
  ['a refused connection', 'connect ECONNREFUSED 127.0.0.1:5432', 'connect ECONNREFUSED 127.0.0.1:5432'],
  ['an @ in a path', 'see https://example.com/users/a@b for details', 'see https://example.com/users/a@b for details'],
  ['an e-mail address', 'mailto admin@example.com', 'mailto admin@example.com'],
  ['a timeout', 'timeout after 1000 ms', 'timeout after 1000 ms'],
  ['words that only contain a short key', 'bypass=1 compass: north author: ann', 'bypass=1 compass: north author: ann'],
  ['a signal name', 'signal: SIGTERM', 'signal: SIGTERM'],
  ['a check named after a token service', 'check "token-cache" failing', 'check "token-cache" failing'],
  ['a query string without secrets', '/readyz?verbose&exclude=redis', '/readyz?verbose&exclude=redis'],
  ['podkit reasons', 'warmup "cache" failed: cache unreachable; second SIGTERM during shutdown', 'warmup "cache" failed: cache unreachable; second SIGTERM during shutdown'],
];

describe('redactSecrets()', () => {
  it.each(TABLE)('%s', (_what, input, expected) => {
    expect(redactSecrets(input)).toBe(expected);
    // Redacting twice changes nothing more: a line may pass the rule at a call site and in the logger.
    expect(redactSecrets(expected)).toBe(expected);
  });

  it('stays fast on a 100 KiB hostile message (the rules are linear)', () => {
    const hostile = ['tokentoken'.repeat(10_240), 'password:"\\"'.repeat(9000), '?exclude='.repeat(12_000), 'Bearer '.repeat(15_000), `x://${'a'.repeat(100_000)}`];
    const started = performance.now();
    for (const text of hostile) redactSecrets(text);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
