// Process wiring shared by `npm run api`, `npm run worker` and `npm run demo`: open adapters from the
// config, start the API or the workers, and close everything in order on shutdown.
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { Config } from '../config.js';
import { buildApp } from '../api/app.js';
import type { ModelRuntime } from '../models/runtime/types.js';
import { createQueues, type Queues } from '../pipeline/queues.js';
import { startSweeper } from '../pipeline/sweeper.js';
import { startWorkers } from '../pipeline/worker.js';
import { startOutboxDispatcher } from '../pipeline/outbox-dispatcher.js';
import { startReviewExpiry } from '../pipeline/review-expiry.js';
import { loadPolicy } from '../pipeline/policy.js';
import { thresholdsUnderModelFloors, type RiskPolicy } from '../domain/policy/policy.js';
import { MODALITIES } from '../domain/scan.js';
import { detectionSources } from '../models/runtime/registry.js';
import { modelBatchSize, modelSeconds } from '../pipeline/metrics.js';
import type { Sql } from '../storage/db/sql.js';
import type { ObjectStore } from '../storage/objects/object-store.js';

/** Query parameters whose values are grants: a signed image URL's `sig` opens the image to whoever holds it. */
const SECRET_QUERY = /([?&](?:sig|token|key|secret)=)[^&#]*/gi;

/** `url` as a log line may show it: the path and every parameter, a grant's value replaced. */
export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY, '$1[redacted]');
}

/** Fastify's request serializer (fastify/lib/logger-pino.js) with the URL's grants redacted. */
function serializeRequest(req: { method: string; url: string; host?: string; ip?: string; socket?: { remotePort?: number } }) {
  return { method: req.method, url: redactUrl(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort };
}

export function createLogger(config: Pick<Config, 'logLevel'>, name: string, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    name,
    level: config.logLevel,
    // a logger given to Fastify keeps its own serializers over Fastify's: every request line goes through this one
    serializers: { req: serializeRequest },
    // Keys and passwords must never reach a log line, whatever a handler logs.
    // (@fastify/multipart logs busboy's options, headers included, at trace level: hence *.headers.*.)
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', '*.headers.authorization', '*.headers.cookie', 'headers.authorization', '*.password', '*.key', '*.secret', '*.token'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

export interface Shared {
  config: Config;
  logger: Logger;
  db: Sql;
  objects: ObjectStore;
  redisUrl: string;
}

export async function startApi(s: Shared) {
  const queues = createQueues(s.redisUrl, s.config.queuePrefix);
  const app = await buildApp({ config: s.config, review: s.config.review, db: s.db, objects: s.objects, queues, logger: s.logger.child({ part: 'api' }) });
  const address = await app.listen({ port: s.config.port, host: s.config.host });
  return {
    app,
    address,
    queues,
    async close() {
      await app.close();
      await queues.close();
    },
  };
}

export async function startPipeline(s: Shared, opts: { runtime?: ModelRuntime; shadowRuntime?: ModelRuntime } = {}) {
  const logger = s.logger.child({ part: 'worker' });
  const queues: Queues = createQueues(s.redisUrl, s.config.queuePrefix);
  // Loaded only where workers run: the API process never loads onnxruntime.
  const runtimeOf = async (overlayDir?: string) =>
    (await import('../models/runtime/index.js')).createModelRuntime({
      registryDir: s.config.modelsDir,
      ...(overlayDir && { overlayDir }),
      intraOpNumThreads: s.config.inferThreads,
      offThread: s.config.inferOffThread,
      onBatch: (name, size, seconds) => {
        // a shadow candidate's calls are counted apart from the active model of the same name
        const model = overlayDir ? `${name}@shadow` : name;
        modelBatchSize.observe({ model }, size);
        modelSeconds.observe({ model }, seconds);
      },
    });
  const runtime = opts.runtime ?? (await runtimeOf());
  // shadow mode for candidate models: a second runtime, the registry with the candidates laid over it
  const shadowRuntime = opts.shadowRuntime ?? (s.config.shadowModelsDir ? await runtimeOf(s.config.shadowModelsDir) : undefined);
  const policy = await loadPolicy(s.config.policyFile ?? undefined);
  const shadowPolicy = s.config.shadowPolicyFile ? await loadPolicy(s.config.shadowPolicyFile) : undefined;
  warnThresholdsUnderFloors(logger, policy, runtime);
  if (shadowPolicy) warnThresholdsUnderFloors(logger, shadowPolicy, shadowRuntime ?? runtime);
  const deps = {
    db: s.db,
    objects: s.objects,
    queues,
    runtime,
    logger,
    policy,
    ...(shadowPolicy && { shadowPolicy }),
    ...(shadowRuntime && { shadowRuntime }),
    maxImagePixels: s.config.maxImagePixels,
    declarationWaitMs: s.config.declarationWaitMs,
    reviewSla: s.config.review.sla,
    now: () => new Date(),
  };
  const workers = startWorkers(deps, { redisUrl: s.redisUrl, prefix: s.config.queuePrefix, concurrency: s.config.workerConcurrency, lockMs: s.config.jobLockMs });
  const sweeper = startSweeper(deps, { idleMs: s.config.sweepIdleMs, intervalMs: s.config.sweepIntervalMs });
  const reviewExpiry = startReviewExpiry(deps, { intervalMs: s.config.review.expiryIntervalMs });
  const dispatcher = startOutboxDispatcher({ db: s.db, logger }, s.config.review);
  return {
    deps,
    async close() {
      sweeper.stop();
      reviewExpiry.stop();
      await dispatcher.stop();
      await workers.close();
      await queues.close();
      await runtime.close();
      await shadowRuntime?.close();
    },
  };
}

/**
 * Says at start which of a policy's threat thresholds cannot act: under the model's own threshold, below which
 * the model emits nothing (the model's is the one in effect). Not an error: the verdicts are what the floor gives.
 */
function warnThresholdsUnderFloors(logger: Logger, policy: RiskPolicy, runtime: ModelRuntime): void {
  try {
    // every model once, though one may serve several modalities (the parcel detector serves two)
    const cards = [...new Map(MODALITIES.flatMap((m) => runtime.modelsFor(m)).map((c) => [c.name, c])).values()];
    for (const t of thresholdsUnderModelFloors(policy, detectionSources(cards))) {
      logger.warn({ policy: policy.version, models: t.models, label: t.label, policyThreshold: t.policy, modelThreshold: t.floor }, 'policy threat threshold is under the model\'s own threshold and has no effect');
    }
  } catch (err) {
    // a check for the operator's information never stops the worker (a runtime whose cards lack labels, say)
    logger.warn({ err }, 'could not check the policy\'s threat thresholds against the models\' own');
  }
}

/** Runs `close` once on SIGINT/SIGTERM, then exits. */
export function onShutdown(logger: Logger, close: () => Promise<void>): void {
  let closing = false;
  const handler = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    close()
      .then(() => process.exit(0))
      .catch((err: Error) => {
        logger.error({ err: err.message }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
