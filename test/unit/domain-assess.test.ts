import { describe, expect, expectTypeOf, it } from 'vitest';
import type { ModelOutput } from '../../models/runtime/types.js';
import type { ModelEvidence } from '../../domain/assessment/types.js';
import { assess } from '../../domain/assessment/assess.js';
import { assessShadow } from '../../domain/assessment/shadow.js';
import { toVerdict } from '../../domain/assessment/to-verdict.js';
import {
  classifier,
  containerDeclaration,
  containerNo,
  containerScan,
  detector,
  line,
  parcelDeclaration,
  parcelScan,
  testPolicy,
} from './domain-fixtures.js';

const policy = testPolicy();
const codes = (a: { reasons: Array<{ code: string }> }) => a.reasons.map((r) => r.code);

describe('assess: a clean scan', () => {
  it('clears a clean container of declared tyres with no reasons', () => {
    const a = assess(containerScan(), policy);
    expect(a.decision).toBe('clear');
    expect(a.reasons).toEqual([]);
    expect(a.lockInstruction).toBeUndefined();
    expect(a.declaredVsSeen.seen).toEqual([{ category: 'tyres', score: 0.95, share: 1 }]);
    expect(a.declaredVsSeen.weight).toMatchObject({ measuredKg: 15_900, tareKg: 3_800, expectedKg: 15_800 });
    expect(a.policyVersion).toBe(policy.version);
    expect(a.models).toEqual([{ name: 'cargo-cls', version: '1.0.0' }, { name: 'threat-det', version: '1.0.0' }]);
  });

  it.each([
    ['ordinary, positive-listed tyres', 'ordinary', '4011100000', 'tyres', true],
    ['ordinary, steel (low risk, not listed)', 'ordinary', '7208100000', 'iron-steel', false],
    ['AEO advanced, steel (single low risk)', 'aeo-advanced', '7208100000', 'iron-steel', true],
    ['AEO advanced, machinery (not low risk)', 'aeo-advanced', '8471300000', 'machinery-electronics', false],
    ['AEO general, steel', 'aeo-general', '7208100000', 'iron-steel', false],
  ] as const)('direct release: %s → %s', (_n, creditLevel, hsCode, category, expected) => {
    const a = assess(
      containerScan({
        declaration: containerDeclaration({ lines: [line(hsCode, { grossKg: 12_000 })], enterprise: { id: 'E', creditLevel } }),
        modelOutputs: [classifier({ empty: 0.01, [category]: 0.9 }), detector([])],
      }),
      policy,
    );
    expect(a.decision).toBe('clear');
    expect(a.directRelease).toBe(expected);
  });
});

