// The review queue: one item per scan the machine sent to people, claimed with a lease (database time,
// so every process agrees), and the reviewers' decisions on it. A claim is one conditional UPDATE, so
// two reviewers claiming at once cannot both win.
import { isProhibitedAlarm, queuePriority, QUEUE_TIERS, type ReviewQueueItem, type ReviewSla } from '../../domain/review/queue-priority.js';
import type { CreditLevel } from '../../domain/declaration/declaration.js';
import type { Box, Reason } from '../../domain/verdict.js';
import type { Queryable } from '../db/sql.js';
import { iso } from '../db/rows.js';

export const REVIEW_STATES = ['open', 'awaiting-confirmation', 'awaiting-second', 'escalated', 'decided'] as const;
export type ReviewState = (typeof REVIEW_STATES)[number];
export const REVIEWER_DECISIONS = ['clear', 'inspect', 'misdeclared'] as const;
export type ReviewerDecision = (typeof REVIEWER_DECISIONS)[number];
export type Badge = 'prohibited' | 'perishable' | 'vessel-cutoff' | 'aeo';

export interface ReviewItem {
  scanId: string;
  modality: string;
  subject: { containerNo?: string; waybill?: string };
  machineVerdictId: string;
  decision: string;
  reasons: Reason[];
  badges: Badge[];
  receivedAt: string;
  enqueuedAt: string;
  slaDeadline: string;
  state: ReviewState;
  doubleBlind: boolean;
  claimedById: string | null;
  claimedBy: string | null;
  leaseExpiresAt: string | null;
  finalDecision: ReviewerDecision | null;
  /** The queue-order inputs (for compareQueueItems). */
  order: ReviewQueueItem;
}

export interface StoredDecision {
  id: string;
  scanId: string;
  reviewerId: string;
  reviewer: string;
  role: string;
  tier: string | null;
  decision: ReviewerDecision;
  reason: string;
  comment: string | null;
  boxes: Array<{ label: string; box: Box }>;
  status: 'pending-confirmation' | 'counted' | 'rejected';
  confirmedBy: string | null;
  createdAt: string;
}

interface ItemRow {
  scan_id: string;
  state: ReviewState;
  machine_verdict_id: string | number;
  machine_decision: string;
  reasons: Reason[];
  prohibited: boolean;
  perishable: boolean;
  vessel_closing_at: Date | string | null;
  credit_level: CreditLevel | null;
  double_blind: boolean;
  enqueued_at: Date | string;
  sla_deadline: Date | string;
  claimed_by: string | null;
  lease_expires_at: Date | string | null;
  lease_active: boolean;
  final_decision: ReviewerDecision | null;
  modality: string;
  container_no: string | null;
  waybill: string | null;
  received_at: Date | string;
  claimed_by_name: string | null;
}

interface DecisionRow {
  id: string | number;
  scan_id: string;
  reviewer_id: string;
  username: string;
  role: string;
  tier: string | null;
  decision: ReviewerDecision;
  reason: string;
  comment: string | null;
  boxes: Array<{ label: string; box: Box }>;
  status: StoredDecision['status'];
  confirmed_by: string | null;
  created_at: Date | string;
}

const ITEM_SELECT = `SELECT r.*, (r.claimed_by IS NOT NULL AND r.lease_expires_at > now()) AS lease_active,
    s.modality, s.container_no, s.waybill, s.received_at, u.username AS claimed_by_name
  FROM review_items r JOIN scans s USING (scan_id) LEFT JOIN users u ON u.id = r.claimed_by`;

