import { describe, expect, it } from 'vitest';
import type { ModelEvidence } from '../../domain/assessment/types.js';
import { CARGO_CATEGORIES } from '../../domain/categories.js';
import { validateDeclaration } from '../../domain/declaration/validate-declaration.js';
import { calibrate, metricsReport, streamMetrics, thresholdsOf, wilson95, withThresholds, type LabelledScan } from '../../domain/policy/calibrate.js';
import { defaultPolicy } from '../../domain/policy/parse-policy.js';
import { threatThreshold, type DetectionSource } from '../../domain/policy/policy.js';
import { parcelScan } from './domain-fixtures.js';

const classifier = (seen: Record<string, number>): ModelEvidence => ({
  model: 'cls', version: '1', task: 'classify',
  scores: Object.fromEntries(CARGO_CATEGORIES.map((c) => [c, seen[c] ?? 0.01])),
});
const detector = (detections: Array<{ label: string; score: number }>): ModelEvidence => ({
  model: 'det', version: '1', task: 'detect',
  detections: detections.map((d) => ({ ...d, box: [10, 10, 20, 20] as [number, number, number, number] })),
});
const declaration = (hsCode: string, creditLevel = 'ordinary') => {
  const d = validateDeclaration({
    declarationId: 'D', containers: [{ containerNo: 'CSQU3054383' }],
    lines: [{ hsCode, description: 'goods', quantity: 10, unit: 'pcs', grossKg: 1000 }],
    enterprise: { id: 'E', creditLevel },
  });
  if (!d.ok) throw new Error(JSON.stringify(d.errors));
  return d.declaration;
};
const scan = (i: number, outputs: ModelEvidence[], hsCode: string, truth: LabelledScan['truth'], credit?: string): LabelledScan => ({
  input: { scanId: `cal-${i}`, modality: 'container-xray', subject: { containerNo: 'CSQU3054383' }, declaration: declaration(hsCode, credit), modelOutputs: outputs },
  truth,
});

const TYRES = '4011100000';
const TSHIRTS = '6109100000';
// 40 clean tyre loads, 4 with a faint firearm (score 0.3: under the default 0.35 threshold), 4 misdeclared.
const stream: LabelledScan[] = [
  ...Array.from({ length: 40 }, (_, i) => scan(i, [classifier({ tyres: 0.95 }), detector([])], TYRES, { prohibited: false, misdeclared: false })),
  ...Array.from({ length: 4 }, (_, i) => scan(100 + i, [classifier({ tyres: 0.95 }), detector([{ label: 'firearm', score: 0.3 }])], TYRES, { prohibited: true, misdeclared: false })),
  ...Array.from({ length: 4 }, (_, i) => scan(200 + i, [classifier({ tyres: 0.95 }), detector([])], TSHIRTS, { prohibited: false, misdeclared: true })),
];

