// Words and numbers as reviewers read them.
import type { Badge, QueueItem } from './api.js';

export const BADGE_LABEL: Record<Badge, string> = { prohibited: 'Prohibited', perishable: 'Perishable', 'vessel-cutoff': 'Vessel cutoff', aeo: 'AEO' };
export const CREDIT_LABEL: Record<string, string> = { 'aeo-advanced': 'AEO advanced', 'aeo-general': 'AEO general', ordinary: 'Ordinary', dishonest: 'Dishonest' };

export function subjectOf(s: { containerNo?: string; waybill?: string }): string {
  return s.containerNo ?? s.waybill ?? '—';
}

/** "12:04" left, or "overdue 3:10"; hours when long. */
export function countdown(deadline: string, now: number): { text: string; overdue: boolean; soon: boolean } {
  const ms = new Date(deadline).getTime() - now;
  const abs = Math.abs(ms);
  const h = Math.floor(abs / 3_600_000);
  const m = Math.floor((abs % 3_600_000) / 60_000);
  const s = Math.floor((abs % 60_000) / 1000);
  const clock = h > 0 ? `${h}h ${String(m).padStart(2, '0')}m` : `${m}:${String(s).padStart(2, '0')}`;
  return ms < 0 ? { text: `overdue ${clock}`, overdue: true, soon: false } : { text: clock, overdue: false, soon: ms < 5 * 60_000 };
}

export function time(iso: string | undefined | null): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function isOverdue(item: QueueItem, now: number): boolean {
  return item.overdue || new Date(item.slaDeadline).getTime() < now;
}

export const MODALITY_LABEL: Record<string, string> = { 'container-xray': 'Container X-ray', 'parcel-ct': 'Parcel CT', 'parcel-xray': 'Parcel X-ray' };
