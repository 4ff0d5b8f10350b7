// The risk-control verdict feed: every verdict event, resumable by cursor. Events are read in
// (transaction id, id) order and only below the oldest running transaction, so an event whose
// transaction commits late is never skipped by a reader that already moved past its id.
import type { StoredVerdict } from './verdicts.js';
import type { Verdict } from '../../domain/verdict.js';
import type { Queryable } from '../db/sql.js';

export interface FeedItem extends StoredVerdict {
  cursor: string;
}

export const FEED_START = '0.0';

const XID8_MAX = 2n ** 64n - 1n;
const BIGINT_MAX = 2n ** 63n - 1n;

export function parseCursor(cursor: string): { txid: string; id: string } | null {
  const m = /^(\d{1,20})\.(\d{1,19})$/.exec(cursor);
  // within xid8 (unsigned 64 bits) and bigint: PostgreSQL refuses the cast of anything larger
  return m && BigInt(m[1]!) <= XID8_MAX && BigInt(m[2]!) <= BIGINT_MAX ? { txid: m[1]!, id: m[2]! } : null;
}

export function verdictFeedRepo(db: Queryable) {
  return {
    async after(cursor: string, opts: { limit: number; decision?: string; port?: string; enterprise?: string }): Promise<FeedItem[]> {
      const c = parseCursor(cursor) ?? { txid: '0', id: '0' };
      const rows = (
        await db.query<{ id: string | number; txid: string; body: Verdict }>(
          `SELECT v.id, v.txid::text AS txid, v.body FROM verdicts v
           LEFT JOIN declarations d ON d.declaration_id = v.body->>'declarationId'
           WHERE (v.txid, v.id) > ($1::text::xid8, $2::bigint)
             AND v.txid < pg_snapshot_xmin(pg_current_snapshot())
             AND ($3::text IS NULL OR v.decision = $3)
             AND ($4::text IS NULL OR d.body->>'port' = $4)
             AND ($5::text IS NULL OR d.enterprise_id = $5)
           ORDER BY v.txid, v.id LIMIT $6`,
          [c.txid, c.id, opts.decision ?? null, opts.port ?? null, opts.enterprise ?? null, opts.limit],
        )
      ).rows;
      return rows.map((r) => ({ ...r.body, id: String(r.id), cursor: `${r.txid}.${r.id}` }));
    },
  };
}