describe('calibration', () => {
  const policy = { ...defaultPolicy(), blindSample: { rate: 0, salt: '' } };

  it('measures what the default policy lets through: the faint firearms are cleared', () => {
    const m = streamMetrics(stream, policy);
    expect(m.scans).toBe(48);
    expect(m.prohibitedRecall).toBe(0);
    expect(m.misdeclaredRecall).toBe(1);
    expect(m.autoClearOfClean).toBe(1);
    expect(m.falseClearRate).toBeCloseTo(4 / 44);
  });

  it('reports misdeclarations per kind: caught at all, and caught by the declaration check itself', () => {
    const lies: LabelledScan[] = [
      // declared T-shirts, seen tyres: the declaration check flags it
      scan(300, [classifier({ tyres: 0.95 }), detector([])], TSHIRTS, { prohibited: false, misdeclared: true, misdeclaration: 'category-swapped' }),
      // a lookalike the classifier cannot tell apart (seen as declared): cleared
      scan(301, [classifier({ tyres: 0.95 }), detector([])], TYRES, { prohibited: false, misdeclared: true, misdeclaration: 'lookalike-swapped' }),
      // the same, but a dishonest shipper: reviewed, though nothing was said of the declaration
      scan(302, [classifier({ tyres: 0.95 }), detector([])], TYRES, { prohibited: false, misdeclared: true, misdeclaration: 'lookalike-swapped' }, 'dishonest'),
    ];
    const m = streamMetrics(lies, policy);
    expect(m.misdeclaredRecall).toBeCloseTo(2 / 3);
    expect(m.misdeclaredBy).toEqual({ 'category-swapped': { planted: 1, caught: 1, byCheck: 1 }, 'lookalike-swapped': { planted: 2, caught: 1, byCheck: 0 } });
    // a set that names no kinds has no per-kind figures
    expect(streamMetrics(stream, policy).misdeclaredBy).toEqual({});
  });

  it('chooses thresholds that catch them while still clearing every clean scan', () => {
    const r = calibrate(stream, policy, 0.005);
    expect(r.chosen).not.toBeNull();
    expect(r.chosen!.thresholds.threatScale).toBeLessThanOrEqual(0.75);
    expect(r.chosen!.metrics).toMatchObject({ prohibitedRecall: 1, misdeclaredRecall: 1, autoClearOfClean: 1, falseClearRate: 0 });
    expect(r.policy!.security.threatThresholds.firearm).toBeLessThan(0.3);
  });

  it('reports no feasible thresholds when none meet the target', () => {
    const hopeless = stream.map((s) => (s.truth.misdeclared ? { ...s, input: { ...s.input, declaration: declaration(TYRES) } } : s));
    const r = calibrate(hopeless, policy, 0, { threatScale: [1.5], categoryPresenceThreshold: [0.5], undeclaredShare: [0.1], emptyThreshold: [0.6] });
    expect(r.chosen).toBeNull();
    expect(r.policy).toBeNull();
  });

  // 180 clean loads, 20 clean ones with a weak spurious "firearm" (0.29), 2 with a real faint one (0.3).
  const clean = { prohibited: false, misdeclared: false };
  const noisy: LabelledScan[] = [
    ...Array.from({ length: 180 }, (_, i) => scan(i, [classifier({ tyres: 0.95 }), detector([])], TYRES, clean)),
    ...Array.from({ length: 20 }, (_, i) => scan(300 + i, [classifier({ tyres: 0.95 }), detector([{ label: 'firearm', score: 0.29 }])], TYRES, clean)),
    ...Array.from({ length: 2 }, (_, i) => scan(400 + i, [classifier({ tyres: 0.95 }), detector([{ label: 'firearm', score: 0.3 }])], TYRES, { prohibited: true, misdeclared: false })),
  ];

  it('with a false-clear target alone, lets rare threats through if that clears more', () => {
    const r = calibrate(noisy, policy, 0.01);
    expect(r.chosen!.metrics).toMatchObject({ prohibitedRecall: 0, autoClearOfClean: 1 });
    expect(r.chosen!.metrics.falseClearRate).toBeLessThanOrEqual(0.01);
  });

  it('keeps a prohibited-recall floor even when catching them costs clean clearances', () => {
    const r = calibrate(noisy, policy, { targetFalseClear: 0.01, minProhibitedRecall: 0.99 });
    expect(r.chosen!.metrics.prohibitedRecall).toBe(1);
    expect(r.chosen!.metrics.autoClearOfClean).toBeCloseTo(180 / 200);
    expect(r.policy!.security.threatThresholds.firearm).toBeLessThanOrEqual(0.3);
    expect(r.bestWithoutFloors).toBeNull();
  });

  it('chooses nothing when the floors cannot be met, and says what came closest', () => {
    const hidden = noisy.map((s) => (s.truth.prohibited ? { ...s, input: { ...s.input, modelOutputs: [classifier({ tyres: 0.95 }), detector([])] } } : s));
    const r = calibrate(hidden, policy, { targetFalseClear: 0.01, minProhibitedRecall: 0.99 });
    expect(r.chosen).toBeNull();
    expect(r.policy).toBeNull();
    expect(r.bestWithoutFloors!.metrics.prohibitedRecall).toBe(0);
    expect(r.bestWithoutFloors!.metrics.falseClearRate).toBeLessThanOrEqual(0.01);
  });

  it('with a threat-rich recall set, does not buy clearances with threats the base policy catches there', () => {
    // fit: 20 clean loads with a spurious firearm at 0.38 (flagged at the default 0.35) and one real firearm at 0.9;
    // raising the threat thresholds 1.25× clears the 20 and still catches the one. The recall set's 20 firearms
    // score 0.4: caught at the default, let through at 1.25×.
    const fit: LabelledScan[] = [
      ...Array.from({ length: 180 }, (_, i) => scan(i, [classifier({ tyres: 0.95 }), detector([])], TYRES, clean)),
      ...Array.from({ length: 20 }, (_, i) => scan(300 + i, [classifier({ tyres: 0.95 }), detector([{ label: 'firearm', score: 0.38 }])], TYRES, clean)),
      scan(400, [classifier({ tyres: 0.95 }), detector([{ label: 'firearm', score: 0.9 }])], TYRES, { prohibited: true, misdeclared: false }),
    ];
    const threats = Array.from({ length: 20 }, (_, i) => scan(500 + i, [classifier({ tyres: 0.95 }), detector([{ label: 'firearm', score: 0.4 }])], TYRES, { prohibited: true, misdeclared: false }));
    const floors = { targetFalseClear: 0.01, minProhibitedRecall: 0.99 };
    const grid = { threatScale: [0.75, 1, 1.25, 1.5], categoryPresenceThreshold: [0.5], undeclaredShare: [0.1], emptyThreshold: [0.6] };
    const alone = calibrate(fit, policy, floors, grid);
    expect(alone.chosen!.thresholds.threatScale).toBeGreaterThanOrEqual(1.25);
    expect(alone.chosen!.metrics.autoClearOfClean).toBe(1);
    const checked = calibrate(fit, policy, { ...floors, recallSet: { stream: threats } }, grid);
    expect(checked.recallSet).toEqual({ floor: 1, baseline: 1 });
    expect(checked.chosen!.thresholds.threatScale).toBeLessThanOrEqual(1);
    expect(checked.chosen!.recallSetRecall).toBe(1);
    expect(checked.chosen!.metrics.autoClearOfClean).toBeCloseTo(180 / 200, 10);
    // an explicit floor the set cannot meet: nothing is chosen
    const strict = calibrate(fit, policy, { ...floors, recallSet: { stream: [...threats, scan(600, [classifier({ tyres: 0.95 }), detector([])], TYRES, { prohibited: true, misdeclared: false })], minProhibitedRecall: 0.99 } }, grid);
    expect(strict.chosen).toBeNull();
    expect(strict.bestWithoutFloors!.recallSetRecall).toBeCloseTo(20 / 21, 10);
  });

  it('with planted boxes on the recall set, does not let a threat go unseen because a declaration flag still catches its scan', () => {
    // as above, but each of the recall set's 20 firearm scans is also declared as T-shirts while tyres are seen: at
    // 1.25× the firearm box (0.4) is gone yet the declaration flag keeps every scan from clearing, so the scan
    // recall stays 100 %; the located firearms fall 20 → 0, which the calibration must refuse
    const box: [number, number, number, number] = [10, 10, 20, 20];
    const fit: LabelledScan[] = [
      ...Array.from({ length: 180 }, (_, i) => scan(i, [classifier({ tyres: 0.95 }), detector([])], TYRES, clean)),
      ...Array.from({ length: 20 }, (_, i) => scan(300 + i, [classifier({ tyres: 0.95 }), detector([{ label: 'firearm', score: 0.38 }])], TYRES, clean)),
      scan(400, [classifier({ tyres: 0.95 }), detector([{ label: 'firearm', score: 0.9 }])], TYRES, { prohibited: true, misdeclared: false }),
    ];
    const threats = Array.from({ length: 20 }, (_, i) =>
      scan(500 + i, [classifier({ tyres: 0.95 }), detector([{ label: 'firearm', score: 0.4 }])], TSHIRTS, { prohibited: true, misdeclared: true, threats: [{ label: 'firearm', box }] }));
    const floors = { targetFalseClear: 0.01, minProhibitedRecall: 0.99 };
    const grid = { threatScale: [1, 1.25], categoryPresenceThreshold: [0.5], undeclaredShare: [0.1], emptyThreshold: [0.6] };
    // the scan count alone would take 1.25×: every recall scan is still caught there
    const unboxed = threats.map((t) => ({ ...t, truth: { prohibited: true, misdeclared: true } }));
    const byScans = calibrate(fit, policy, { ...floors, recallSet: { stream: unboxed } }, grid);
    expect(byScans.chosen!.thresholds.threatScale).toBe(1.25);
    expect(byScans.chosen!.recallSetRecall).toBe(1);
    // with the boxes: 1.25× loses the 20 located firearms and is refused
    const byItems = calibrate(fit, policy, { ...floors, recallSet: { stream: threats } }, grid);
    expect(byItems.recallSet!.located).toEqual({ 'det/firearm': 20 });
    expect(byItems.chosen!.thresholds.threatScale).toBe(1);
    expect(byItems.chosen!.locatedLost).toEqual({});
    expect(byItems.frontier.every((f) => f.thresholds.threatScale === 1)).toBe(true);
    // an explicit floor on the recall set is the caller's own trade: the items are not guarded then
    const floored = calibrate(fit, policy, { ...floors, recallSet: { stream: threats, minProhibitedRecall: 0.9 } }, grid);
    expect(floored.recallSet!.located).toBeUndefined();
    expect(floored.chosen!.thresholds.threatScale).toBe(1.25);
  });

  it('rebuilds a policy from its own thresholds unchanged, and scales only the threat thresholds', () => {
    const base = defaultPolicy();
    const same = withThresholds(base, thresholdsOf(base), base.version);
    expect(same.declaration).toEqual(base.declaration);
    expect(same.manifest).toEqual(base.manifest);
    expect(same.security).toEqual(base.security);
    const half = withThresholds(base, thresholdsOf(base, 0.5), 'half');
    expect(half.security.modelThreatThresholds['container-threat-verify']?.firearm).toBeCloseTo(base.security.modelThreatThresholds['container-threat-verify']!.firearm! / 2, 10);
    expect(half.declaration).toEqual(base.declaration);
  });

  it('with a scope, scales only the thresholds of the models serving the calibrated stream', () => {
    const base = defaultPolicy();
    const containerScope: DetectionSource[] = [{ models: ['container-threat-verify', 'container-threat-detect'], floor: { firearm: 0.05, knife: 0.05 } }];
    const parcel: DetectionSource = { models: ['parcel-item-detect'], floor: { knife: 0.1, gun: 0.1, lighter: 0.1 } };
    const half = withThresholds(base, thresholdsOf(base, 0.5), 'half', containerScope);
    // the container chain: half of what applied to it before, at the verifier and at the detector alone
    for (const label of ['firearm', 'knife']) {
      expect(threatThreshold(half, label, containerScope[0]!.models)).toBeCloseTo(threatThreshold(base, label, containerScope[0]!.models) / 2, 10);
      expect(threatThreshold(half, label, ['container-threat-detect'])).toBeCloseTo(threatThreshold(base, label, ['container-threat-detect']) / 2, 10);
    }
    // a parcel detection keeps the threshold it had: shared thresholds and the default are untouched
    for (const label of Object.keys(parcel.floor)) expect(threatThreshold(half, label, parcel.models)).toBe(threatThreshold(base, label, parcel.models));
    expect(half.security.threatThresholds).toEqual(base.security.threatThresholds);
    expect(half.security.defaultThreatThreshold).toBe(base.security.defaultThreatThreshold);
    // at scale 1 every threshold in effect is the base policy's
    const same = withThresholds(base, thresholdsOf(base), base.version, containerScope);
    for (const label of ['firearm', 'knife']) expect(threatThreshold(same, label, containerScope[0]!.models)).toBe(threatThreshold(base, label, containerScope[0]!.models));
  });

  it('on parcels moves the item count threshold and leaves the containers\' declaration checks as they were', () => {
    // 30 clean parcels of three T-shirts with a stray 0.55 "phone" box; 3 hide a phone the detector scores 0.7
    const tees: Array<[string, number]> = [['clothes', 0.9], ['clothes', 0.9], ['clothes', 0.9]];
    const det = (extra: Array<[string, number]>): ModelEvidence => ({ model: 'parcel-det', version: '1', task: 'detect', detections: [...tees, ...extra].map(([label, score]) => ({ label, score, box: [10, 10, 20, 20] as [number, number, number, number] })) });
    const parcels: LabelledScan[] = [
      ...Array.from({ length: 30 }, (_, i) => ({ input: parcelScan({ scanId: `p-${i}`, modelOutputs: [det([['phone', 0.55]])] }), truth: { prohibited: false, misdeclared: false } })),
      ...Array.from({ length: 3 }, (_, i) => ({ input: parcelScan({ scanId: `m-${i}`, modelOutputs: [det([['phone', 0.7]])] }), truth: { prohibited: false, misdeclared: true } })),
    ];
    const counting = { ...policy, declaration: { ...policy.declaration, parcelUncountedItems: [], itemCountThreshold: 0.5 } };
    expect(streamMetrics(parcels, counting).autoClearOfClean).toBe(0);
    const r = calibrate(parcels, counting, { targetFalseClear: 0, minMisdeclaredRecall: 0.95 });
    expect(r.chosen!.thresholds.itemCountThreshold).toBe(0.6);
    expect(r.chosen!.metrics.autoClearOfClean).toBe(1);
    expect(r.chosen!.metrics.misdeclaredRecall).toBe(1);
    const { itemCountThreshold, ...containerChecks } = r.policy!.declaration;
    const { itemCountThreshold: before, ...containerChecksBefore } = counting.declaration;
    expect([itemCountThreshold, before]).toEqual([0.6, 0.5]);
    expect(containerChecks).toEqual(containerChecksBefore);
    expect(r.policy!.manifest).toEqual(counting.manifest);
  });

  it('a scoped calibration chooses as an unscoped one on its stream and leaves other modalities\' thresholds alone', () => {
    const scope: DetectionSource[] = [{ models: ['det'], floor: { firearm: 0.05 } }];
    const parcel: DetectionSource = { models: ['parcel-item-detect'], floor: { knife: 0.1 } };
    const all = calibrate(stream, policy, 0.005);
    const scoped = calibrate(stream, policy, { targetFalseClear: 0.005, threatScope: scope });
    expect(scoped.chosen!.thresholds).toEqual(all.chosen!.thresholds);
    expect(scoped.chosen!.metrics).toEqual(all.chosen!.metrics);
    expect(scoped.chosen!.thresholds.threatScale).toBeLessThan(1);
    // the faint firearms are caught by the scoped policy; a parcel knife's threshold did not move with them
    expect(streamMetrics(stream, scoped.policy!).prohibitedRecall).toBe(1);
    expect(threatThreshold(scoped.policy!, 'knife', parcel.models)).toBe(threatThreshold(policy, 'knife', parcel.models));
    expect(threatThreshold(all.policy!, 'knife', parcel.models)).toBeLessThan(threatThreshold(policy, 'knife', parcel.models));
  });
});

describe('wilson95', () => {
  it('gives the Wilson score interval: known values, bounded by 0 and 1', () => {
    const [lo, hi] = wilson95(5, 10);
    expect(lo).toBeCloseTo(0.2366, 4);
    expect(hi).toBeCloseTo(0.7634, 4);
    expect(wilson95(0, 10)[0]).toBe(0);
    expect(wilson95(0, 10)[1]).toBeCloseTo(0.2775, 4);
    expect(wilson95(10, 10)[1]).toBe(1);
    expect(wilson95(0, 0).every(Number.isNaN)).toBe(true);
  });

  it('is how a stream report states the noise on its figures: 1,266 of 1,407 cleared (89.98 %) may be 88.3-91.4 %', () => {
    const m = { ...streamMetrics([], defaultPolicy()), clean: 1407, autoClearOfClean: 1266 / 1407, prohibited: 66, prohibitedRecall: 64 / 66 };
    const r = metricsReport(m);
    expect(r.autoClearOfCleanCi95Pct).toEqual([88.3, 91.44]);
    // 64 of 66 prohibited items caught: 97 %, and a stream this size cannot rule 99 % out
    expect(r.prohibitedRecallCi95Pct).toEqual([89.61, 99.17]);
  });
});
