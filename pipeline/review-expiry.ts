// Returns review items whose lease ran out to the queue (a claim also takes an expired lease at once;
// this makes the queue and the live events show it). Runs in the worker process.
import type { Logger } from 'pino';
import type { Sql } from '../storage/db/sql.js';
import { reviewRepo } from '../storage/repos/review.js';

export function startReviewExpiry(deps: { db: Sql; logger: Logger }, opts: { intervalMs: number }): { stop(): void } {
  const review = reviewRepo(deps.db);
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    review
      .expireLeases()
      .then((expired) => {
        if (expired.length) deps.logger.info({ scans: expired.map((e) => e.scanId) }, 'review leases expired; items back in the queue');
      })
      .catch((err: Error) => deps.logger.warn({ err: err.message }, 'lease expiry failed'))
      .finally(() => {
        running = false;
      });
  }, opts.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
