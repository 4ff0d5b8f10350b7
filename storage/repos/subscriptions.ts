// Risk control's webhook subscriptions to verdict events. The signing secret is shown once at creation;
// it is kept (not hashed) because every delivery is signed with it.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Queryable } from '../db/sql.js';

export interface Subscription {
  id: string;
  url: string;
  decisions: string[] | null;
  createdBy: string;
  createdAt: string;
}

interface SubscriptionRow {
  id: string;
  url: string;
  decisions: string[] | null;
  secret: string;
  created_by: string;
  created_at: Date | string;
}

const toSubscription = (r: SubscriptionRow): Subscription => ({
  id: r.id,
  url: r.url,
  decisions: r.decisions,
  createdBy: r.created_by,
  createdAt: new Date(r.created_at).toISOString(),
});

export function subscriptionsRepo(db: Queryable) {
  return {
    async add(input: { url: string; decisions?: string[]; createdBy: string }): Promise<{ subscription: Subscription; secret: string }> {
      const secret = `whsec_${randomBytes(32).toString('base64url')}`;
      const r = (
        await db.query<SubscriptionRow>(
          'INSERT INTO subscriptions (id, url, decisions, secret, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING *',
          [randomUUID(), input.url, input.decisions ? JSON.stringify(input.decisions) : null, secret, input.createdBy],
        )
      ).rows[0]!;
      return { subscription: toSubscription(r), secret };
    },
    async list(): Promise<Subscription[]> {
      return (await db.query<SubscriptionRow>('SELECT * FROM subscriptions WHERE deleted_at IS NULL ORDER BY created_at, id')).rows.map(toSubscription);
    },
    async remove(id: string): Promise<boolean> {
      const r = await db.query('UPDATE subscriptions SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL RETURNING id', [id]);
      return r.rows.length > 0;
    },
    /** Active subscriptions with their secrets: the dispatcher's view. */
    async active(): Promise<Array<Subscription & { secret: string }>> {
      return (await db.query<SubscriptionRow>('SELECT * FROM subscriptions WHERE deleted_at IS NULL')).rows.map((r) => ({ ...toSubscription(r), secret: r.secret }));
    },
  };
}
