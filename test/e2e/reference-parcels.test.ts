// The reference library for parcels, through HTTP, the pipeline and the committed parcel embedder: parcels
// verified by inspection become references of their declared code (modality parcel-ct, model parcel-embed);
// the next parcel of shoes declared as shoes matches them, and a parcel of phones declared as shoes is sent
// to review with LOOKS_LIKE_OTHER_CODE naming the phones' HS code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reason } from '../../domain/verdict.js';
import type { Rendering } from '../../models/runtime/types.js';
import { makeSample, pngOf } from '../../models/synth/index.js';
import { HS_FOR_PARCEL_ITEM } from '../../models/synth/declarations.js';
import { gatewaysRepo } from '../../storage/repos/gateways.js';
import { referencesRepo } from '../../storage/repos/references.js';
import { verdictsRepo } from '../../storage/repos/verdicts.js';
import { putDeclaration } from '../helpers/declarations.js';
import { committedModels, type TestRuntime } from '../helpers/models.js';
import { pollUntil, pushScan } from '../helpers/push.js';
import { call, makeUser, type TestUser } from '../helpers/review.js';
import { startStack, type TestStack } from '../helpers/stack.js';

const SHOES = HS_FOR_PARCEL_ITEM.shoes!.hsCode;
const PHONES = HS_FOR_PARCEL_ITEM.phone!.hsCode;

/** Synthetic parcels holding one kind of everyday goods only (full-size pseudo-colour renderings). */
function parcelsOf(item: 'shoes' | 'phone', seed: number, n: number): Array<{ rendering: Rendering; count: number }> {
  const out: Array<{ rendering: Rendering; count: number }> = [];
  for (let i = 0; out.length < n && i < 2000; i++) {
    const s = makeSample('parcel', seed, i, { threatRate: 0 });
    const kinds = Object.keys(s.counts ?? {});
    if (kinds.length === 1 && kinds[0] === item) out.push({ rendering: s.rendering, count: s.counts![item]! });
  }
  return out;
}

let models: TestRuntime;
let stack: TestStack;
let risk: TestUser;
let sourceKey: string;
let serial = 0;

/** Declares one line of `code` for a new waybill, pushes the parcel's rendering, waits until it is routed. */
async function scan(scanId: string, p: { rendering: Rendering; count: number }, code: string): Promise<void> {
  const waybill = `SF${String(7_000_000_000 + ++serial)}`;
  const decl = {
    declarationId: `D-${scanId}`,
    waybills: [waybill],
    lines: [{ hsCode: code, description: code === SHOES ? 'leather shoes' : 'smartphones', quantity: p.count, unit: 'pcs', grossKg: 1.5 }],
    enterprise: { id: 'ENT-0042', name: 'Parcel Shipper Ltd.', creditLevel: 'ordinary' },
  };
  expect((await putDeclaration(stack.url, sourceKey, decl)).status).toBeLessThan(300);
  const metadata = { scanId, scannerId: 'CT-07', modality: 'parcel-ct', waybill, capturedAt: '2026-12-01T08:00:00Z' };
  const res = await pushScan(stack.url, { key: stack.key, metadata, images: { image: await pngOf(p.rendering) } });
  expect(res.status).toBe(202);
  const routed = await pollUntil(() => stack.db.db.query<{ routed_at: unknown }>('SELECT routed_at FROM scans WHERE scan_id = $1', [scanId]), (r) => Boolean(r.rows[0]?.routed_at), 30_000, 50);
  expect(routed.rows[0]?.routed_at).toBeTruthy();
}

const machineVerdict = async (scanId: string) => (await verdictsRepo(stack.db.db).machineVerdict(scanId))!;
const references = async (scanId: string) => (await machineVerdict(scanId)).declaredVsSeen as { references?: { status: string; libraryCount: number; bestOther?: { hsCode: string } | null } };

beforeAll(async () => {
  // only the committed parcel embedder: parcels go to review for want of the detector, which is all we need
  models = await committedModels(['parcel-embed']);
  stack = await startStack({ runtime: models.runtime });
  risk = await makeUser(stack.db.db, 'rick', 'risk-control');
  sourceKey = (await gatewaysRepo(stack.db.db).add('decl', 'declaration-source')).key;
}, 60_000);
afterAll(async () => {
  await stack?.close();
  await models?.close();
});

describe('parcel reference library', () => {
  it('verified parcels become references of their declared code; the next parcel of shoes matches them', async () => {
    const [shoes, phones] = [parcelsOf('shoes', 611, 4), parcelsOf('phone', 611, 3)];
    expect(shoes).toHaveLength(4);
    expect(phones).toHaveLength(3);
    await scan('pr-first', shoes[3]!, SHOES);
    expect((await references('pr-first')).references).toMatchObject({ status: 'no-references', libraryCount: 0 });

    for (const [items, code, tag] of [[shoes.slice(0, 3), SHOES, 's'], [phones, PHONES, 'p']] as const) {
      for (const [i, p] of items.entries()) {
        await scan(`pr-ref-${tag}${i}`, p, code);
        const r = await call<{ references: string[] }>(stack.url, 'POST', '/v1/inspections', risk.token, { scanId: `pr-ref-${tag}${i}`, result: 'nothing' });
        expect(r.status).toBe(201);
        expect(r.body.references).toHaveLength(1);
      }
    }
    const stored = await referencesRepo(stack.db.db).list({ hsPrefix: SHOES });
    expect(stored).toHaveLength(3);
    expect(stored[0]).toMatchObject({ modality: 'parcel-ct', model: 'parcel-embed', source: 'inspection' });

    const fresh = parcelsOf('shoes', 612, 1)[0]!;
    await scan('pr-shoes', fresh, SHOES);
    expect((await references('pr-shoes')).references).toMatchObject({ status: 'matches-declared', libraryCount: 6 });
    expect((await machineVerdict('pr-shoes')).reasons.map((r: Reason) => r.code)).not.toContain('LOOKS_LIKE_OTHER_CODE');
  });

  it('a parcel of phones declared as shoes looks like the phones\' code: review with the reason', async () => {
    const phone = parcelsOf('phone', 612, 1)[0]!;
    await scan('pr-swapped', phone, SHOES);
    const v = await machineVerdict('pr-swapped');
    expect((await references('pr-swapped')).references).toMatchObject({ status: 'looks-like-other', bestOther: { hsCode: PHONES } });
    const reason = v.reasons.find((r: Reason) => r.code === 'LOOKS_LIKE_OTHER_CODE');
    expect(reason).toMatchObject({ layer: 'declaration', decision: 'review', evidence: { model: 'parcel-embed' } });
    expect(reason!.detail).toContain(PHONES);
    expect(v.decision).not.toBe('clear');
  });
});