describe('assess: security admission', () => {
  it('holds a container with a firearm above threshold, with boxes, model and lock instruction', () => {
    const a = assess(containerScan({ modelOutputs: [classifier({ tyres: 0.9 }), detector([['firearm', 0.91], ['firearm', 0.6]])] }), policy);
    expect(a.decision).toBe('hold');
    expect(a.reasons[0]).toMatchObject({
      code: 'THREAT_DETECTED',
      layer: 'security',
      decision: 'hold',
      evidence: { model: 'threat-det', version: '1.0.0', boxes: [{ label: 'firearm', score: 0.91 }, { label: 'firearm', score: 0.6 }] },
    });
    expect(a.reasons[0]?.detail).toMatch(/firearm.*2 places/);
    expect(a.lockInstruction).toEqual({ containerNo: containerNo(), sealNo: 'SEAL123' });
    expect(a.directRelease).toBe(false);
  });

  it.each([
    ['firearm', 0.34, 'clear'],
    ['firearm', 0.35, 'review'],
    ['firearm', 0.75, 'hold'],
    ['hidden-compartment', 0.5, 'review'],
    ['hidden-compartment', 0.8, 'hold'],
    ['clothes', 0.99, 'clear'],
  ] as const)('container detection %s at %s → %s', (label, score, decision) => {
    expect(assess(containerScan({ modelOutputs: [classifier({ tyres: 0.9 }), detector([[label, score]])] }), policy).decision).toBe(decision);
  });

  it('a threat class that is the declared goods (cigarettes under 2402, kitchen knives under 8211) is not a concealment', () => {
    const cig = assess(containerScan({ declaration: containerDeclaration({ lines: [line('2402200000')] }), modelOutputs: [classifier({ tyres: 0.1 }), detector([['cigarettes', 0.95]])] }), policy);
    expect(codes(cig)).not.toContain('THREAT_DETECTED');
    expect(cig.reasons).toContainEqual(expect.objectContaining({ code: 'NEGATIVE_LIST', decision: 'review' }));
    expect(cig.decision).toBe('review');
    const knives = assess(containerScan({ declaration: containerDeclaration({ lines: [line('8211910000')] }), modelOutputs: [classifier({ 'iron-steel': 0.9 }), detector([['knife', 0.95]])] }), policy);
    expect(codes(knives)).not.toContain('THREAT_DETECTED');
    // the same knife in declared tyres is a concealment
    const hidden = assess(containerScan({ modelOutputs: [classifier({ tyres: 0.9 }), detector([['knife', 0.95]])] }), policy);
    expect(codes(hidden)).toContain('THREAT_DETECTED');
    expect(hidden.decision).toBe('hold');
    // declared among other goods (furniture and some cutlery): the knife may be hidden in the furniture, so a
    // reviewer looks; it was cleared before
    const mixed = containerDeclaration({ lines: [line('9403600000'), line('8211910000')] });
    const among = assess(containerScan({ declaration: mixed, weightKg: undefined, modelOutputs: [classifier({ 'wood-furniture': 0.95, 'iron-steel': 0.15 }), detector([['knife', 0.95]])] }), policy);
    expect([among.decision, codes(among)]).toEqual(['review', ['THREAT_OF_DECLARED_KIND']]);
    // and a firearm in that box is a concealment whatever knives are declared
    const gun = assess(containerScan({ declaration: mixed, modelOutputs: [classifier({ 'wood-furniture': 0.95, 'iron-steel': 0.15 }), detector([['firearm', 0.95]])] }), policy);
    expect(gun.decision).toBe('hold');
  });

  it("applies a verifier's own thresholds to the detections it confirmed, and the label's to the rest", () => {
    const p = testPolicy((q) => (q.security.modelThreatThresholds = { 'threat-verify': { knife: 0.1 } }));
    const verified = (score: number): ModelEvidence => ({ ...detector([['knife', score]], 'threat-grid'), verifiedBy: { model: 'threat-verify', version: '1.1.0' } });
    const weakButVerified = assess(containerScan({ modelOutputs: [classifier({ tyres: 0.9 }), verified(0.15)] }), p);
    expect(weakButVerified.reasons).toContainEqual(expect.objectContaining({ code: 'THREAT_SUSPECTED', decision: 'review' }));
    expect(weakButVerified.models).toContainEqual({ name: 'threat-verify', version: '1.1.0' }); // the verdict names the verifier too
    // the same score straight from a detector is under the label's threshold (0.4): nothing to see
    const unverified = assess(containerScan({ modelOutputs: [classifier({ tyres: 0.9 }), detector([['knife', 0.15]], 'threat-grid')] }), p);
    expect(unverified.reasons.map((r) => r.code)).not.toContain('THREAT_SUSPECTED');
    // holding still needs the hold threshold
    expect(assess(containerScan({ modelOutputs: [classifier({ tyres: 0.9 }), verified(0.8)] }), p).decision).toBe('hold');
  });

  it('holds only at the hold threshold; below it a suspected threat goes to a reviewer as an alarm, with its boxes', () => {
    const weak = assess(containerScan({ modelOutputs: [classifier({ tyres: 0.9 }), detector([['knife', 0.6]])] }), policy);
    expect(weak.decision).toBe('review');
    expect(weak.reasons).toContainEqual(expect.objectContaining({ code: 'THREAT_SUSPECTED', layer: 'security', decision: 'review' }));
    expect(weak.reasons[0]?.evidence?.boxes).toHaveLength(1);
    expect(weak.lockInstruction).toBeUndefined();
    // a policy without a hold threshold holds every detection over its threat threshold
    expect(assess(containerScan({ modelOutputs: [classifier({ tyres: 0.9 }), detector([['knife', 0.6]])] }), testPolicy((p) => (p.security.holdThreshold = 0))).decision).toBe('hold');
    const parcel = assess(parcelScan({ modelOutputs: [detector([['clothes', 0.9], ['clothes', 0.9], ['clothes', 0.9], ['gun', 0.5]], 'parcel-det')] }), policy);
    expect(parcel.reasons.map((r) => [r.code, r.decision])).toContainEqual(['PROHIBITED_ITEM_SUSPECTED', 'review']);
    expect(parcel.divert).toBe(false);
  });

  it.each([
    ['9302000000', 'hold'],
    ['2402200000', 'review'],
    ['6309000000', 'review'],
  ] as const)('negative list %s → %s', (hsCode, decision) => {
    const a = assess(containerScan({ declaration: containerDeclaration({ lines: [line('4011100000'), line(hsCode)] }) }), policy);
    expect(a.reasons).toContainEqual(expect.objectContaining({ code: 'NEGATIVE_LIST', layer: 'security', decision }));
  });

  it('holds and diverts a parcel with a prohibited item; restricted items go to review without divert', () => {
    const gun = assess(parcelScan({ modelOutputs: [detector([['clothes', 0.9], ['clothes', 0.9], ['clothes', 0.9], ['gun', 0.8]])] }), policy);
    expect(gun).toMatchObject({ decision: 'hold', divert: true });
    expect(codes(gun)).toEqual(['PROHIBITED_ITEM']);
    expect(gun.lockInstruction).toBeUndefined();
    const lighter = assess(parcelScan({ modelOutputs: [detector([['clothes', 0.9], ['clothes', 0.9], ['clothes', 0.9], ['lighter', 0.8]])] }), policy);
    expect(lighter).toMatchObject({ decision: 'review', divert: false });
    expect(codes(lighter)).toEqual(['RESTRICTED_ITEM']);
  });
});

