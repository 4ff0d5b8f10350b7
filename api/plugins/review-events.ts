// Live review-queue changes for the web UI: an in-process EventEmitter fed by the review routes, and a
// poll of the database every few seconds for changes other processes made (workers enqueue items and
// expire leases). Open event streams are ended before the server closes.
import { EventEmitter } from 'node:events';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { Sql } from '../../storage/db/sql.js';
import { reviewRepo, type ReviewState } from '../../storage/repos/review.js';

export interface QueueChanged {
  type: 'queue-changed';
  scanId: string;
  state: ReviewState;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** 'queue-changed' (QueueChanged) for every change; 'closing' when the app shuts down. */
    reviewEvents: EventEmitter;
  }
}

/** Rows committed a little after their updated_at are still seen: each poll looks back this far. */
const OVERLAP_MS = 5_000;

export default fp(async function reviewEvents(app: FastifyInstance, opts: { db: Sql; pollMs: number }) {
  const events = new EventEmitter();
  events.setMaxListeners(0);
  app.decorate('reviewEvents', events);
  const review = reviewRepo(opts.db);
  const seen = new Map<string, string>();
  let since: number | null = null;
  let polling = false;

  const poll = async () => {
    if (events.listenerCount('queue-changed') === 0) {
      since = null;
      seen.clear();
      return;
    }
    if (since === null) {
      const r = (await opts.db.query<{ now: Date | string }>('SELECT now() AS now')).rows[0]!;
      since = new Date(r.now).getTime();
    }
    const changes = await review.changedSince(new Date(since - OVERLAP_MS).toISOString());
    for (const c of changes) {
      const t = Date.parse(c.updatedAt);
      if (t <= since - OVERLAP_MS || seen.get(c.scanId) === c.updatedAt) continue;
      seen.set(c.scanId, c.updatedAt);
      if (t > since) since = t;
      events.emit('queue-changed', { type: 'queue-changed', scanId: c.scanId, state: c.state } satisfies QueueChanged);
    }
    for (const [scanId, at] of seen) if (Date.parse(at) < since - 2 * OVERLAP_MS) seen.delete(scanId);
  };

  const timer = setInterval(() => {
    if (polling) return;
    polling = true;
    poll()
      .catch((err: Error) => app.log.warn({ err: err.message }, 'review events poll failed'))
      .finally(() => {
        polling = false;
      });
  }, opts.pollMs);
  timer.unref();

  // preClose: the server waits for open connections, so streams are ended before it closes.
  app.addHook('preClose', async () => {
    clearInterval(timer);
    events.emit('closing');
  });
});
