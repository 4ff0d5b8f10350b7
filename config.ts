// The one place that reads process.env: one schema, validated once at start; a bad value fails fast
// naming the variable. Everything else receives a Config.
import { randomBytes } from 'node:crypto';
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { DEFAULT_REVIEW_SLA, type ReviewSla } from './domain/review/queue-priority.js';
import { parseCidr } from './pipeline/webhook-destination.js';

const Env = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  HOST: Type.String({ default: '127.0.0.1' }),
  /** `npm run worker` serves Prometheus metrics on this port (0: off). */
  METRICS_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 9464 }),
  /** PostgreSQL URL; absent → embedded PGlite in DATA_DIR/db. */
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  /** Redis URL; absent → the embedded mode starts its own redis-server. */
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  /** BullMQ key prefix; use {tidewatch} on Redis Cluster so queue keys share a slot. */
  QUEUE_PREFIX: Type.String({ default: 'tidewatch', pattern: '^[A-Za-z0-9{}_-]+$' }),
  S3_ENDPOINT: Type.Optional(Type.String({ pattern: '^https?://' })),
  S3_ACCESS_KEY: Type.Optional(Type.String({ minLength: 1 })),
  S3_SECRET_KEY: Type.Optional(Type.String({ minLength: 1 })),
  S3_BUCKET: Type.String({ default: 'tidewatch', pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$' }),
  DATA_DIR: Type.String({ default: './data' }),
  MODELS_DIR: Type.String({ default: './models/registry' }),
  /** Largest upload body (all parts together). */
  MAX_UPLOAD_BYTES: Type.Integer({ minimum: 1024, default: 256 * 1024 * 1024 }),
  /** Largest image in pixels (width × height): stops decompression bombs before decoding. */
  MAX_IMAGE_PIXELS: Type.Integer({ minimum: 1, default: 40_000_000 }),
  /** Scans not finished after this long are re-enqueued by the sweeper. */
  SWEEP_IDLE_MS: Type.Integer({ minimum: 100, default: 30_000 }),
  SWEEP_INTERVAL_MS: Type.Integer({ minimum: 50, default: 5_000 }),
  /** Risk policy JSON; absent → domain/policy/default-policy.json. */
  POLICY_FILE: Type.Optional(Type.String({ minLength: 1 })),
  /** A candidate risk policy run in shadow mode beside the active one; its differences are recorded. */
  SHADOW_POLICY_FILE: Type.Optional(Type.String({ minLength: 1 })),
  /**
   * Candidate models (cards + .onnx) run in shadow mode: laid over MODELS_DIR by card name, run on every scan of
   * a modality they change, assessed beside the active models; only the active verdict acts.
   */
  SHADOW_MODELS_DIR: Type.Optional(Type.String({ minLength: 1 })),
  /** How long a scan waits for its declaration before review with DECLARATION_MISSING. */
  DECLARATION_WAIT_MS: Type.Integer({ minimum: 0, default: 300_000 }),
  /** A job's lock lifetime; a job of a killed worker is picked up again after about this long. */
  JOB_LOCK_MS: Type.Integer({ minimum: 500, default: 30_000 }),
  WORKER_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 256, default: 4 }),
  INFER_THREADS: Type.Integer({ minimum: 1, maximum: 64, default: 2 }),
  /** Worker processes run each model's session in a thread of its own, off the event loop ('false': on it). */
  INFER_OFF_THREAD: Type.Union([Type.Literal('true'), Type.Literal('false')], { default: 'true' }),
  /** HMAC key of the signed image URLs the review UI loads; absent → a random key per process (then every
   * API process behind one load balancer needs the same value set). */
  IMAGE_URL_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  /**
   * How long the API trusts an API client's key it has checked (0: every request reads the database). A revoked or
   * rotated key stops working within this time on every API process.
   */
  CLIENT_KEY_CACHE_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 5_000 }),
  /** How long a signed image URL stays valid. */
  IMAGE_URL_TTL_S: Type.Integer({ minimum: 10, maximum: 3600, default: 300 }),
  LOG_LEVEL: Type.Union(
    [Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug'), Type.Literal('trace'), Type.Literal('silent')],
    { default: 'info' },
  ),
  /** Review workflow: how long a user session lasts. */
  SESSION_TTL_MS: Type.Integer({ minimum: 1000, default: 8 * 3600_000 }),
  /** Failed logins from one address that lock the account for that address, and for how long. */
  LOGIN_MAX_FAILURES: Type.Integer({ minimum: 1, default: 5 }),
  LOGIN_LOCKOUT_MS: Type.Integer({ minimum: 1000, default: 15 * 60_000 }),
  /** Failed logins from all addresses together (each counting at most LOGIN_MAX_FAILURES) that lock the
   * account for every address; at least LOGIN_MAX_FAILURES; absent → 4 × LOGIN_MAX_FAILURES. */
  LOGIN_ACCOUNT_MAX_FAILURES: Type.Optional(Type.Integer({ minimum: 1 })),
  /** Failed logins older than this no longer count towards a lockout. */
  LOGIN_FAILURE_WINDOW_MS: Type.Integer({ minimum: 1000, default: 3600_000 }),
  /** Login attempts one address may make per window before 429 LOGIN_RATE_LIMITED. */
  LOGIN_RATE_LIMIT: Type.Integer({ minimum: 1, default: 20 }),
  LOGIN_RATE_WINDOW_MS: Type.Integer({ minimum: 1000, default: 60_000 }),
  /** A reviewer's claim on a queue item; renewable; expired leases return the item to the queue. */
  REVIEW_LEASE_MS: Type.Integer({ minimum: 100, default: 5 * 60_000 }),
  REVIEW_EXPIRY_INTERVAL_MS: Type.Integer({ minimum: 50, default: 5_000 }),
  /** Review SLA: minutes from entering the queue to the decision deadline, per queue tier; a vessel closing
   * sooner brings the deadline forward to REVIEW_SLA_VESSEL_BUFFER_MINUTES before it closes. */
  REVIEW_SLA_PROHIBITED_MINUTES: Type.Integer({ minimum: 1, maximum: 10_080, default: DEFAULT_REVIEW_SLA.minutes['prohibited-alarm'] }),
  REVIEW_SLA_PERISHABLE_MINUTES: Type.Integer({ minimum: 1, maximum: 10_080, default: DEFAULT_REVIEW_SLA.minutes.perishable }),
  REVIEW_SLA_VESSEL_MINUTES: Type.Integer({ minimum: 1, maximum: 10_080, default: DEFAULT_REVIEW_SLA.minutes['vessel-closing'] }),
  REVIEW_SLA_AEO_MINUTES: Type.Integer({ minimum: 1, maximum: 10_080, default: DEFAULT_REVIEW_SLA.minutes['aeo-advanced'] }),
  REVIEW_SLA_STANDARD_MINUTES: Type.Integer({ minimum: 1, maximum: 10_080, default: DEFAULT_REVIEW_SLA.minutes.standard }),
  REVIEW_SLA_VESSEL_BUFFER_MINUTES: Type.Integer({ minimum: 0, maximum: 10_080, default: DEFAULT_REVIEW_SLA.vesselBufferMinutes }),
  /** How often the API looks for queue changes made by workers (for /v1/review/events). */
  REVIEW_EVENTS_POLL_MS: Type.Integer({ minimum: 50, default: 2_000 }),
  /** Share of review items decided double-blind by two reviewers (drawn from the scan id). */
  DOUBLE_BLIND_RATE: Type.Number({ minimum: 0, maximum: 1, default: 0.05 }),
  /** The terminal operating system / sorting line endpoint for lock, release and divert messages. */
  TOS_WEBHOOK_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  /**
   * Networks (CIDRs, comma-separated) that risk control's webhook subscriptions may reach besides the public
   * internet, e.g. `10.20.0.0/16` for a risk-control LAN. Loopback, private, link-local and reserved addresses are
   * refused otherwise (pipeline/webhook-destination.ts).
   */
  SUBSCRIPTION_ALLOWED_NETWORKS: Type.String({ default: '', maxLength: 2000 }),
  /** HMAC key signing messages to the terminal; required with TOS_WEBHOOK_URL. */
  WEBHOOK_SECRET: Type.Optional(Type.String({ minLength: 16 })),
  /** Outbox delivery: attempts before dead-letter, first backoff (doubling, capped at 5 minutes), poll interval. */
  OUTBOX_MAX_ATTEMPTS: Type.Integer({ minimum: 1, default: 10 }),
  OUTBOX_BACKOFF_MS: Type.Integer({ minimum: 10, default: 1_000 }),
  OUTBOX_INTERVAL_MS: Type.Integer({ minimum: 20, default: 1_000 }),
});