describe('assess: manifest check', () => {
  const empty = containerDeclaration({ lines: [] });
  it.each([
    ['declared empty, seen loaded', empty, { empty: 0.1, tyres: 0.9 }, 4_000, 'MANIFEST_EMPTY_MISMATCH', 'hold'],
    ['declared loaded, seen empty', containerDeclaration(), { empty: 0.9 }, 15_800, 'MANIFEST_EMPTY_MISMATCH', 'review'],
    ['declared empty, overweight', empty, { empty: 0.9 }, 4_500, 'EMPTY_CONTAINER_OVERWEIGHT', 'hold'],
    ['weight 25% over', containerDeclaration(), { empty: 0.01, tyres: 0.9 }, 19_750, 'WEIGHT_MISMATCH', 'review'],
    ['weight 25% under', containerDeclaration(), { empty: 0.01, tyres: 0.9 }, 11_850, 'WEIGHT_MISMATCH', 'review'],
  ] as const)('%s → %s (%s)', (_n, declaration, scores, weightKg, code, decision) => {
    const a = assess(containerScan({ declaration, weightKg, modelOutputs: [classifier(scores), detector([])] }), policy);
    expect(a.reasons).toContainEqual(expect.objectContaining({ code, layer: 'manifest', decision }));
    expect(a.decision).toBe(decision);
    if (decision === 'hold') expect(a.lockInstruction?.containerNo).toBe(containerNo());
  });

  it('sends a box declared empty that reads as both empty and surely loaded to a reviewer', () => {
    // a floor of steel plates, or an empty reefer's machinery end: the classifier scores each label alone
    const scores = { empty: 0.65, 'iron-steel': 0.97 };
    // weighed within its tare's tolerance (a heavier one is held as overweight, below)
    const a = assess(containerScan({ declaration: empty, weightKg: 4_000, modelOutputs: [classifier(scores), detector([])] }), policy);
    expect(a.decision).toBe('review');
    expect(codes(a)).toEqual(['MANIFEST_EMPTY_UNCERTAIN']);
    expect(a.reasons[0]).toMatchObject({
      layer: 'manifest', decision: 'review',
      detail: 'Declared empty; the image reads as empty (score 0.65) but also shows iron-steel (score 0.97).',
      evidence: { scores: { empty: 0.65, 'iron-steel': 0.97 } },
    });
    expect(a.lockInstruction).toBeUndefined();
    // cargo under the presence threshold: the empty score stands and the box clears
    const faint = assess(containerScan({ declaration: empty, weightKg: 4_000, modelOutputs: [classifier({ empty: 0.65, 'iron-steel': policy.declaration.categoryPresenceThreshold - 0.05 }), detector([])] }), policy);
    expect(faint.decision).toBe('clear');
    // a box declared loaded that reads as empty is reviewed as before, whatever else it shows
    const loaded = assess(containerScan({ modelOutputs: [classifier({ empty: 0.7, tyres: 0.95 }), detector([])] }), policy);
    expect(codes(loaded)).toEqual(['MANIFEST_EMPTY_MISMATCH']);
  });

  it('clears an empty container declared empty within its tare tolerance', () => {
    const a = assess(containerScan({ declaration: empty, weightKg: 4_000, modelOutputs: [classifier({ empty: 0.95 }), detector([])] }), policy);
    expect(a.decision).toBe('clear');
    expect(a.directRelease).toBe(false);
  });

  it("completes a declaration without tare from the container register; the declaration's own tare wins", () => {
    const noTare = containerDeclaration({ containers: [{ containerNo: containerNo() }] });
    const scores = { empty: 0.01, tyres: 0.9 };
    const fromRegister = assess(containerScan({ declaration: noTare, weightKg: 19_750, registeredTareKg: 3_800, modelOutputs: [classifier(scores), detector([])] }), policy);
    expect(fromRegister.declaredVsSeen.weight).toMatchObject({ tareKg: 3_800, tareSource: 'register', expectedKg: 15_800 });
    const reason = fromRegister.reasons.find((r) => r.code === 'WEIGHT_MISMATCH');
    expect(reason?.detail).toContain('container register');
    // a declared tare is the shipper's statement about this box: it is used, the register's is not
    const declared = assess(containerScan({ declaration: containerDeclaration(), weightKg: 15_900, registeredTareKg: 8_000, modelOutputs: [classifier(scores), detector([])] }), policy);
    expect(declared.declaredVsSeen.weight).toMatchObject({ tareKg: 3_800, tareSource: 'declaration' });
    expect(codes(declared)).not.toContain('WEIGHT_MISMATCH');
    // an empty box declared empty, weighed against the register's tare
    const empty = containerDeclaration({ lines: [], containers: [{ containerNo: containerNo() }] });
    const heavy = assess(containerScan({ declaration: empty, weightKg: 4_900, registeredTareKg: 3_800, modelOutputs: [classifier({ empty: 0.9 }), detector([])] }), policy);
    expect(heavy.reasons).toContainEqual(expect.objectContaining({ code: 'EMPTY_CONTAINER_OVERWEIGHT', decision: 'hold' }));
  });

  it('a box declared empty is not cleared without a usable empty score, nor a scan with an unreadable detection', () => {
    const empty = containerDeclaration({ lines: [], containers: [{ containerNo: containerNo() }] });
    const seen = (scores: Record<string, number>, dets: Array<[string, number]> = []) => assess(containerScan({ declaration: empty, modelOutputs: [classifier(scores), detector(dets)] }), policy);
    expect(seen({ empty: 0.95 }).decision).toBe('clear');
    // no empty label at all: nothing says it is empty
    expect([seen({ 'iron-steel': 0.99 }).decision, codes(seen({ 'iron-steel': 0.99 }))]).toEqual(['review', ['MANIFEST_NOT_CHECKED']]);
    // an empty score that is not a number: not readable, and not checked
    expect(codes(seen({ empty: Number.NaN, 'iron-steel': 0.99 })).sort()).toEqual(['MANIFEST_NOT_CHECKED', 'MODEL_OUTPUT_INVALID']);
    // a detection with no number for a score would have vanished below every threshold
    const det = seen({ empty: 0.95 }, [['firearm', Number.NaN]]);
    expect([det.decision, codes(det)]).toEqual(['review', ['MODEL_OUTPUT_INVALID']]);
  });

  it('says why weight was not compared', () => {
    const noTare = containerDeclaration({ containers: [{ containerNo: containerNo() }] });
    expect(assess(containerScan({ declaration: noTare }), policy).declaredVsSeen.weight?.notChecked).toMatch(/tare/);
    const shared = containerDeclaration({ containers: [{ containerNo: containerNo(), tareKg: 3_800 }, { containerNo: containerNo('TWDU', 2), tareKg: 3_800 }] });
    const a = assess(containerScan({ declaration: shared, weightKg: 30_000 }), policy);
    expect(a.declaredVsSeen.weight?.notChecked).toMatch(/several containers/);
    expect(codes(a)).not.toContain('WEIGHT_MISMATCH');
  });
});

