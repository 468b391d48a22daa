/** redactSecrets(): what probe output (with probes.exposeErrors) and every log line go through. */
import { describe, expect, it } from 'vitest';
import { redactSecrets } from '@podkit/lifecycle';

describe('redactSecrets()', () => {
  it.each([
    ['connect failed: postgres://app:s3cr3t@db.internal:5432/app', 'connect failed: postgres://***@db.internal:5432/app'],
    ['redis://:s3cr3t@cache:6379/0', 'redis://***@cache:6379/0'],
    ['rediss://default:s3cr3t@cache:6380', 'rediss://***@cache:6380'],
    ['mongodb+srv://app:s3cr3t@cluster0.example.net/db?retryWrites=true', 'mongodb+srv://***@cluster0.example.net/db?retryWrites=true'],
    ['GET http://user:s3cr3t@api.internal/v1 failed', 'GET http://***@api.internal/v1 failed'],
    ['two: postgres://a:s3cr3t@x/db and http://b:s3cr3t@y/z', 'two: postgres://***@x/db and http://***@y/z'],
  ])('strips the user and password from a URL: %s', (input, expected) => {
    expect(redactSecrets(input)).toBe(expected);
  });

  it('strips a password that itself holds an unencoded "@"', () => {
    const out = redactSecrets('postgres://app:p@ss@w0rd@db.internal:5432/app');
    expect(out).toBe('postgres://***@db.internal:5432/app');
    expect(out).not.toContain('ss');
  });

  it.each([
    ['password=s3cr3t host=db', 'password=*** host=db'],
    ['PGPASSWORD: s3cr3t', 'PGPASSWORD: ***'],
    ['DB_PASSWORD=s3cr3t', 'DB_PASSWORD=***'],
    ['api_key=s3cr3t&x=1', 'api_key=***&x=1'],
    ['token: "s3 cr3t"', 'token: ***'],
  ])('strips key=value secrets: %s', (input, expected) => {
    expect(redactSecrets(input)).toBe(expected);
  });

  it.each([
    'connect ECONNREFUSED 127.0.0.1:5432',
    'see https://example.com/users/a@b for details',
    'mailto admin@example.com',
    'timeout after 1000 ms',
  ])('leaves a message without credentials as it is: %s', (input) => {
    expect(redactSecrets(input)).toBe(input);
  });
});
