// What the outbox dispatcher and supervisors need beyond storage/repos/outbox.ts: pending rows per
// destination in order, fan-out of verdict events to subscriptions, the dispatcher's lease, dead letters.
import type { Queryable, Sql } from '../db/sql.js';
import { iso } from '../db/rows.js';

export interface PendingDelivery {
  id: string;
  topic: string;
  destination: string;
  payload: unknown;
  attempts: number;
  due: boolean;
  createdAt: string;
}

export interface DeadLetter {
  id: string;
  topic: string;
  destination: string;
  dedupeKey: string;
  payload: unknown;
  attempts: number;
  lastError: string | null;
  createdAt: string;
  deadAt: string;
}

interface Row {
  id: string | number;
  topic: string;
  destination: string | null;
  dedupe_key: string;
  payload: unknown;
  attempts: number;
  due?: boolean;
  last_error: string | null;
  created_at: Date | string;
  dead_at: Date | string | null;
}

/** Messages to the terminal operating system / sorting line; verdict events fan out to subscriptions. */
export const TERMINAL_TOPICS = ['lock', 'release', 'seize', 'divert'] as const;
function destinationOf(r: Row): string {
  if (r.destination) return r.destination;
  return (TERMINAL_TOPICS as readonly string[]).includes(r.topic) ? 'terminal' : r.topic;
}

export function outboxDeliveriesRepo(db: Sql) {
  return {
    /** Takes or keeps the named lease for `ms`; false while another holder's lease is live. */
    async acquireLease(name: string, holder: string, ms: number): Promise<boolean> {
      const r = await db.query(
        `INSERT INTO dispatcher_leases (name, holder, expires_at) VALUES ($1, $2, now() + ($3::double precision * interval '1 millisecond'))
         ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
         WHERE dispatcher_leases.holder = EXCLUDED.holder OR dispatcher_leases.expires_at < now()
         RETURNING holder`,
        [name, holder, ms],
      );
      return r.rows.length > 0;
    },
    async releaseLease(name: string, holder: string): Promise<void> {
      await db.query('DELETE FROM dispatcher_leases WHERE name = $1 AND holder = $2', [name, holder]);
    },
    /** Verdict events not yet fanned out, oldest first. */
    async pendingVerdicts(limit: number): Promise<Array<{ id: string; payload: { decision?: string } }>> {
      const rows = (
        await db.query<Row>(`SELECT * FROM outbox WHERE topic = 'verdict' AND delivered_at IS NULL AND dead_at IS NULL ORDER BY id LIMIT $1`, [limit])
      ).rows;
      return rows.map((r) => ({ id: String(r.id), payload: r.payload as { decision?: string } }));
    },
    /**
     * Per verdict event, one webhook row for each matching subscription (in the events' order, so each
     * subscription's deliveries keep it), and the events marked done: all in one transaction, whatever the
     * number of events (a pass at saturation takes dozens; one transaction each cost three statements a scan).
     */
    async fanOut(events: Array<{ verdictRowId: string; deliveries: Array<{ subscriptionId: string; payload: unknown }> }>): Promise<void> {
      if (events.length === 0) return;
      await db.transaction(async (tx: Queryable) => {
        for (const e of events) {
          for (const d of e.deliveries) {
            await tx.query(
              `INSERT INTO outbox (topic, dedupe_key, payload, destination) VALUES ('webhook', $1, $2, $3) ON CONFLICT (dedupe_key) DO NOTHING`,
              [`webhook.${d.subscriptionId}.${e.verdictRowId}`, JSON.stringify(d.payload), `sub:${d.subscriptionId}`],
            );
          }
        }
        await tx.query('UPDATE outbox SET delivered_at = now() WHERE id = ANY($1::bigint[])', [events.map((e) => e.verdictRowId)]);
      });
    },
    /**
     * Undelivered, not dead, deliverable rows in id order, at most `perDestination` of each destination's oldest;
     * `due` says whether its backoff has passed. Per destination: a subscriber whose endpoint fails piles up rows
     * behind its head, and a limit over all destinations would soon hold nothing but those, leaving the
     * terminal's lock messages unread.
     */
    async pending(perDestination: number): Promise<PendingDelivery[]> {
      const rows = (
        await db.query<Row>(
          `SELECT * FROM (
             SELECT *, next_attempt_at <= now() AS due,
                    row_number() OVER (PARTITION BY COALESCE(destination, CASE WHEN topic = ANY($2::text[]) THEN 'terminal' ELSE topic END) ORDER BY id) AS place
             FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL AND topic <> 'verdict'
           ) p WHERE place <= $1 ORDER BY id`,
          [perDestination, [...TERMINAL_TOPICS]],
        )
      ).rows;
      return rows.map((r) => ({ id: String(r.id), topic: r.topic, destination: destinationOf(r), payload: r.payload, attempts: r.attempts, due: Boolean(r.due), createdAt: iso(r.created_at) }));
    },
    async dead(limit = 200): Promise<DeadLetter[]> {
      const rows = (await db.query<Row>('SELECT * FROM outbox WHERE dead_at IS NOT NULL AND delivered_at IS NULL ORDER BY id LIMIT $1', [limit])).rows;
      return rows.map((r) => ({
        id: String(r.id),
        topic: r.topic,
        destination: destinationOf(r),
        dedupeKey: r.dedupe_key,
        payload: r.payload,
        attempts: r.attempts,
        lastError: r.last_error,
        createdAt: iso(r.created_at),
        deadAt: iso(r.dead_at!),
      }));
    },
    /** Puts a dead letter back for delivery with a fresh attempt count; false if it is not dead. */
    async retry(id: string): Promise<boolean> {
      const r = await db.query(
        `UPDATE outbox SET dead_at = NULL, attempts = 0, next_attempt_at = now(), last_error = NULL
         WHERE id = $1 AND dead_at IS NOT NULL AND delivered_at IS NULL RETURNING id`,
        [id],
      );
      return r.rows.length > 0;
    },
  };
}
