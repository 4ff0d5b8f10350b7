// What a reviewer's decision or a senior's confirmation does to a review item: the next state (pure),
// and, once decided, the reviewer's verdict event (the machine's verdict is never touched), the message
// to risk control, a lock instruction or parcel divert for `inspect`/`misdeclared`, and the audit entry.
import type { Decision, Reason, Verdict } from '../../../domain/verdict.js';
import type { Queryable, Sql } from '../../../storage/db/sql.js';
import { auditRepo } from '../../../storage/repos/audit.js';
import { holdsRepo } from '../../../storage/repos/holds.js';
import { outboxRepo } from '../../../storage/repos/outbox.js';
import { reviewRepo, type ReviewItem, type ReviewState, type ReviewerDecision, type StoredDecision } from '../../../storage/repos/review.js';
import { verdictsRepo } from '../../../storage/repos/verdicts.js';

/**
 * The state after the decisions so far: any awaiting confirmation → awaiting-confirmation; fewer counted
 * decisions than required (two for a double-blind sample) → open / awaiting-second; counted decisions
 * that disagree → escalated; else decided with the agreed decision.
 */
export function nextReviewState(
  decisions: ReadonlyArray<Pick<StoredDecision, 'decision' | 'status'>>,
  doubleBlind: boolean,
): { state: ReviewState; finalDecision?: ReviewerDecision } {
  if (decisions.some((d) => d.status === 'pending-confirmation')) return { state: 'awaiting-confirmation' };
  if (decisions.some((d) => d.status === 'rejected')) return { state: 'escalated' };
  const counted = decisions.filter((d) => d.status === 'counted');
  const required = doubleBlind ? 2 : 1;
  if (counted.length < required) return { state: counted.length === 0 ? 'open' : 'awaiting-second' };
  const first = counted[0]!.decision;
  if (counted.some((d) => d.decision !== first)) return { state: 'escalated' };
  return { state: 'decided', finalDecision: first };
}

const VERDICT_DECISION: Record<ReviewerDecision, Decision> = { clear: 'clear', inspect: 'hold', misdeclared: 'hold' };
const REASON_CODE: Record<ReviewerDecision, string> = { clear: 'REVIEWER_CLEAR', inspect: 'REVIEWER_INSPECT', misdeclared: 'REVIEWER_MISDECLARED' };

export interface Actor {
  id: string;
  name: string;
  role: string;
  tier?: string;
}

/**
 * Moves the item to `next` inside the transaction; when decided, appends the reviewer's verdict event
 * and acts on it. Returns the verdict id when one was written.
 */
export async function applyReviewState(
  db: Sql,
  tx: Queryable,
  item: ReviewItem,
  next: { state: ReviewState; finalDecision?: ReviewerDecision },
  ctx: { actor: Actor; action: string; detail: Record<string, unknown>; decisions: StoredDecision[]; doubleBlind?: boolean },
): Promise<string | null> {
  const review = reviewRepo(db);
  const verdicts = verdictsRepo(db);
  await review.setState(tx, item.scanId, next.state, {
    ...(ctx.doubleBlind !== undefined && { doubleBlind: ctx.doubleBlind }),
    ...(next.finalDecision && { finalDecision: next.finalDecision }),
  });
  let verdictId: string | null = null;
  if (next.state === 'decided' && next.finalDecision) {
    const machine = (await tx.query<{ body: Verdict }>('SELECT body FROM verdicts WHERE id = $1', [item.machineVerdictId])).rows[0]!.body;
    const deciding = ctx.decisions.filter((d) => d.status === 'counted' && d.decision === next.finalDecision);
    const boxes = deciding.flatMap((d) => d.boxes.map((b) => ({ label: b.label, score: 1, box: b.box })));
    const decision = VERDICT_DECISION[next.finalDecision];
    const reason: Reason = {
      code: REASON_CODE[next.finalDecision],
      layer: 'reviewer',
      decision,
      detail: deciding.map((d) => `${d.reviewer}: ${d.reason}${d.comment ? ` (${d.comment})` : ''}`).join('; '),
      ...(boxes.length && { evidence: { boxes } }),
    };
    const verdict: Verdict = {
      scanId: item.scanId,
      subject: item.subject,
      decision,
      reasons: [reason],
      policyVersion: machine.policyVersion,
      models: [],
      source: ctx.actor.role === 'supervisor' && item.state === 'escalated' ? 'supervisor' : 'reviewer',
      at: new Date().toISOString(),
      ...(machine.declarationId && { declarationId: machine.declarationId }),
      ...(decision === 'hold' && item.subject.containerNo && { actions: { lock: { containerNo: item.subject.containerNo } } }),
      ...(decision === 'hold' && item.subject.waybill && { actions: { divert: true } }),
    };
    const stored = await verdicts.append(verdict, deciding.map((d) => d.reviewer).join(','), tx);
    verdictId = stored.verdict.id;
    await outboxRepo(db).add('verdict', `verdict.${verdictId}`, stored.verdict, tx);
    if (decision === 'hold' && item.subject.containerNo) {
      await holdsRepo(db).request(tx, { scanId: item.scanId, containerNo: item.subject.containerNo, reasons: [reason.code], actor: ctx.actor.name });
    }
    if (decision === 'hold' && item.subject.waybill) {
      await outboxRepo(db).add('divert', `divert.${item.scanId}`, { scanId: item.scanId, waybill: item.subject.waybill, reasons: [reason.code] }, tx);
    }
  }
  await auditRepo(db).append(tx, {
    actor: ctx.actor.name,
    action: ctx.action,
    subject: `scan:${item.scanId}`,
    detail: { ...ctx.detail, from: item.state, to: next.state, ...(next.finalDecision && { finalDecision: next.finalDecision }), ...(verdictId && { verdictId }) },
  });
  return verdictId;
}
