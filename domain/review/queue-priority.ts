// Review queue order and service deadlines, as customs works them: prohibited-item alarms, then perishable
// goods, then the nearest vessel closing time, then AEO advanced-certified shipments, then oldest first.
import type { CreditLevel } from '../declaration/declaration.js';
import type { Reason } from '../verdict.js';

export interface ReviewQueueItem {
  scanId: string;
  /** When the scan entered the review queue (ISO 8601). */
  enqueuedAt: string;
  prohibitedAlarm: boolean;
  perishable: boolean;
  vesselClosingAt?: string;
  creditLevel?: CreditLevel;
}

export const QUEUE_TIERS = ['prohibited-alarm', 'perishable', 'vessel-closing', 'aeo-advanced', 'standard'] as const;
export type QueueTier = (typeof QUEUE_TIERS)[number];

/** Minutes a reviewer has per tier; a vessel closing sooner shortens the deadline. */
export interface ReviewSla {
  minutes: Record<QueueTier, number>;
  /** A decision is due this long before the vessel closes, so the box can still be loaded. */
  vesselBufferMinutes: number;
}

export const DEFAULT_REVIEW_SLA: ReviewSla = {
  minutes: { 'prohibited-alarm': 15, perishable: 60, 'vessel-closing': 120, 'aeo-advanced': 120, standard: 240 },
  vesselBufferMinutes: 120,
};

/** Reason codes that make a queue item a prohibited-item alarm. */
const ALARM_CODES = new Set(['THREAT_DETECTED', 'THREAT_SUSPECTED', 'PROHIBITED_ITEM', 'PROHIBITED_ITEM_SUSPECTED']);

export function isProhibitedAlarm(reasons: readonly Reason[]): boolean {
  return reasons.some((r) => ALARM_CODES.has(r.code) || (r.code === 'NEGATIVE_LIST' && r.decision === 'hold'));
}

export function queueTier(item: ReviewQueueItem): QueueTier {
  if (item.prohibitedAlarm) return 'prohibited-alarm';
  if (item.perishable) return 'perishable';
  if (item.vesselClosingAt !== undefined) return 'vessel-closing';
  if (item.creditLevel === 'aeo-advanced') return 'aeo-advanced';
  return 'standard';
}

const ms = (iso: string): number => Date.parse(iso);
const MINUTE = 60_000;

/** The decision deadline: the tier's minutes after enqueueing, or earlier if the vessel closes first. */
export function slaDeadline(item: ReviewQueueItem, sla: ReviewSla = DEFAULT_REVIEW_SLA): string {
  let deadline = ms(item.enqueuedAt) + sla.minutes[queueTier(item)] * MINUTE;
  if (item.vesselClosingAt !== undefined) {
    deadline = Math.min(deadline, ms(item.vesselClosingAt) - sla.vesselBufferMinutes * MINUTE);
  }
  return new Date(deadline).toISOString();
}

export interface QueuePriority {
  tier: QueueTier;
  /** 0 = first. */
  tierRank: number;
  deadline: string;
  overdue: boolean;
  /** Negative when overdue. */
  minutesLeft: number;
}

export function queuePriority(item: ReviewQueueItem, now: Date, sla: ReviewSla = DEFAULT_REVIEW_SLA): QueuePriority {
  const tier = queueTier(item);
  const deadline = slaDeadline(item, sla);
  const left = ms(deadline) - now.getTime();
  return { tier, tierRank: QUEUE_TIERS.indexOf(tier), deadline, overdue: left < 0, minutesLeft: Math.floor(left / MINUTE) };
}

/** Sort comparator: by tier; within the vessel tier, nearest closing first; then oldest first; then scan id. */
export function compareQueueItems(a: ReviewQueueItem, b: ReviewQueueItem): number {
  const ta = QUEUE_TIERS.indexOf(queueTier(a));
  const tb = QUEUE_TIERS.indexOf(queueTier(b));
  if (ta !== tb) return ta - tb;
  if (a.vesselClosingAt !== undefined && b.vesselClosingAt !== undefined) {
    const d = ms(a.vesselClosingAt) - ms(b.vesselClosingAt);
    if (d !== 0) return d;
  }
  const age = ms(a.enqueuedAt) - ms(b.enqueuedAt);
  if (age !== 0) return age;
  return a.scanId < b.scanId ? -1 : a.scanId > b.scanId ? 1 : 0;
}
