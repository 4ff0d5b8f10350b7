// The audit log: an append-only hash chain over every decision, hold transition and release. Appends
// take a transaction-scoped advisory lock, so concurrent appends (API and workers, any process) never
// fork the chain; audit_head records the newest entry so a deleted last row is detected too.
import { appendAuditEntry, verifyAuditChain, type AuditChainCheck, type AuditEntry } from '../../domain/audit/hash-chain.js';
import type { Queryable } from '../db/sql.js';

const AUDIT_LOCK_ID = 4_206_987;

export interface AuditPayload {
  at: string;
  actor: string;
  action: string;
  subject: string;
  detail: Record<string, unknown>;
}

interface AuditRow {
  seq: string | number;
  at: Date | string;
  actor: string;
  action: string;
  subject: string;
  detail: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

const toEntry = (r: AuditRow): AuditEntry<AuditPayload> => ({
  seq: Number(r.seq),
  prevHash: r.prev_hash,
  hash: r.hash,
  payload: { at: new Date(r.at).toISOString(), actor: r.actor, action: r.action, subject: r.subject, detail: r.detail },
});

export type AuditVerification = AuditChainCheck | { ok: false; seq: number; code: 'AUDIT_HEAD_MISMATCH'; message: string };

export function auditRepo(db: Queryable) {
  return {
    /** Appends one entry; `q` must be the caller's transaction so the entry commits with what it records. */
    async append(q: Queryable, entry: Omit<AuditPayload, 'at'> & { at?: string }): Promise<AuditEntry<AuditPayload>> {
      await q.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK_ID]);
      const head = (await q.query<AuditRow>('SELECT * FROM audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1')).rows[0];
      // JSON round trip: the stored detail (JSONB) must hash the same as what is hashed now.
      const payload: AuditPayload = { ...entry, at: entry.at ?? new Date().toISOString(), detail: JSON.parse(JSON.stringify(entry.detail)) };
      const next = appendAuditEntry(head ? toEntry(head) : undefined, payload);
      await q.query(
        `INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [next.seq, payload.at, payload.actor, payload.action, payload.subject, JSON.stringify(payload.detail), next.prevHash, next.hash],
      );
      await q.query(
        `INSERT INTO audit_head (id, seq, hash) VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash`,
        [next.seq, next.hash],
      );
      return next;
    },
    async list(subject?: string): Promise<Array<AuditEntry<AuditPayload>>> {
      const rows = (
        await db.query<AuditRow>('SELECT * FROM audit_log WHERE seq IS NOT NULL AND ($1::text IS NULL OR subject = $1) ORDER BY seq', [subject ?? null])
      ).rows;
      return rows.map(toEntry);
    },
    /** Verifies every link and hash, then that the newest row is the recorded head (a deleted tail). */
    async verify(): Promise<AuditVerification> {
      const entries = await this.list();
      const check = verifyAuditChain(entries);
      if (!check.ok) return check;
      const head = (await db.query<{ seq: string | number; hash: string }>('SELECT seq, hash FROM audit_head WHERE id = 1')).rows[0];
      const headSeq = head ? Number(head.seq) : 0;
      if (headSeq !== check.entries || (head && head.hash !== check.headHash)) {
        return { ok: false, seq: headSeq, code: 'AUDIT_HEAD_MISMATCH', message: `the chain ends at entry ${check.entries} but the recorded head is entry ${headSeq}` };
      }
      return check;
    },
  };
}
