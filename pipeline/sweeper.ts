// Re-enqueues scans that stopped moving (Redis was down at ingest, a worker died, a job was lost in a
// Redis restart), so every accepted scan reaches a verdict. Deterministic job ids make this safe to repeat. A scan
// whose job kept killing its workers is not run again: it goes to review (PROCESSING_CRASHED).
import type { ScanStatus } from '../domain/scan.js';
import { scansRepo } from '../storage/repos/scans.js';
import type { PipelineDeps } from './deps.js';
import type { Stage } from './jobs.js';
import { failScanToReview } from './stages/verdict-writer.js';

const NEXT_STAGE: Record<ScanStatus, Stage> = {
  received: 'preprocess',
  preprocessed: 'infer',
  inferred: 'assess',
  assessed: 'route',
};

export async function sweepOnce(deps: PipelineDeps, idleMs: number, limit = 200): Promise<number> {
  const scans = scansRepo(deps.db);
  const stalled = await scans.findStalled(idleMs, limit);
  let enqueued = 0;
  for (const { scanId, status } of stalled) {
    const stage = NEXT_STAGE[status];
    try {
      if ((await deps.queues.enqueue(stage, scanId, { revive: true })) === 'crashed') {
        // its workers died running it, again and again: a person looks at it (the image may be what kills them)
        await failScanToReview(deps, scanId, 'PROCESSING_CRASHED', `the ${stage} stage's worker died each time it ran`);
        deps.logger.warn({ scanId, stage }, 'scan sent to review: its job crashed its workers past the stall limit');
        continue;
      }
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message }, 'sweeper cannot reach the queue; will try again');
      break;
    }
    await scans.touch(scanId);
    enqueued++;
  }
  if (enqueued) deps.logger.info({ enqueued }, 'sweeper re-enqueued stalled scans');
  return enqueued;
}

export function startSweeper(deps: PipelineDeps, opts: { idleMs: number; intervalMs: number }): { stop(): void } {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sweepOnce(deps, opts.idleMs)
      .catch((err) => deps.logger.warn({ err: (err as Error).message }, 'sweep failed'))
      .finally(() => {
        running = false;
      });
  }, opts.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