export type Env = Static<typeof Env>;

export interface Config {
  port: number;
  host: string;
  metricsPort: number;
  databaseUrl: string | null;
  redisUrl: string | null;
  queuePrefix: string;
  s3: { endpoint: string; accessKey: string; secretKey: string; bucket: string } | null;
  dataDir: string;
  modelsDir: string;
  maxUploadBytes: number;
  maxImagePixels: number;
  /** How long a checked API client key is trusted without reading the database again (0: never). */
  clientKeyCacheMs: number;
  sweepIdleMs: number;
  sweepIntervalMs: number;
  policyFile: string | null;
  shadowPolicyFile: string | null;
  shadowModelsDir: string | null;
  declarationWaitMs: number;
  jobLockMs: number;
  workerConcurrency: number;
  inferThreads: number;
  /** Model sessions in worker threads of their own, off the worker process's event loop. */
  inferOffThread: boolean;
  imageUrls: { secret: string; ttlSeconds: number };
  logLevel: Env['LOG_LEVEL'];
  review: ReviewConfig;
}

/** Settings of the manual review workflow (users, queue, terminal and webhook deliveries). */
export interface ReviewConfig {
  sessionTtlMs: number;
  login: { maxFailures: number; accountMaxFailures: number; lockoutMs: number; failureWindowMs: number; rateLimit: number; rateWindowMs: number };
  /** Decision deadlines per queue tier (set when an item enters the queue). */
  sla: ReviewSla;
  leaseMs: number;
  expiryIntervalMs: number;
  eventsPollMs: number;
  doubleBlindRate: number;
  tosWebhookUrl: string | null;
  webhookSecret: string | null;
  /** CIDRs a subscription's webhook may reach besides public addresses. */
  subscriptionAllowedNetworks: string[];
  outbox: { maxAttempts: number; backoffMs: number; intervalMs: number };
}

