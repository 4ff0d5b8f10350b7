// Verdict events: append-only. The machine's verdict is unique per scan (a retried stage is a no-op).
import type { Verdict } from '../../domain/verdict.js';
import type { Queryable } from '../db/sql.js';

export interface StoredVerdict extends Verdict {
  id: string;
}

interface VerdictRow {
  id: string | number;
  body: Verdict;
}

export function verdictsRepo(db: Queryable) {
  return {
    /** Appends a verdict event; for the machine's verdict, returns the existing one if already stored. */
    async append(v: Verdict, actor: string | null, q: Queryable = db): Promise<{ verdict: StoredVerdict; created: boolean }> {
      const rows = (
        await q.query<VerdictRow>(
          `INSERT INTO verdicts (scan_id, source, actor, decision, policy_version, body)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (scan_id) WHERE source = 'machine' DO NOTHING RETURNING id, body`,
          [v.scanId, v.source, actor, v.decision, v.policyVersion, JSON.stringify(v)],
        )
      ).rows;
      if (rows[0]) return { verdict: { ...rows[0].body, id: String(rows[0].id) }, created: true };
      const existing = (
        await q.query<VerdictRow>(`SELECT id, body FROM verdicts WHERE scan_id = $1 AND source = 'machine'`, [v.scanId])
      ).rows[0]!;
      return { verdict: { ...existing.body, id: String(existing.id) }, created: false };
    },
    async forScan(scanId: string): Promise<StoredVerdict[]> {
      const rows = (await db.query<VerdictRow>('SELECT id, body FROM verdicts WHERE scan_id = $1 ORDER BY id', [scanId])).rows;
      return rows.map((r) => ({ ...r.body, id: String(r.id) }));
    },
    async machineVerdict(scanId: string, q: Queryable = db): Promise<StoredVerdict | null> {
      const r = (await q.query<VerdictRow>(`SELECT id, body FROM verdicts WHERE scan_id = $1 AND source = 'machine'`, [scanId])).rows[0];
      return r ? { ...r.body, id: String(r.id) } : null;
    },
    /** Verdict events after a cursor (the id), in order: the risk-control feed. */
    async after(cursor: string | null, limit: number): Promise<StoredVerdict[]> {
      const rows = (
        await db.query<VerdictRow>('SELECT id, body FROM verdicts WHERE id > $1 ORDER BY id LIMIT $2', [cursor ?? '0', limit])
      ).rows;
      return rows.map((r) => ({ ...r.body, id: String(r.id) }));
    },
  };
}