describe('assess: declaration check', () => {
  it('raises an undeclared category with its share', () => {
    const a = assess(containerScan({ modelOutputs: [classifier({ tyres: 0.95, 'machinery-electronics': 0.95 }), detector([])] }), policy);
    expect(a.decision).toBe('review');
    expect(codes(a)).toEqual(['UNDECLARED_CATEGORY', 'MORE_KINDS_THAN_DECLARED']);
    expect(a.reasons[0]?.detail).toMatch(/machinery-electronics, about 50%/);
    expect(a.declaredVsSeen.undeclared).toEqual([{ category: 'machinery-electronics', share: 0.5 }]);
  });

  it('checks declarations of three kinds or fewer for extra kinds, even below the undeclared share', () => {
    const lenient = testPolicy((p) => (p.declaration.undeclaredShare = 0.5));
    const scores = { tyres: 0.95, 'machinery-electronics': 0.92 };
    const oneKind = assess(containerScan({ modelOutputs: [classifier(scores), detector([])] }), lenient);
    expect(codes(oneKind)).toEqual(['MORE_KINDS_THAN_DECLARED']);
    const decl = containerDeclaration({ lines: ['4011100000', '4011200000', '4011400000', '4011500000'].map((c) => line(c, { grossKg: 3_000 })) });
    const fourKinds = assess(containerScan({ declaration: decl, modelOutputs: [classifier(scores), detector([])] }), lenient);
    expect(fourKinds.decision).toBe('clear');
    expect(fourKinds.declaredVsSeen.undeclared).toEqual([{ category: 'machinery-electronics', share: 0.492 }]);
  });

  it('raises declared goods not seen', () => {
    const decl = containerDeclaration({ lines: [line('4011100000'), line('8471300000')] });
    const a = assess(containerScan({ declaration: decl, weightKg: undefined, modelOutputs: [classifier({ tyres: 0.9, 'machinery-electronics': 0.05 }), detector([])] }), policy);
    expect(a.reasons).toEqual([expect.objectContaining({ code: 'DECLARED_NOT_SEEN', decision: 'review', evidence: expect.objectContaining({ scores: { 'machinery-electronics': 0.05 } }) })]);
    expect(a.declaredVsSeen.notSeen).toEqual(['machinery-electronics']);
  });

  it('counts a declared category as seen on less evidence than it raises an undeclared one on', () => {
    expect(policy.declaration.declaredPresenceThreshold).toBeLessThan(policy.declaration.categoryPresenceThreshold);
    const between = (policy.declaration.declaredPresenceThreshold + policy.declaration.categoryPresenceThreshold) / 2;
    // declared tyres and laptops, the laptops half-seen: confirmed, the scan clears
    const decl = containerDeclaration({ lines: [line('4011100000'), line('8471300000')] });
    const declared = assess(containerScan({ declaration: decl, weightKg: undefined, modelOutputs: [classifier({ tyres: 0.9, 'machinery-electronics': between }), detector([])] }), policy);
    expect(declared.decision).toBe('clear');
    expect(declared.declaredVsSeen.seen.map((s) => s.category)).toEqual(['tyres', 'machinery-electronics']);
    // declared tyres only, laptops half-seen: not raised as undeclared goods or an extra kind either
    const undeclared = assess(containerScan({ weightKg: undefined, modelOutputs: [classifier({ tyres: 0.9, 'machinery-electronics': between }), detector([])] }), policy);
    expect(undeclared.decision).toBe('clear');
    expect(undeclared.declaredVsSeen.seen.map((s) => s.category)).toEqual(['tyres']);
    // one threshold for both (a policy without declaredPresenceThreshold): the half-seen declared line is raised
    const single = testPolicy((p) => (p.declaration.declaredPresenceThreshold = p.declaration.categoryPresenceThreshold));
    expect(codes(assess(containerScan({ declaration: decl, weightKg: undefined, modelOutputs: [classifier({ tyres: 0.9, 'machinery-electronics': between }), detector([])] }), single))).toEqual(['DECLARED_NOT_SEEN']);
  });

  it('leaves uncountable items (clothes by default) uncounted but still raises more of them or undeclared items', () => {
    const none = parcelScan({ modelOutputs: [detector([], 'parcel-det')] });
    expect(codes(assess(none, policy))).toEqual([]);
    const more = parcelScan({ modelOutputs: [detector([['clothes', 0.9], ['clothes', 0.9], ['clothes', 0.9], ['clothes', 0.9]], 'parcel-det')] });
    expect(codes(assess(more, policy))).toEqual(['COUNT_MISMATCH']);
    const phone = parcelScan({ modelOutputs: [detector([['phone', 0.9]], 'parcel-det')] });
    expect(codes(assess(phone, policy))).toEqual(['UNDECLARED_CATEGORY']);
  });

  it('accepts an undercount only as far as the policy allows; an overcount is the smuggling direction', () => {
    const two = parcelScan({ modelOutputs: [detector([['clothes', 0.9], ['clothes', 0.9]], 'parcel-det')] });
    expect(codes(assess(two, testPolicy((p) => { p.declaration.parcelUndercountTolerance = 0; p.declaration.parcelUncountedItems = []; })))).toEqual(['COUNT_MISMATCH']);
    expect(codes(assess(two, testPolicy((p) => { p.declaration.parcelUndercountTolerance = 1; p.declaration.parcelUncountedItems = []; })))).toEqual([]);
    const four = parcelScan({ modelOutputs: [detector([['clothes', 0.9], ['clothes', 0.9], ['clothes', 0.9], ['clothes', 0.9]], 'parcel-det')] });
    expect(codes(assess(four, testPolicy((p) => { p.declaration.parcelUndercountTolerance = 5; p.declaration.parcelUncountedItems = []; })))).toEqual(['COUNT_MISMATCH']);
    expect(codes(assess(four, testPolicy((p) => { p.declaration.parcelCountTolerance = 1; p.declaration.parcelUncountedItems = []; })))).toEqual([]);
  });

  it('sends goods the image cannot confirm to review unless the policy says otherwise', () => {
    const toys = containerDeclaration({ lines: [line('9503000000')] });
    const input = containerScan({ declaration: toys, weightKg: undefined, modelOutputs: [classifier({ empty: 0.01 }), detector([])] });
    expect(codes(assess(input, policy))).toEqual(['GOODS_NOT_RECOGNISABLE']);
    expect(assess(input, testPolicy((p) => (p.declaration.unrecognisableGoods = 'clear'))).decision).toBe('clear');
  });

  it.each([
    ['counts match', [['clothes', 0.9], ['clothes', 0.9], ['clothes', 0.9]], []],
    ['one missing (stacked clothes hide one: within the undercount tolerance)', [['clothes', 0.9], ['clothes', 0.9]], []],
    ['two missing', [['clothes', 0.9]], ['COUNT_MISMATCH']],
    ['none of the declared item seen', [], ['COUNT_MISMATCH']],
    ['one extra', [['clothes', 0.9], ['clothes', 0.9], ['clothes', 0.9], ['clothes', 0.7]], ['COUNT_MISMATCH']],
    ['undeclared phone', [['clothes', 0.9], ['clothes', 0.9], ['clothes', 0.9], ['phone', 0.8]], ['UNDECLARED_CATEGORY']],
    ['weak detection ignored', [['clothes', 0.9], ['clothes', 0.9], ['clothes', 0.9], ['phone', 0.2]], []],
  ] as const)('parcel: %s → %j', (_n, detections, expected) => {
    // the fixture declares clothes; count them here (the default policy leaves clothes uncounted)
    const counting = testPolicy((p) => (p.declaration.parcelUncountedItems = []));
    const a = assess(parcelScan({ modelOutputs: [detector(detections.map(([l, s]) => [l, s]), 'parcel-det')] }), counting);
    expect(codes(a)).toEqual(expected);
    expect(a.divert).toBe(false);
  });

  it('counts parcel items at the item count threshold, not the containers\' category presence threshold', () => {
    const input = parcelScan({ modelOutputs: [detector([['clothes', 0.9], ['clothes', 0.9], ['clothes', 0.9], ['phone', 0.7]], 'parcel-det')] });
    const at = (itemCount: number, presence: number) => testPolicy((p) => { p.declaration.parcelUncountedItems = []; p.declaration.itemCountThreshold = itemCount; p.declaration.categoryPresenceThreshold = presence; });
    expect(codes(assess(input, at(0.5, 0.95)))).toEqual(['UNDECLARED_CATEGORY']);
    expect(codes(assess(input, at(0.8, 0.2)))).toEqual([]);
  });

  it('reports parcel counts in declared-vs-seen', () => {
    const decl = parcelDeclaration({ lines: [line('6109100000', { quantity: 2, unit: '件' }), line('8517130000', { quantity: 1 })] });
    const a = assess(parcelScan({ declaration: decl, modelOutputs: [detector([['clothes', 0.9], ['clothes', 0.9], ['phone', 0.9]])] }), policy);
    expect(a.decision).toBe('clear');
    expect(a.declaredVsSeen.counts).toEqual([{ item: 'clothes', declared: 2, seen: 2 }, { item: 'phone', declared: 1, seen: 1 }]);
  });
});