function toItem(r: ItemRow): ReviewItem {
  const badges: Badge[] = [];
  if (r.prohibited) badges.push('prohibited');
  if (r.perishable) badges.push('perishable');
  if (r.vessel_closing_at) badges.push('vessel-cutoff');
  if (r.credit_level === 'aeo-advanced') badges.push('aeo');
  const active = r.lease_active;
  return {
    scanId: r.scan_id,
    modality: r.modality,
    subject: r.container_no ? { containerNo: r.container_no } : { waybill: r.waybill! },
    machineVerdictId: String(r.machine_verdict_id),
    decision: r.machine_decision,
    reasons: r.reasons,
    badges,
    receivedAt: iso(r.received_at),
    enqueuedAt: iso(r.enqueued_at),
    slaDeadline: iso(r.sla_deadline),
    state: r.state,
    doubleBlind: r.double_blind,
    claimedById: active ? r.claimed_by : null,
    claimedBy: active ? r.claimed_by_name : null,
    leaseExpiresAt: active && r.lease_expires_at ? iso(r.lease_expires_at) : null,
    finalDecision: r.final_decision,
    order: {
      scanId: r.scan_id,
      enqueuedAt: iso(r.enqueued_at),
      prohibitedAlarm: r.prohibited,
      perishable: r.perishable,
      ...(r.vessel_closing_at && { vesselClosingAt: iso(r.vessel_closing_at) }),
      ...(r.credit_level && { creditLevel: r.credit_level }),
    },
  };
}

const toDecision = (r: DecisionRow): StoredDecision => ({
  id: String(r.id),
  scanId: r.scan_id,
  reviewerId: r.reviewer_id,
  reviewer: r.username,
  role: r.role,
  tier: r.tier,
  decision: r.decision,
  reason: r.reason,
  comment: r.comment,
  boxes: r.boxes,
  status: r.status,
  confirmedBy: r.confirmed_by,
  createdAt: iso(r.created_at),
});

export type ClaimResult =
  | { outcome: 'claimed'; leaseExpiresAt: string }
  | { outcome: 'not-found' }
  | { outcome: 'taken'; claimedBy: string | null }
  | { outcome: 'not-claimable'; state: ReviewState; why: string };

