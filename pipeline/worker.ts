// The worker process's core: one BullMQ Worker per stage, every job validated against its schema, and
// failures split into retried (transient) and routed-to-review (permanent or out of retries).
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { Value } from 'typebox/value';
import type { PipelineDeps } from './deps.js';
import { PermanentJobError } from './errors.js';
import { JOBS, STAGES, assertAllHandlers, type ScanJobPayload, type Stage, type StageHandlers } from './jobs.js';
import { assessHandler } from './stages/assess.js';
import { inferHandler } from './stages/infer.js';
import { preprocessHandler } from './stages/preprocess.js';
import { routeHandler } from './stages/route.js';
import { failScanToReview } from './stages/verdict-writer.js';
import { stageSeconds } from './metrics.js';

export function stageHandlers(deps: PipelineDeps): StageHandlers {
  const handlers: Partial<StageHandlers> = {
    preprocess: preprocessHandler(deps),
    infer: inferHandler(deps),
    assess: assessHandler(deps),
    route: routeHandler(deps),
  };
  assertAllHandlers(handlers);
  return handlers;
}

export interface RunningWorkers {
  close(): Promise<void>;
}

export function startWorkers(
  deps: PipelineDeps,
  opts: {
    redisUrl: string;
    prefix: string;
    concurrency: number;
    /** How long a job's lock lives without renewal: a killed worker's jobs run again after about this long. */
    lockMs?: number;
    handlers?: StageHandlers;
    stages?: readonly Stage[];
  },
): RunningWorkers {
  const handlers = opts.handlers ?? stageHandlers(deps);
  assertAllHandlers(handlers);
  const connection = new Redis(opts.redisUrl, { maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(n * 200, 2000) });
  connection.on('error', () => {});
  const workers = (opts.stages ?? STAGES).map((stage) => {
    const worker = new Worker<ScanJobPayload>(
      JOBS[stage].queue,
      async (job: Job<ScanJobPayload>) => {
        if (!Value.Check(JOBS[stage].payload, job.data)) {
          deps.logger.error({ stage, jobId: job.id }, 'job payload does not match its schema; dropped');
          return;
        }
        const { scanId } = job.data;
        const started = performance.now();
        try {
          await handlers[stage](job.data);
          stageSeconds.observe({ stage, outcome: 'ok' }, (performance.now() - started) / 1000);
          deps.logger.debug({ stage, scanId, ms: Math.round(performance.now() - started) }, 'stage done');
        } catch (err) {
          stageSeconds.observe({ stage, outcome: 'error' }, (performance.now() - started) / 1000);
          const permanent = err instanceof PermanentJobError;
          const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
          if (!permanent && !lastAttempt) {
            deps.logger.warn({ stage, scanId, attempt: job.attemptsMade + 1, err: (err as Error).message }, 'stage failed; will retry');
            throw err;
          }
          deps.logger.error({ stage, scanId, err: (err as Error).message }, 'stage failed permanently; scan goes to review');
          const code = permanent ? err.code : 'PROCESSING_FAILED';
          await failScanToReview(deps, scanId, code, (err as Error).message);
        }
      },
      {
        connection,
        prefix: opts.prefix,
        concurrency: opts.concurrency,
        autorun: true,
        lockDuration: opts.lockMs ?? 30_000,
        stalledInterval: opts.lockMs ?? 30_000,
        // A job whose worker died is run again (handlers are idempotent); three deaths and the scan goes
        // through the failure path, which the sweeper revives.
        maxStalledCount: 3,
      },
    );
    worker.on('error', (err) => deps.logger.warn({ stage, err: err.message }, 'worker connection error'));
    return worker;
  });
  return {
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      connection.disconnect();
    },
  };
}
