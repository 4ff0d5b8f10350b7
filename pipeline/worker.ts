// The worker process's core: one BullMQ Worker per stage, every job validated against its schema, and
// failures split into retried (transient) and routed-to-review (permanent or out of retries).
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { Value } from 'typebox/value';
import type { PipelineDeps } from './deps.js';
import { PermanentJobError } from './errors.js';
import type { Scan } from '../storage/repos/scans.js';
import { JOBS, STAGES, assertAllHandlers, type ScanJobPayload, type Stage, type StageHandlers } from './jobs.js';
import { assessHandler } from './stages/assess.js';
import { inferHandler } from './stages/infer.js';
import { preprocessHandler } from './stages/preprocess.js';
import { routeHandler } from './stages/route.js';
import { failScanToReview } from './stages/verdict-writer.js';
import { stageSeconds } from './metrics.js';
import { createRenderingCache } from './rendering-cache.js';

export function stageHandlers(deps: PipelineDeps): StageHandlers {
  // Shared by preprocess and infer of this worker set: the rendering stays in memory between them.
  const renderings = createRenderingCache();
  const handlers: Partial<StageHandlers> = {
    preprocess: preprocessHandler(deps, renderings),
    infer: inferHandler(deps, renderings),
    assess: assessHandler(deps),
    route: routeHandler(deps),
  };
  assertAllHandlers(handlers);
  return handlers;
}

/** Most stages one job runs in a row (a scan's whole path is four); past it the next stage is enqueued. */
const MAX_STAGES_PER_JOB = 8;

/** At most `n` holders at once; the rest wait in order. */
function semaphore(n: number) {
  let free = n;
  const waiting: Array<() => void> = [];
  return {
    async run<T>(fn: () => Promise<T>): Promise<T> {
      if (free > 0) free--;
      else await new Promise<void>((resolve) => waiting.push(resolve));
      try {
        return await fn();
      } finally {
        const next = waiting.shift();
        if (next) next();
        else free++;
      }
    },
  };
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
  const served = new Set<Stage>(opts.stages ?? STAGES);
  // `concurrency` bounds each stage's work in this process (memory, batch size), inline or not. A job
  // may carry a scan through several stages, so a queue takes as many jobs at once as the stages it can
  // run in a row allow: the same scans in flight as with one job per stage.
  const slots = Object.fromEntries(STAGES.map((s) => [s, semaphore(opts.concurrency)])) as Record<Stage, ReturnType<typeof semaphore>>;
  const chainLength = (stage: Stage) => {
    let n = 0;
    for (let i = STAGES.indexOf(stage); i < STAGES.length && served.has(STAGES[i]!); i++) n++;
    return Math.max(1, n);
  };
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
        // The stage a handler names next runs in this job when this worker serves it: no queue hop, and
        // the rendering stays in memory. A stage stores its status before the next begins, or leaves it to that
        // next stage of this job (`save`, called here whenever the scan leaves the job instead), so a crash
        // resumes from the stored status (this job runs again, or the sweeper re-enqueues the scan).
        let current: Stage = stage;
        let carried: Scan | undefined;
        // what the stage that handed over to `current` left unstored
        let unsaved: (() => Promise<unknown>) | undefined;
        for (let ran = 1; ; ran++) {
          let started = performance.now();
          let next: Stage | void;
          try {
            const run = current;
            const given = carried;
            // The stage's time is its handler's, not the wait for a slot.
            const outcome = await slots[run].run(() => {
              started = performance.now();
              return handlers[run](job.data, given);
            });
            next = typeof outcome === 'object' ? outcome.next : outcome;
            carried = typeof outcome === 'object' ? outcome.scan : undefined;
            unsaved = typeof outcome === 'object' ? outcome.save : undefined;
            stageSeconds.observe({ stage: current, outcome: 'ok' }, (performance.now() - started) / 1000);
            deps.logger.debug({ stage: current, job: stage, scanId, ms: Math.round(performance.now() - started) }, 'stage done');
          } catch (err) {
            stageSeconds.observe({ stage: current, outcome: 'error' }, (performance.now() - started) / 1000);
            const permanent = err instanceof PermanentJobError;
            if (!permanent && current !== stage) {
              // A stage continued in this job failed: it goes to its own queue with its own retries, as
              // if it had been enqueued. Should that fail too, this job retries (its stages are idempotent).
              const handedOver = await (async () => {
                await unsaved?.();
                await deps.queues.enqueue(current, scanId);
              })().then(() => true, () => false);
              if (handedOver) {
                deps.logger.warn({ stage: current, scanId, err: (err as Error).message }, 'stage failed; will retry from its queue');
                return;
              }
            }
            const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
            if (!permanent && !lastAttempt) {
              deps.logger.warn({ stage: current, scanId, attempt: job.attemptsMade + 1, err: (err as Error).message }, 'stage failed; will retry');
              throw err;
            }
            deps.logger.error({ stage: current, scanId, err: (err as Error).message }, 'stage failed permanently; scan goes to review');
            const code = permanent ? err.code : 'PROCESSING_FAILED';
            await failScanToReview(deps, scanId, code, (err as Error).message);
            return;
          }
          if (!next) return;
          if (!served.has(next) || ran >= MAX_STAGES_PER_JOB) {
            await unsaved?.();
            await deps.queues.enqueue(next, scanId);
            return;
          }
          current = next;
        }
      },
      {
        connection,
        prefix: opts.prefix,
        concurrency: opts.concurrency * chainLength(stage),
        autorun: true,
        lockDuration: opts.lockMs ?? 30_000,
        stalledInterval: opts.lockMs ?? 30_000,
        // A job whose worker died is run again (handlers are idempotent); past three deaths BullMQ fails it
        // without running it, and the sweeper sends the scan to review (PROCESSING_CRASHED) instead of reviving it.
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