export function reviewRepo(db: Queryable) {
  async function get(scanId: string, q: Queryable = db, forUpdate = false): Promise<ReviewItem | null> {
    // FOR UPDATE OF r: the item row is locked, not the scan or the user.
    const r = (await q.query<ItemRow>(`${ITEM_SELECT} WHERE r.scan_id = $1${forUpdate ? ' FOR UPDATE OF r' : ''}`, [scanId])).rows[0];
    return r ? toItem(r) : null;
  }

  return {
    get,
    /**
     * Creates the item for a scan the machine sent to review or hold (a retried route stage adds nothing).
     * Its SLA deadline is fixed now, from `sla` (REVIEW_SLA_*; the domain defaults when absent).
     */
    async create(
      q: Queryable,
      input: { scanId: string; machineVerdictId: string; decision: string; reasons: Reason[]; perishable: boolean; vesselClosingAt?: string; creditLevel?: CreditLevel; enterpriseId?: string; enqueuedAt: string; sla?: ReviewSla },
    ): Promise<boolean> {
      const order: ReviewQueueItem = {
        scanId: input.scanId,
        enqueuedAt: input.enqueuedAt,
        prohibitedAlarm: isProhibitedAlarm(input.reasons),
        perishable: input.perishable,
        ...(input.vesselClosingAt && { vesselClosingAt: input.vesselClosingAt }),
        ...(input.creditLevel && { creditLevel: input.creditLevel }),
      };
      const priority = queuePriority(order, new Date(input.enqueuedAt), input.sla);
      const r = await q.query(
        `INSERT INTO review_items (scan_id, machine_verdict_id, machine_decision, reasons, prohibited, perishable, vessel_closing_at,
           credit_level, enterprise_id, tier_rank, enqueued_at, sla_deadline)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (scan_id) DO NOTHING RETURNING scan_id`,
        [input.scanId, input.machineVerdictId, input.decision, JSON.stringify(input.reasons), order.prohibitedAlarm, order.perishable,
          input.vesselClosingAt ?? null, input.creditLevel ?? null, input.enterpriseId ?? null, QUEUE_TIERS.indexOf(priority.tier),
          input.enqueuedAt, priority.deadline],
      );
      return r.rows.length > 0;
    },
    /** Undecided items in the SQL rendering of the queue order (the caller re-sorts with compareQueueItems). */
    async undecided(limit: number): Promise<ReviewItem[]> {
      const rows = (
        await db.query<ItemRow>(
          `${ITEM_SELECT} WHERE r.state <> 'decided'
           ORDER BY r.tier_rank, CASE WHEN r.tier_rank = 2 THEN r.vessel_closing_at END NULLS LAST, r.enqueued_at, r.scan_id LIMIT $1`,
          [limit],
        )
      ).rows;
      return rows.map(toItem);
    },
    /** Items this user holds a live lease on, or must act on: confirmations (tier A, supervisors), escalations (supervisors). */
    async mine(user: { id: string; role: string; tier?: string }): Promise<ReviewItem[]> {
      const confirms = user.role === 'supervisor' || user.tier === 'A';
      const rows = (
        await db.query<ItemRow>(
          `${ITEM_SELECT} WHERE (r.claimed_by = $1 AND r.lease_expires_at > now())
             OR ($2 AND r.state = 'awaiting-confirmation'
                 AND NOT EXISTS (SELECT 1 FROM review_decisions d WHERE d.scan_id = r.scan_id AND d.reviewer_id = $1 AND d.status = 'pending-confirmation'))
             OR ($3 AND r.state = 'escalated')
           ORDER BY r.tier_rank, r.enqueued_at, r.scan_id`,
          [user.id, confirms, user.role === 'supervisor'],
        )
      ).rows;
      return rows.map(toItem);
    },
    async claim(scanId: string, user: { id: string; role: string }, leaseMs: number): Promise<ClaimResult> {
      const r = (
        await db.query<{ lease_expires_at: Date | string }>(
          `UPDATE review_items r SET claimed_by = $2, lease_expires_at = now() + ($3::double precision * interval '1 millisecond'), updated_at = now()
           WHERE r.scan_id = $1
             AND (r.claimed_by IS NULL OR r.lease_expires_at < now() OR r.claimed_by = $2)
             AND (r.state = 'open'
                  -- the second look is blind: not by whoever decided it or confirmed a trainee's decision of it
                  OR (r.state = 'awaiting-second' AND NOT EXISTS (SELECT 1 FROM review_decisions d WHERE d.scan_id = r.scan_id AND (d.reviewer_id = $2 OR d.confirmed_by = $2)))
                  OR (r.state = 'escalated' AND $4))
           RETURNING r.lease_expires_at`,
          [scanId, user.id, leaseMs, user.role === 'supervisor'],
        )
      ).rows[0];
      if (r) return { outcome: 'claimed', leaseExpiresAt: iso(r.lease_expires_at) };
      const item = await get(scanId);
      if (!item) return { outcome: 'not-found' };
      if (item.claimedById && item.claimedById !== user.id) return { outcome: 'taken', claimedBy: item.claimedBy };
      const why =
        item.state === 'awaiting-second' ? 'a double-blind sample needs a second, different reviewer'
        : item.state === 'escalated' ? 'an escalated item is decided by a supervisor'
        : item.state === 'awaiting-confirmation' ? 'the decision awaits confirmation by a tier-A reviewer or supervisor'
        : 'the item is decided';
      return { outcome: 'not-claimable', state: item.state, why };
    },
    async renew(scanId: string, userId: string, leaseMs: number): Promise<string | null> {
      const r = (
        await db.query<{ lease_expires_at: Date | string }>(
          `UPDATE review_items SET lease_expires_at = now() + ($3::double precision * interval '1 millisecond'), updated_at = now()
           WHERE scan_id = $1 AND claimed_by = $2 AND lease_expires_at > now() RETURNING lease_expires_at`,
          [scanId, userId, leaseMs],
        )
      ).rows[0];
      return r ? iso(r.lease_expires_at) : null;
    },
    async release(scanId: string, userId: string): Promise<boolean> {
      const r = await db.query(
        `UPDATE review_items SET claimed_by = NULL, lease_expires_at = NULL, updated_at = now()
         WHERE scan_id = $1 AND claimed_by = $2 AND lease_expires_at > now() RETURNING scan_id`,
        [scanId, userId],
      );
      return r.rows.length > 0;
    },
    /** Returns expired leases' items to the queue; answers their scan ids and states. */
    async expireLeases(): Promise<Array<{ scanId: string; state: ReviewState }>> {
      const r = await db.query<{ scan_id: string; state: ReviewState }>(
        `UPDATE review_items SET claimed_by = NULL, lease_expires_at = NULL, updated_at = now()
         WHERE claimed_by IS NOT NULL AND lease_expires_at < now() RETURNING scan_id, state`,
      );
      return r.rows.map((x) => ({ scanId: x.scan_id, state: x.state }));
    },
    /** Items changed since a moment (database time), for the live queue feed. */
    async changedSince(since: string): Promise<Array<{ scanId: string; state: ReviewState; updatedAt: string }>> {
      const r = await db.query<{ scan_id: string; state: ReviewState; updated_at: Date | string }>(
        `SELECT scan_id, state, updated_at FROM review_items WHERE updated_at > $1 ORDER BY updated_at LIMIT 1000`,
        [since],
      );
      return r.rows.map((x) => ({ scanId: x.scan_id, state: x.state, updatedAt: iso(x.updated_at) }));
    },
    async decisions(scanId: string, q: Queryable = db): Promise<StoredDecision[]> {
      const rows = (
        await q.query<DecisionRow>(
          `SELECT d.*, u.username FROM review_decisions d JOIN users u ON u.id = d.reviewer_id WHERE d.scan_id = $1 ORDER BY d.id`,
          [scanId],
        )
      ).rows;
      return rows.map(toDecision);
    },
    async addDecision(
      q: Queryable,
      d: { scanId: string; reviewerId: string; role: string; tier: string | null; decision: ReviewerDecision; reason: string; comment?: string; boxes: Array<{ label: string; box: Box }>; status: StoredDecision['status'] },
    ): Promise<string> {
      const r = await q.query<{ id: string | number }>(
        `INSERT INTO review_decisions (scan_id, reviewer_id, role, tier, decision, reason, comment, boxes, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
        [d.scanId, d.reviewerId, d.role, d.tier, d.decision, d.reason, d.comment ?? null, JSON.stringify(d.boxes), d.status],
      );
      return String(r.rows[0]!.id);
    },
    async setDecisionStatus(q: Queryable, id: string, status: StoredDecision['status'], confirmedBy: string, note?: string): Promise<void> {
      await q.query('UPDATE review_decisions SET status = $2, confirmed_by = $3, confirm_note = $4 WHERE id = $1', [id, status, confirmedBy, note ?? null]);
    },
    /** Moves the item to its next state; the lease ends with every decision or confirmation. */
    async setState(q: Queryable, scanId: string, state: ReviewState, patch: { doubleBlind?: boolean; finalDecision?: ReviewerDecision } = {}): Promise<void> {
      await q.query(
        `UPDATE review_items SET state = $2, claimed_by = NULL, lease_expires_at = NULL, updated_at = now(),
           double_blind = COALESCE($3, double_blind), final_decision = COALESCE($4, final_decision),
           decided_at = CASE WHEN $2 = 'decided' THEN now() ELSE decided_at END
         WHERE scan_id = $1`,
        [scanId, state, patch.doubleBlind ?? null, patch.finalDecision ?? null],
      );
    },
  };
}

export type ReviewRepo = ReturnType<typeof reviewRepo>;
