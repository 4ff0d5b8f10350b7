// Transactional outbox: messages written in the same transaction as the state they announce, delivered later.
import type { Queryable } from '../db/sql.js';

export interface OutboxMessage {
  id: string;
  topic: string;
  dedupeKey: string;
  payload: unknown;
  attempts: number;
  createdAt: string;
}

interface OutboxRow {
  id: string | number;
  topic: string;
  dedupe_key: string;
  payload: unknown;
  attempts: number;
  created_at: Date | string;
}

const toMessage = (r: OutboxRow): OutboxMessage => ({
  id: String(r.id),
  topic: r.topic,
  dedupeKey: r.dedupe_key,
  payload: r.payload,
  attempts: r.attempts,
  createdAt: new Date(r.created_at).toISOString(),
});

export function outboxRepo(db: Queryable) {
  return {
    /** Adds a message unless one with the same dedupe key exists (a retried stage adds nothing). */
    async add(topic: string, dedupeKey: string, payload: unknown, q: Queryable = db): Promise<void> {
      await q.query('INSERT INTO outbox (topic, dedupe_key, payload) VALUES ($1, $2, $3) ON CONFLICT (dedupe_key) DO NOTHING', [
        topic,
        dedupeKey,
        JSON.stringify(payload),
      ]);
    },
    async due(limit: number, topics?: string[]): Promise<OutboxMessage[]> {
      const rows = (
        await db.query<OutboxRow>(
          `SELECT * FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= now()
           AND ($2::text[] IS NULL OR topic = ANY($2)) ORDER BY id LIMIT $1`,
          [limit, topics ?? null],
        )
      ).rows;
      return rows.map(toMessage);
    },
    async delivered(id: string): Promise<void> {
      await db.query('UPDATE outbox SET delivered_at = now(), attempts = attempts + 1 WHERE id = $1', [id]);
    },
    async failed(id: string, error: string, retryInMs: number | null): Promise<void> {
      await db.query(
        `UPDATE outbox SET attempts = attempts + 1, last_error = $2,
           next_attempt_at = now() + ($3::double precision * interval '1 millisecond'),
           dead_at = CASE WHEN $4 THEN now() ELSE NULL END
         WHERE id = $1`,
        [id, error.slice(0, 500), retryInMs ?? 0, retryInMs === null],
      );
    },
    async byTopic(topic: string): Promise<OutboxMessage[]> {
      return (await db.query<OutboxRow>('SELECT * FROM outbox WHERE topic = $1 ORDER BY id', [topic])).rows.map(toMessage);
    },
  };
}
