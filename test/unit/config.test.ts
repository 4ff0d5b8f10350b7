import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../config.js';
import { DEFAULT_REVIEW_SLA } from '../../domain/review/queue-priority.js';

describe('configuration', () => {
  it('has working defaults for the embedded mode', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 8080, databaseUrl: null, redisUrl: null, s3: null, dataDir: './data', declarationWaitMs: 300_000, clientKeyCacheMs: 5_000 });
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
    [{ REVIEW_SLA_STANDARD_MINUTES: '0' }, 'REVIEW_SLA_STANDARD_MINUTES'],
    [{ REVIEW_SLA_PROHIBITED_MINUTES: '2.5' }, 'REVIEW_SLA_PROHIBITED_MINUTES'],
    [{ REVIEW_SLA_VESSEL_BUFFER_MINUTES: '-5' }, 'REVIEW_SLA_VESSEL_BUFFER_MINUTES'],
    [{ LOGIN_MAX_FAILURES: '5', LOGIN_ACCOUNT_MAX_FAILURES: '4' }, 'LOGIN_ACCOUNT_MAX_FAILURES'],
    // a revoked key trusted for more than a minute is not a cache any more
    [{ CLIENT_KEY_CACHE_MS: '600000' }, 'CLIENT_KEY_CACHE_MS'],
    [{ CLIENT_KEY_CACHE_MS: '-1' }, 'CLIENT_KEY_CACHE_MS'],
  ])('fails fast on %o, naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^invalid configuration: ${variable} `));
  });

  it('review SLA minutes default to the domain defaults and are read per queue tier', () => {
    expect(loadConfig({}).review.sla).toEqual(DEFAULT_REVIEW_SLA);
    const c = loadConfig({ REVIEW_SLA_PROHIBITED_MINUTES: '5', REVIEW_SLA_PERISHABLE_MINUTES: '30', REVIEW_SLA_VESSEL_MINUTES: '90', REVIEW_SLA_AEO_MINUTES: '100', REVIEW_SLA_STANDARD_MINUTES: '480', REVIEW_SLA_VESSEL_BUFFER_MINUTES: '0' });
    expect(c.review.sla).toEqual({ minutes: { 'prohibited-alarm': 5, perishable: 30, 'vessel-closing': 90, 'aeo-advanced': 100, standard: 480 }, vesselBufferMinutes: 0 });
  });

  it('login lockouts: per address and per account', () => {
    expect(loadConfig({}).review.login).toMatchObject({ maxFailures: 5, accountMaxFailures: 20, lockoutMs: 900_000, failureWindowMs: 3_600_000 });
    expect(loadConfig({ LOGIN_MAX_FAILURES: '3', LOGIN_ACCOUNT_MAX_FAILURES: '3' }).review.login).toMatchObject({ maxFailures: 3, accountMaxFailures: 3 });
    expect(loadConfig({ LOGIN_MAX_FAILURES: '30' }).review.login).toMatchObject({ maxFailures: 30, accountMaxFailures: 120 });
  });
});
