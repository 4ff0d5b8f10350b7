// Lock instructions (锁箱) and their transitions. The state machine is domain/review/lock-instruction.ts;
// this adapter applies it under a row lock, records every transition, audits it, and writes the message
// to the terminal in the same transaction (transactional outbox).
import { randomUUID } from 'node:crypto';
import { mayLeaveGate, transitionLock, type LockEvent, type LockState, type LockTransitionErrorCode } from '../../domain/review/lock-instruction.js';
import type { Queryable, Sql } from '../db/sql.js';
import { auditRepo } from './audit.js';
import { outboxRepo } from './outbox.js';
import { iso } from '../db/rows.js';

export interface LockInstruction {
  id: string;
  scanId: string;
  containerNo: string;
  sealNo: string | null;
  state: LockState;
  reasons: string[];
  requestedBy: string;
  createdAt: string;
  updatedAt: string;
  history: Array<{ from: LockState | null; to: LockState; actor: string; reason: string | null; at: string }>;
}

interface LockRow {
  id: string;
  scan_id: string;
  container_no: string;
  seal_no: string | null;
  state: LockState;
  reasons: string[];
  requested_by: string;
  created_at: Date | string;
  updated_at: Date | string;
}
interface TransitionRow {
  lock_id: string;
  from_state: LockState | null;
  to_state: LockState;
  actor: string;
  reason: string | null;
  at: Date | string;
}

export class LockTransitionError extends Error {
  constructor(readonly code: LockTransitionErrorCode | 'LOCK_NOT_FOUND', message: string) {
    super(message);
    this.name = 'LockTransitionError';
  }
}

/** Messages the terminal receives on a transition (the lock itself is sent when requested). */
const TERMINAL_TOPIC: Partial<Record<LockState, string>> = { released: 'release', seized: 'seize' };

/** The events of one transition, or a function of the state found under the row's lock that gives them. */
export type LockEvents = LockEvent[] | ((state: LockState) => LockEvent[]);

