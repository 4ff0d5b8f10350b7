import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../config.js';

describe('configuration', () => {
  it('has working defaults for the embedded mode', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 8080, databaseUrl: null, redisUrl: null, s3: null, dataDir: './data', declarationWaitMs: 300_000 });
  });

  it('reads numbers from text for every numeric variable the schema declares', () => {
    const c = loadConfig({ PORT: '9000', DOUBLE_BLIND_RATE: '0.25', LOGIN_RATE_LIMIT: '7', JOB_LOCK_MS: '1500' });
    expect([c.port, c.review.doubleBlindRate, c.review.login.rateLimit, c.jobLockMs]).toEqual([9000, 0.25, 7, 1500]);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ DOUBLE_BLIND_RATE: '1.5' }, 'DOUBLE_BLIND_RATE'],
    [{ S3_ENDPOINT: 'http://minio:9000' }, 'S3_ACCESS_KEY'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
  ])('fails fast on %o, naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^invalid configuration: ${variable} `));
  });
});