describe('assess: credit and policy', () => {
  it.each([
    ['dishonest shipper', { declaration: containerDeclaration({ enterprise: { id: 'E', creditLevel: 'dishonest' } }) }, ['DISHONEST_SHIPPER']],
    ['no declaration', { declaration: undefined }, ['DECLARATION_MISSING']],
    ['no model output', { modelOutputs: [] }, ['MODEL_UNAVAILABLE']],
    ['no classifier', { modelOutputs: [detector([])] }, ['MODEL_UNAVAILABLE']],
    ['no detector', { modelOutputs: [classifier({ tyres: 0.9 })] }, ['MODEL_UNAVAILABLE']],
  ] as const)('%s → review %j', (_n, over, expected) => {
    const a = assess(containerScan(over), policy);
    expect(a.decision).toBe('review');
    expect(codes(a)).toEqual(expected);
    expect(a.reasons.every((r) => r.layer === 'policy' && r.detail.length > 10)).toBe(true);
  });

  it('a credit level the policy always reviews gets CREDIT_LEVEL_REVIEW', () => {
    const p = testPolicy((x) => (x.creditLevels.ordinary.alwaysReview = true));
    expect(codes(assess(containerScan(), p))).toEqual(['CREDIT_LEVEL_REVIEW']);
  });

  it('turns a would-be clear into a recorded blind sample, never a finding', () => {
    const always = testPolicy((p) => (p.blindSample.rate = 1));
    const a = assess(containerScan(), always);
    expect(a).toMatchObject({ decision: 'review', blindSample: true, directRelease: false });
    expect(codes(a)).toEqual(['BLIND_SAMPLE']);
    const flagged = assess(containerScan({ declaration: undefined }), always);
    expect(flagged.blindSample).toBe(false);
    expect(codes(flagged)).toEqual(['DECLARATION_MISSING']);
  });

  it('keeps reasons in layer order', () => {
    const a = assess(
      containerScan({
        declaration: containerDeclaration({ enterprise: { id: 'E', creditLevel: 'dishonest' } }),
        weightKg: 30_000,
        modelOutputs: [classifier({ tyres: 0.9, 'textiles-cartons': 0.9 }), detector([['drugs', 0.9]])],
      }),
      policy,
    );
    expect(a.reasons.map((r) => r.layer)).toEqual(['security', 'manifest', 'declaration', 'declaration', 'policy']);
  });
});

