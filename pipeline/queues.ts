// BullMQ producers for every stage. Producers fail fast when Redis is away (the scan is already stored
// and the sweeper re-enqueues it), so ingest never blocks on Redis.
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { JOBS, STAGES, jobId, type Stage } from './jobs.js';

export interface Queues {
  /**
   * Adds the stage's job for a scan; a job already waiting or running with the same id makes this a
   * no-op. With `revive`, a job that ended failed (e.g. its retries ran out while the database was down)
   * is retried instead, with its attempts afresh: the sweeper uses this, so no scan stays stuck behind a dead job
   * id. A job that failed because its workers died while running it, more than the stall limit allows, is not run
   * again (it would take another worker down, and every job that worker held): that answers 'crashed', and the
   * caller sends the scan to review.
   */
  enqueue(stage: Stage, scanId: string, opts?: { revive?: boolean }): Promise<void | 'crashed'>;
  depths(): Promise<Record<Stage, number>>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function createProducerConnection(redisUrl: string): Redis {
  return new Redis(redisUrl, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
}

export interface QueuesOptions {
  enqueueTimeoutMs?: number;
  /** A connection from createProducerConnection to use (the Queues own it and close it); default: a new one. */
  connection?: Redis;
}

/** BullMQ's failedReason for a job over maxStalledCount (commands/moveStalledJobsToWait): its processor is not called. */
export const STALL_LIMIT_REASON = 'stalled more than allowable limit';

export function createQueues(redisUrl: string, prefix: string, opts: QueuesOptions = {}): Queues {
  const connection = opts.connection ?? createProducerConnection(redisUrl);
  connection.on('error', () => {}); // reported through failed enqueues and /readyz, not as a crash
  // A BullMQ Queue checks the server's version once, when its connection first becomes ready; if Redis goes
  // away during that check (the fail-fast connection gives up after one retry) the Queue keeps that
  // rejection for good and every later call fails with it, even after Redis is back. Such a Queue is
  // replaced on its next use: the shared connection itself reconnects on its own.
  const broken = new WeakSet<Queue>();
  const open = (stage: Stage): Queue => {
    const q = new Queue(JOBS[stage].queue, { connection, prefix });
    q.on('error', () => {}); // a lost connection surfaces as a failed enqueue, handled by the caller
    q.waitUntilReady().catch(() => broken.add(q));
    return q;
  };
  const queues = new Map<Stage, Queue>(STAGES.map((stage) => [stage, open(stage)]));
  const queue = (stage: Stage): Queue => {
    const q = queues.get(stage)!;
    if (!broken.has(q)) return q;
    void q.close().catch(() => {}); // detaches it from the shared connection, which stays open
    const fresh = open(stage);
    queues.set(stage, fresh);
    return fresh;
  };
  const timeoutMs = opts.enqueueTimeoutMs ?? 2000;

  return {
    async enqueue(stage, scanId, enqueueOpts) {
      const q = queue(stage);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`enqueue ${stage} timed out`)), timeoutMs);
      });
      const add = async () => {
        if (enqueueOpts?.revive) {
          const existing = await q.getJob(jobId(stage, scanId));
          if (existing && (await existing.isFailed())) {
            if (existing.failedReason?.includes(STALL_LIMIT_REASON)) return 'crashed' as const;
            await existing.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
            return;
          }
        }
        await q.add(stage, { scanId }, {
            jobId: jobId(stage, scanId),
            attempts: JOBS[stage].attempts,
            backoff: { type: 'exponential', delay: 500 },
            removeOnComplete: true,
            removeOnFail: { age: 24 * 3600 },
          });
      };
      try {
        return await Promise.race([add(), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async depths() {
      const out = {} as Record<Stage, number>;
      for (const stage of STAGES) {
        const c = await queue(stage).getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        out[stage] = Object.values(c).reduce((a, b) => a + b, 0);
      }
      return out;
    },
    async ping() {
      await connection.ping();
    },
    async close() {
      await Promise.all([...queues.values()].map((q) => q.close()));
      connection.disconnect();
    },
  };
}
