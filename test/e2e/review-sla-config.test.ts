// Review SLA durations come from the configuration (REVIEW_SLA_*): an item's deadline, shown by
// GET /v1/review/queue, is its queue tier's configured minutes after it entered the queue, or the
// configured buffer before its vessel closes when that is sooner.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_REVIEW_SLA } from '../../domain/review/queue-priority.js';
import { gatewaysRepo } from '../../storage/repos/gateways.js';
import { putDeclaration, tyreDeclaration } from '../helpers/declarations.js';
import { call, containerNo, makeUser, pushAndRoute, type TestUser } from '../helpers/review.js';
import { startStack, type TestStack } from '../helpers/stack.js';

const SLA = { standard: 7, perishable: 3, aeo: 11, vessel: 500, buffer: 10 };
let stack: TestStack;
let reviewer: TestUser;
const closesAt = new Date(Date.now() + 60 * 60_000).toISOString();

beforeAll(async () => {
  stack = await startStack({
    env: {
      REVIEW_SLA_STANDARD_MINUTES: String(SLA.standard),
      REVIEW_SLA_PERISHABLE_MINUTES: String(SLA.perishable),
      REVIEW_SLA_AEO_MINUTES: String(SLA.aeo),
      REVIEW_SLA_VESSEL_MINUTES: String(SLA.vessel),
      REVIEW_SLA_VESSEL_BUFFER_MINUTES: String(SLA.buffer),
    },
  });
  reviewer = await makeUser(stack.db.db, 'sla-reviewer', 'reviewer', 'B');
  const sourceKey = (await gatewaysRepo(stack.db.db).add('sla-decl', 'declaration-source')).key;
  const cn = await Promise.all([1, 2, 3, 4].map((i) => containerNo('SLA', 200 + i)));
  const ordinary = { enterprise: { id: 'ENT-SLA', creditLevel: 'ordinary' } };
  await putDeclaration(stack.url, sourceKey, tyreDeclaration('D-SLA-PER', cn[1]!, { ...ordinary, perishable: true }));
  await putDeclaration(stack.url, sourceKey, tyreDeclaration('D-SLA-AEO', cn[2]!));
  await putDeclaration(stack.url, sourceKey, tyreDeclaration('D-SLA-VES', cn[3]!, { ...ordinary, vesselClosingAt: closesAt }));
  // sla-0 has no declaration: the standard tier.
  for (const [i, no] of cn.entries()) await pushAndRoute(stack.url, stack.key, stack.db.db, `sla-${i}`, no, 60 + i);
});
afterAll(async () => stack?.close());

describe('configurable review SLA', () => {
  it('each queue item gets its tier\'s configured deadline', async () => {
    const q = await call<{ items: Array<{ scanId: string; enqueuedAt: string; slaDeadline: string; badges: string[] }> }>(stack.url, 'GET', '/v1/review/queue', reviewer.token);
    expect(q.status).toBe(200);
    const minutesAfterEnqueue = (scanId: string) => {
      const item = q.body.items.find((i) => i.scanId === scanId)!;
      return (Date.parse(item.slaDeadline) - Date.parse(item.enqueuedAt)) / 60_000;
    };
    expect(minutesAfterEnqueue('sla-0')).toBe(SLA.standard);
    expect(minutesAfterEnqueue('sla-1')).toBe(SLA.perishable);
    expect(minutesAfterEnqueue('sla-2')).toBe(SLA.aeo);
    // Not the defaults.
    expect(SLA.standard).not.toBe(DEFAULT_REVIEW_SLA.minutes.standard);
    // The vessel closes in an hour: the deadline is the configured buffer before it (sooner than 500 minutes).
    const vessel = q.body.items.find((i) => i.scanId === 'sla-3')!;
    expect(vessel.badges).toContain('vessel-cutoff');
    expect(vessel.slaDeadline).toBe(new Date(Date.parse(closesAt) - SLA.buffer * 60_000).toISOString());
  });
});