export function holdsRepo(db: Sql) {
  const audit = auditRepo(db);
  const outbox = outboxRepo(db);

  async function withHistory(rows: LockRow[], q: Queryable = db): Promise<LockInstruction[]> {
    if (!rows.length) return [];
    const transitions = (
      await q.query<TransitionRow>('SELECT * FROM lock_transitions WHERE lock_id = ANY($1) ORDER BY id', [rows.map((r) => r.id)])
    ).rows;
    return rows.map((r) => ({
      id: r.id,
      scanId: r.scan_id,
      containerNo: r.container_no,
      sealNo: r.seal_no,
      state: r.state,
      reasons: r.reasons,
      requestedBy: r.requested_by,
      createdAt: iso(r.created_at),
      updatedAt: iso(r.updated_at),
      history: transitions
        .filter((t) => t.lock_id === r.id)
        .map((t) => ({ from: t.from_state, to: t.to_state, actor: t.actor, reason: t.reason, at: iso(t.at) })),
    }));
  }

  return {
    /**
     * Requests a lock on a container for a scan, inside the caller's transaction: the instruction, its
     * first transition, the audit entry and the message to the terminal. One per scan: a repeat is a no-op.
     */
    async request(q: Queryable, input: { scanId: string; containerNo: string; sealNo?: string; reasons: string[]; actor: string }): Promise<string | null> {
      const id = randomUUID();
      const inserted = await q.query(
        `INSERT INTO lock_instructions (id, scan_id, container_no, seal_no, reasons, requested_by) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (scan_id) DO NOTHING RETURNING id`,
        [id, input.scanId, input.containerNo, input.sealNo ?? null, JSON.stringify(input.reasons), input.actor],
      );
      if (!inserted.rows.length) return null;
      await q.query('INSERT INTO lock_transitions (lock_id, from_state, to_state, actor) VALUES ($1, NULL, $2, $3)', [id, 'requested', input.actor]);
      await outbox.add('lock', `lock.${input.scanId}`, { lockId: id, scanId: input.scanId, containerNo: input.containerNo, ...(input.sealNo && { sealNo: input.sealNo }), reasons: input.reasons }, q);
      await audit.append(q, { actor: input.actor, action: 'lock.requested', subject: `lock:${id}`, detail: { scanId: input.scanId, containerNo: input.containerNo, reasons: input.reasons } });
      return id;
    },
    async get(id: string): Promise<LockInstruction | null> {
      const rows = (await db.query<LockRow>('SELECT * FROM lock_instructions WHERE id = $1', [id])).rows;
      return (await withHistory(rows))[0] ?? null;
    },
    async list(state?: LockState, limit = 500): Promise<LockInstruction[]> {
      const rows = (
        await db.query<LockRow>('SELECT * FROM lock_instructions WHERE ($1::text IS NULL OR state = $1) ORDER BY created_at, id LIMIT $2', [state ?? null, limit])
      ).rows;
      return withHistory(rows);
    },
    /**
     * Applies events in order (e.g. an acknowledgement that arrives before the outbox marked the lock
     * sent is `send` then `acknowledge`); refuses what the state machine refuses. All or nothing.
     */
    /**
     * Applies `events` in one transaction, the row locked. `events` may be a function of the state found under that
     * lock, for a step that depends on it (the terminal's acknowledgement comes from requested or from sent: read
     * before the lock, the outbox could move it in between).
     */
    async transition(id: string, events: LockEvents, actor: string): Promise<LockInstruction> {
      await db.transaction(async (tx) => {
        const row = (await tx.query<LockRow>('SELECT * FROM lock_instructions WHERE id = $1 FOR UPDATE', [id])).rows[0];
        if (!row) throw new LockTransitionError('LOCK_NOT_FOUND', `no lock instruction ${id}`);
        let state = row.state;
        for (const event of typeof events === 'function' ? events(row.state) : events) {
          const step = transitionLock(state, event);
          if (!step.ok) throw new LockTransitionError(step.code, step.message);
          const reason = 'reason' in event ? event.reason : null;
          await tx.query('INSERT INTO lock_transitions (lock_id, from_state, to_state, actor, reason) VALUES ($1, $2, $3, $4, $5)', [id, step.from, step.to, actor, reason]);
          await audit.append(tx, { actor, action: `lock.${step.to}`, subject: `lock:${id}`, detail: { from: step.from, to: step.to, containerNo: row.container_no, scanId: row.scan_id, ...(reason && { reason }) } });
          const topic = TERMINAL_TOPIC[step.to];
          if (topic) await outbox.add(topic, `${topic}.${id}`, { lockId: id, scanId: row.scan_id, containerNo: row.container_no, reason }, tx);
          state = step.to;
        }
        await tx.query('UPDATE lock_instructions SET state = $2, updated_at = now() WHERE id = $1', [id, state]);
      });
      return (await this.get(id))!;
    },
    /**
     * The gate's answer for a container: every lock instruction must be released, no held scan may be
     * waiting for its lock instruction, and no scan of it may still be in the pipeline.
     */
    async gate(containerNo: string): Promise<{ mayLeave: boolean; openHolds: LockInstruction[]; heldWithoutLock: string[]; pendingScans: string[]; underReview: string[] }> {
      const locks = (await db.query<LockRow>('SELECT * FROM lock_instructions WHERE container_no = $1 ORDER BY created_at', [containerNo])).rows;
      const heldWithoutLock = (
        await db.query<{ scan_id: string }>(
          `SELECT DISTINCT v.scan_id FROM verdicts v JOIN scans s ON s.scan_id = v.scan_id
           WHERE s.container_no = $1 AND v.decision = 'hold' AND NOT EXISTS (SELECT 1 FROM lock_instructions l WHERE l.scan_id = v.scan_id)`,
          [containerNo],
        )
      ).rows.map((r) => r.scan_id);
      const pendingScans = (await db.query<{ scan_id: string }>('SELECT scan_id FROM scans WHERE container_no = $1 AND routed_at IS NULL', [containerNo])).rows.map((r) => r.scan_id);
      const underReview = (
        await db.query<{ scan_id: string }>(
          `SELECT r.scan_id FROM review_items r JOIN scans s USING (scan_id) WHERE s.container_no = $1 AND r.state <> 'decided'`,
          [containerNo],
        )
      ).rows.map((r) => r.scan_id);
      const open = locks.filter((l) => l.state !== 'released');
      const mayLeave = mayLeaveGate(locks.map((l) => l.state)) && heldWithoutLock.length === 0 && pendingScans.length === 0;
      return { mayLeave, openHolds: await withHistory(open), heldWithoutLock, pendingScans, underReview };
    },
  };
}

export type HoldsRepo = ReturnType<typeof holdsRepo>;
