import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  QUEUE_TIERS,
  compareQueueItems,
  isProhibitedAlarm,
  queuePriority,
  queueTier,
  slaDeadline,
  type ReviewQueueItem,
} from '../../domain/review/queue-priority.js';
import { CREDIT_LEVELS } from '../../domain/declaration/declaration.js';

const item = (scanId: string, over: Partial<ReviewQueueItem> = {}): ReviewQueueItem => ({
  scanId,
  enqueuedAt: '2026-11-23T08:00:00.000Z',
  prohibitedAlarm: false,
  perishable: false,
  ...over,
});

describe('review queue order', () => {
  it('orders alarms, perishable, vessel closing, AEO advanced, then oldest first', () => {
    const items = [
      item('old-ordinary', { enqueuedAt: '2026-11-23T07:00:00.000Z', creditLevel: 'ordinary' }),
      item('new-ordinary', { enqueuedAt: '2026-11-23T09:00:00.000Z' }),
      item('aeo', { creditLevel: 'aeo-advanced', enqueuedAt: '2026-11-23T09:30:00.000Z' }),
      item('vessel-late', { vesselClosingAt: '2026-11-24T12:00:00.000Z' }),
      item('vessel-soon', { vesselClosingAt: '2026-11-23T18:00:00.000Z', enqueuedAt: '2026-11-23T09:59:00.000Z' }),
      item('frozen', { perishable: true, creditLevel: 'dishonest' }),
      item('gun', { prohibitedAlarm: true, enqueuedAt: '2026-11-23T09:59:00.000Z' }),
    ];
    expect([...items].sort(compareQueueItems).map((i) => i.scanId)).toEqual([
      'gun', 'frozen', 'vessel-soon', 'vessel-late', 'aeo', 'old-ordinary', 'new-ordinary',
    ]);
  });

  it.each([
    [{ prohibitedAlarm: true, perishable: true, vesselClosingAt: '2026-11-23T10:00:00Z' }, 'prohibited-alarm'],
    [{ perishable: true, creditLevel: 'aeo-advanced' as const }, 'perishable'],
    [{ vesselClosingAt: '2026-11-23T10:00:00Z', creditLevel: 'aeo-advanced' as const }, 'vessel-closing'],
    [{ creditLevel: 'aeo-advanced' as const }, 'aeo-advanced'],
    [{ creditLevel: 'aeo-general' as const }, 'standard'],
  ])('%j → %s', (over, tier) => {
    expect(queueTier(item('x', over))).toBe(tier);
  });

  const itemArb = fc.record({
    scanId: fc.string({ maxLength: 4 }),
    enqueuedAt: fc.integer({ min: 0, max: 10_000 }).map((m) => new Date(Date.UTC(2026, 10, 23) + m * 60_000).toISOString()),
    prohibitedAlarm: fc.boolean(),
    perishable: fc.boolean(),
    vesselClosingAt: fc.option(fc.integer({ min: 0, max: 10_000 }).map((m) => new Date(Date.UTC(2026, 10, 24) + m * 60_000).toISOString()), { nil: undefined }),
    creditLevel: fc.option(fc.constantFrom(...CREDIT_LEVELS), { nil: undefined }),
  }).map((r) => {
    const { vesselClosingAt, creditLevel, ...rest } = r;
    return { ...rest, ...(vesselClosingAt && { vesselClosingAt }), ...(creditLevel && { creditLevel }) } as ReviewQueueItem;
  });

  it('is a consistent ordering: antisymmetric and a prohibited alarm never sorts after anything else', () => {
    fc.assert(
      fc.property(fc.array(itemArb, { maxLength: 20 }), (items) => {
        for (const a of items) for (const b of items) if (Math.sign(compareQueueItems(a, b)) !== -Math.sign(compareQueueItems(b, a))) return false;
        const sorted = [...items].sort(compareQueueItems);
        const firstOther = sorted.findIndex((i) => !i.prohibitedAlarm);
        return firstOther < 0 || sorted.slice(firstOther).every((i) => !i.prohibitedAlarm);
      }),
    );
  });

  it('sorts into tiers in order', () => {
    fc.assert(
      fc.property(fc.array(itemArb, { maxLength: 20 }), (items) => {
        const ranks = [...items].sort(compareQueueItems).map((i) => QUEUE_TIERS.indexOf(queueTier(i)));
        return ranks.every((r, k) => k === 0 || ranks[k - 1]! <= r);
      }),
    );
  });
});

describe('SLA deadlines', () => {
  it('gives each tier its minutes and raises overdue past the deadline', () => {
    const alarm = item('a', { prohibitedAlarm: true });
    expect(slaDeadline(alarm)).toBe('2026-11-23T08:15:00.000Z');
    expect(queuePriority(alarm, new Date('2026-11-23T08:10:00Z'))).toMatchObject({ tier: 'prohibited-alarm', tierRank: 0, overdue: false, minutesLeft: 5 });
    expect(queuePriority(alarm, new Date('2026-11-23T08:16:00Z'))).toMatchObject({ overdue: true, minutesLeft: -1 });
    expect(slaDeadline(item('s'))).toBe('2026-11-23T12:00:00.000Z');
  });

  it('brings the deadline forward so the vessel can still be caught', () => {
    const soon = item('v', { vesselClosingAt: '2026-11-23T09:30:00.000Z' });
    expect(slaDeadline(soon)).toBe('2026-11-23T07:30:00.000Z');
    expect(queuePriority(soon, new Date('2026-11-23T08:00:00Z')).overdue).toBe(true);
  });

  it('knows which reasons are prohibited-item alarms', () => {
    expect(isProhibitedAlarm([{ code: 'THREAT_DETECTED', layer: 'security', decision: 'hold', detail: '' }])).toBe(true);
    expect(isProhibitedAlarm([{ code: 'NEGATIVE_LIST', layer: 'security', decision: 'hold', detail: '' }])).toBe(true);
    expect(isProhibitedAlarm([{ code: 'NEGATIVE_LIST', layer: 'security', decision: 'review', detail: '' }])).toBe(false);
    expect(isProhibitedAlarm([{ code: 'WEIGHT_MISMATCH', layer: 'manifest', decision: 'review', detail: '' }])).toBe(false);
  });
});