export class ConfigError extends Error {
  constructor(readonly variable: string, detail: string) {
    super(`invalid configuration: ${variable} ${detail}`);
    this.name = 'ConfigError';
  }
}

// Numbers arrive as text; the schema itself says which variables are numeric, so no list has to be kept
// in step with it.
const NUMERIC_KEYS = new Set(
  Object.entries(Env.properties)
    .filter(([, schema]) => ['integer', 'number'].includes((schema as { type?: string }).type ?? ''))
    .map(([key]) => key),
);

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(Env.properties)) {
    const v = env[key];
    if (v === undefined || v === '') continue;
    raw[key] = NUMERIC_KEYS.has(key) && /^-?\d*\.?\d+$/.test(v) ? Number(v) : v;
  }
  const withDefaults = Value.Default(Env, raw);
  const first = [...Value.Errors(Env, withDefaults)][0];
  if (first) {
    const variable = first.instancePath.replace(/^\//, '') || 'environment';
    throw new ConfigError(variable, `${first.message} (got ${JSON.stringify(raw[variable] ?? null)})`);
  }
  const e = withDefaults as Env;
  const s3Vars = [e.S3_ENDPOINT, e.S3_ACCESS_KEY, e.S3_SECRET_KEY];
  if (s3Vars.some(Boolean) && !s3Vars.every(Boolean)) {
    const missing = ['S3_ENDPOINT', 'S3_ACCESS_KEY', 'S3_SECRET_KEY'].find((_, i) => !s3Vars[i])!;
    throw new ConfigError(missing, 'is required when any S3_* variable is set');
  }
  const accountMaxFailures = e.LOGIN_ACCOUNT_MAX_FAILURES ?? 4 * e.LOGIN_MAX_FAILURES;
  if (accountMaxFailures < e.LOGIN_MAX_FAILURES) {
    throw new ConfigError('LOGIN_ACCOUNT_MAX_FAILURES', `must be at least LOGIN_MAX_FAILURES (${e.LOGIN_MAX_FAILURES}) (got ${accountMaxFailures})`);
  }
  if (e.TOS_WEBHOOK_URL && !e.WEBHOOK_SECRET) throw new ConfigError('WEBHOOK_SECRET', 'is required when TOS_WEBHOOK_URL is set');
  const subscriptionAllowedNetworks = e.SUBSCRIPTION_ALLOWED_NETWORKS.split(',').map((x) => x.trim()).filter(Boolean);
  for (const n of subscriptionAllowedNetworks) {
    try {
      parseCidr(n);
    } catch (err) {
      throw new ConfigError('SUBSCRIPTION_ALLOWED_NETWORKS', (err as Error).message);
    }
  }
  return {
    port: e.PORT,
    host: e.HOST,
    metricsPort: e.METRICS_PORT,
    databaseUrl: e.DATABASE_URL ?? null,
    redisUrl: e.REDIS_URL ?? null,
    queuePrefix: e.QUEUE_PREFIX,
    s3: e.S3_ENDPOINT ? { endpoint: e.S3_ENDPOINT, accessKey: e.S3_ACCESS_KEY!, secretKey: e.S3_SECRET_KEY!, bucket: e.S3_BUCKET } : null,
    dataDir: e.DATA_DIR,
    modelsDir: e.MODELS_DIR,
    maxUploadBytes: e.MAX_UPLOAD_BYTES,
    maxImagePixels: e.MAX_IMAGE_PIXELS,
    clientKeyCacheMs: e.CLIENT_KEY_CACHE_MS,
    sweepIdleMs: e.SWEEP_IDLE_MS,
    sweepIntervalMs: e.SWEEP_INTERVAL_MS,
    policyFile: e.POLICY_FILE ?? null,
    shadowPolicyFile: e.SHADOW_POLICY_FILE ?? null,
    shadowModelsDir: e.SHADOW_MODELS_DIR ?? null,
    declarationWaitMs: e.DECLARATION_WAIT_MS,
    jobLockMs: e.JOB_LOCK_MS,
    workerConcurrency: e.WORKER_CONCURRENCY,
    inferThreads: e.INFER_THREADS,
    inferOffThread: e.INFER_OFF_THREAD === 'true',
    imageUrls: { secret: e.IMAGE_URL_SECRET ?? randomBytes(32).toString('base64url'), ttlSeconds: e.IMAGE_URL_TTL_S },
    logLevel: e.LOG_LEVEL,
    review: {
      sessionTtlMs: e.SESSION_TTL_MS,
      login: {
        maxFailures: e.LOGIN_MAX_FAILURES,
        accountMaxFailures,
        lockoutMs: e.LOGIN_LOCKOUT_MS,
        failureWindowMs: e.LOGIN_FAILURE_WINDOW_MS,
        rateLimit: e.LOGIN_RATE_LIMIT,
        rateWindowMs: e.LOGIN_RATE_WINDOW_MS,
      },
      sla: {
        minutes: {
          'prohibited-alarm': e.REVIEW_SLA_PROHIBITED_MINUTES,
          perishable: e.REVIEW_SLA_PERISHABLE_MINUTES,
          'vessel-closing': e.REVIEW_SLA_VESSEL_MINUTES,
          'aeo-advanced': e.REVIEW_SLA_AEO_MINUTES,
          standard: e.REVIEW_SLA_STANDARD_MINUTES,
        },
        vesselBufferMinutes: e.REVIEW_SLA_VESSEL_BUFFER_MINUTES,
      },
      leaseMs: e.REVIEW_LEASE_MS,
      expiryIntervalMs: e.REVIEW_EXPIRY_INTERVAL_MS,
      eventsPollMs: e.REVIEW_EVENTS_POLL_MS,
      doubleBlindRate: e.DOUBLE_BLIND_RATE,
      tosWebhookUrl: e.TOS_WEBHOOK_URL ?? null,
      webhookSecret: e.WEBHOOK_SECRET ?? null,
      subscriptionAllowedNetworks,
      outbox: { maxAttempts: e.OUTBOX_MAX_ATTEMPTS, backoffMs: e.OUTBOX_BACKOFF_MS, intervalMs: e.OUTBOX_INTERVAL_MS },
    },
  };
}