describe('shadow mode and verdicts', () => {
  it('evaluates a candidate policy beside the active one and lists the differences', () => {
    const candidate = testPolicy((p) => {
      p.version = 'candidate-1';
      p.security.threatThresholds.knife = 0.2;
      p.security.holdThreshold = 0;
    });
    const input = containerScan({ modelOutputs: [classifier({ tyres: 0.9 }), detector([['knife', 0.3]])] });
    const s = assessShadow(policy, candidate, input);
    expect(s.active.decision).toBe('clear');
    expect(s.candidate.decision).toBe('hold');
    expect(s.candidate.policyVersion).toBe('candidate-1');
    expect(s.differences).toMatchObject({ differs: true, decision: { active: 'clear', candidate: 'hold' }, addedReasons: ['THREAT_DETECTED'], removedReasons: [] });
  });

  it('shadows a candidate model version through its own outputs', () => {
    const candidateOutputs = [classifier({ tyres: 0.9 }), { ...detector([]), version: '2.0.0' }];
    const s = assessShadow(policy, policy, containerScan(), candidateOutputs);
    expect(s.differences.differs).toBe(false);
    expect(s.candidate.models).toContainEqual({ name: 'threat-det', version: '2.0.0' });
  });

  it('builds a machine verdict event', () => {
    const a = assess(containerScan(), policy);
    const v = toVerdict(a, { containerNo: containerNo() }, '2026-11-23T09:00:00.000Z');
    expect(v).toMatchObject({ scanId: 'scan-1', decision: 'clear', source: 'machine', policyVersion: policy.version, at: '2026-11-23T09:00:00.000Z' });
  });
});

describe('model contract', () => {
  it('models/runtime ModelOutput fits the evidence assess() reads, so the pipeline passes it as is', () => {
    expectTypeOf<ModelOutput>().toMatchTypeOf<ModelEvidence>();
  });
});
