// BullMQ producers for every stage. Producers fail fast when Redis is away (the scan is already stored
// and the sweeper re-enqueues it), so ingest never blocks on Redis.
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { JOBS, STAGES, jobId, type Stage } from './jobs.js';

export interface Queues {
  /**
   * Adds the stage's job for a scan; a job already waiting or running with the same id makes this a
   * no-op. With `revive`, a job that ended failed (e.g. its retries ran out while the database was down)
   * is retried instead: the sweeper uses this, so no scan stays stuck behind a dead job id.
   */
  enqueue(stage: Stage, scanId: string, opts?: { revive?: boolean }): Promise<void>;
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

export function createQueues(redisUrl: string, prefix: string, opts: { enqueueTimeoutMs?: number } = {}): Queues {
  const connection = createProducerConnection(redisUrl);
  connection.on('error', () => {}); // reported through failed enqueues and /readyz, not as a crash
  const queues = new Map<Stage, Queue>();
  for (const stage of STAGES) {
    const q = new Queue(JOBS[stage].queue, { connection, prefix });
    q.on('error', () => {}); // a lost connection surfaces as a failed enqueue, handled by the caller
    queues.set(stage, q);
  }
  const timeoutMs = opts.enqueueTimeoutMs ?? 2000;

  return {
    async enqueue(stage, scanId, enqueueOpts) {
      const q = queues.get(stage)!;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`enqueue ${stage} timed out`)), timeoutMs);
      });
      const add = async () => {
        if (enqueueOpts?.revive) {
          const existing = await q.getJob(jobId(stage, scanId));
          if (existing && (await existing.isFailed())) {
            await existing.retry('failed');
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
        await Promise.race([add(), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async depths() {
      const out = {} as Record<Stage, number>;
      for (const stage of STAGES) {
        const c = await queues.get(stage)!.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
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
