import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { defaultPolicy, parsePolicy } from '../../domain/policy/parse-policy.js';
import { matchHsList, raiseToModelFloors, threatThreshold, thresholdsUnderModelFloors, type DetectionSource } from '../../domain/policy/policy.js';
import { blindSampleDraw, isBlindSample } from '../../domain/policy/blind-sample.js';
import { hsExists } from '../../domain/hs/hs.js';
import defaultPolicyJson from '../../domain/policy/default-policy.json' with { type: 'json' };

// `any` on purpose: the table below breaks a JSON copy of the policy in ways its type would not allow.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type PolicyDoc = Record<string, any>;
const clone = (): PolicyDoc => JSON.parse(JSON.stringify(defaultPolicyJson)) as PolicyDoc;

describe('parsePolicy', () => {
  it('accepts the shipped default policy', () => {
    const r = parsePolicy(defaultPolicyJson);
    expect(r.ok ? [] : r.errors).toEqual([]);
    const p = defaultPolicy();
    expect(p.blindSample.rate).toBe(0.02);
    expect(p.creditLevels.dishonest.alwaysReview).toBe(true);
    expect(p.creditLevels['aeo-advanced'].directRelease).toBe('single-low-risk');
  });

  it.each([
    ['declaredPresenceThreshold', 'declared categories count as seen', '2026.12.1'],
    ['itemCountThreshold', 'parcel items are counted', '2026.12.14'],
  ] as const)('takes the presence threshold as %s when a policy file has none (%s at it; files before %s)', (field, _what, _since) => {
    const p = clone();
    delete p.declaration[field];
    p.declaration.categoryPresenceThreshold = 0.65;
    const r = parsePolicy(p);
    expect(r.ok && r.policy.declaration[field]).toBe(0.65);
  });

  it('lists only HS prefixes that exist in HS 2022', () => {
    const p = defaultPolicy();
    for (const e of [...p.positiveList, ...p.negativeList]) {
      const len = e.hsPrefix.length;
      expect(hsExists(len > 6 ? e.hsPrefix.slice(0, 6) : e.hsPrefix), e.hsPrefix).toBe(true);
    }
  });

  const cases: Array<[string, (p: PolicyDoc) => void, string]> = [
    ['not an object', () => undefined, ''],
    ['version missing', (p) => delete p.version, 'version'],
    ['threshold above 1', (p) => (p.security.threatThresholds.firearm = 1.5), 'security.threatThresholds.firearm'],
    ['empty threshold text', (p) => (p.manifest.emptyThreshold = '0.5'), 'manifest.emptyThreshold'],
    ['tolerance negative', (p) => (p.manifest.weightTolerancePct = -1), 'manifest.weightTolerancePct'],
    ['kinds fractional', (p) => (p.declaration.maxDeclaredKindsChecked = 2.5), 'declaration.maxDeclaredKindsChecked'],
    ['unknown field', (p) => (p.declaration.undeclaredShar = 0.2), 'declaration.undeclaredShar'],
    ['credit level missing', (p) => delete p.creditLevels.ordinary, 'creditLevels.ordinary'],
    ['dishonest not reviewed', (p) => (p.creditLevels.dishonest.alwaysReview = false), 'creditLevels.dishonest.alwaysReview'],
    ['direct release odd', (p) => (p.creditLevels.ordinary.directRelease = 'always'), 'creditLevels.ordinary.directRelease'],
    ['bad prefix', (p) => p.positiveList.push({ hsPrefix: '40x' }), 'positiveList[8].hsPrefix'],
    ['negative decision', (p) => (p.negativeList[0].decision = 'clear'), 'negativeList[0].decision'],
    ['blind rate', (p) => (p.blindSample.rate = 2), 'blindSample.rate'],
    ['model threshold above 1', (p) => (p.security.modelThreatThresholds = { 'threat-verify': { knife: 3 } }), 'security.modelThreatThresholds.threat-verify.knife'],
    ['declared presence text', (p) => (p.declaration.declaredPresenceThreshold = 'low'), 'declaration.declaredPresenceThreshold'],
    ['item count above 1', (p) => (p.declaration.itemCountThreshold = 1.5), 'declaration.itemCountThreshold'],
  ];
  it.each(cases)('%s → error at %s', (_name, mutate, path) => {
    const p = clone();
    mutate(p);
    const r = parsePolicy(_name === 'not an object' ? 'policy' : p);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.path)).toContain(path);
  });
});

describe('policy helpers', () => {
  it('matches the longest HS prefix', () => {
    const list = [{ hsPrefix: '40' }, { hsPrefix: '4012' }, { hsPrefix: '401220', note: 'used' }];
    expect(matchHsList('4012200000', list)?.note).toBe('used');
    expect(matchHsList('4012110000', list)?.hsPrefix).toBe('4012');
    expect(matchHsList('8471300000', list)).toBeUndefined();
  });

  it('falls back to the default threat threshold', () => {
    const p = defaultPolicy();
    expect(threatThreshold(p, 'firearm')).toBe(0.35);
    expect(threatThreshold(p, 'something-new')).toBe(p.security.defaultThreatThreshold);
  });

  it('takes a model\'s own threshold first, most specific model first', () => {
    const p = defaultPolicy();
    p.security.modelThreatThresholds = { verifier: { firearm: 0.07 }, grid: { firearm: 0.2, knife: 0.3 } };
    expect(threatThreshold(p, 'firearm', ['verifier', 'grid'])).toBe(0.07);
    expect(threatThreshold(p, 'knife', ['verifier', 'grid'])).toBe(0.3);
    expect(threatThreshold(p, 'firearm', ['other'])).toBe(0.35);
  });

  it('names the thresholds under a model\'s own, which cannot act (nothing under the model\'s is emitted)', () => {
    const p = defaultPolicy();
    p.security.threatThresholds = { firearm: 0.35, knife: 0.4 };
    p.security.modelThreatThresholds = { verifier: { firearm: 0.05, knife: 0.3 } };
    const sources: DetectionSource[] = [
      // a verifier: its own thresholds apply to what it confirms; 'cigarettes' is named by no threshold of the policy
      { models: ['verifier', 'grid'], floor: { firearm: 0.05, knife: 0.31, cigarettes: 0.9 } },
      // a detector no verifier confirms: the label thresholds apply
      { models: ['parcel-det'], floor: { knife: 0.425, firearm: 0.2 } },
    ];
    expect(thresholdsUnderModelFloors(p, sources)).toEqual([
      { models: ['verifier', 'grid'], label: 'knife', policy: 0.3, floor: 0.31 },
      { models: ['parcel-det'], label: 'knife', policy: 0.4, floor: 0.425 },
    ]);
    p.security.modelThreatThresholds['parcel-det'] = { knife: 0.425 };
    p.security.modelThreatThresholds.verifier!.knife = 0.5;
    expect(thresholdsUnderModelFloors(p, sources)).toEqual([]);
  });

  it('raises each threshold under a model\'s own to it, for that model only, and changes no effective threshold', () => {
    const p = defaultPolicy();
    p.security.threatThresholds = { firearm: 0.35, knife: 0.4 };
    p.security.modelThreatThresholds = { verifier: { firearm: 0.05, knife: 0.3 } };
    const sources: DetectionSource[] = [
      { models: ['verifier', 'grid'], floor: { firearm: 0.05, knife: 0.31 } },
      // two detectors served by the shared label thresholds, one with a higher floor than the policy's knife
      { models: ['parcel-det'], floor: { knife: 0.425, firearm: 0.2 } },
      { models: ['bag-det'], floor: { knife: 0.1, firearm: 0.1 } },
    ];
    const effective = (q: typeof p) => sources.map((s) => Object.keys(s.floor).map((l) => Math.max(threatThreshold(q, l, s.models), s.floor[l]!)));
    const { policy, raised } = raiseToModelFloors(p, sources);
    expect(raised.map((r) => `${r.models[0]}.${r.label}`)).toEqual(['verifier.knife', 'parcel-det.knife']);
    expect(policy.security.modelThreatThresholds).toEqual({ verifier: { firearm: 0.05, knife: 0.31 }, 'parcel-det': { knife: 0.425 } });
    expect(policy.security.threatThresholds).toEqual({ firearm: 0.35, knife: 0.4 }); // bag-det keeps 0.4
    expect(thresholdsUnderModelFloors(policy, sources)).toEqual([]);
    expect(effective(policy)).toEqual(effective(p));
    expect(p.security.modelThreatThresholds).toEqual({ verifier: { firearm: 0.05, knife: 0.3 } }); // the input is not changed
    expect(raiseToModelFloors(policy, sources)).toEqual({ policy, raised: [] });
  });
});

describe('blind sample', () => {
  it('is reproducible per scan id and salt', () => {
    fc.assert(fc.property(fc.string(), fc.string(), (id, salt) => blindSampleDraw(id, salt) === blindSampleDraw(id, salt)));
  });

  it('draws in [0, 1), never at rate 0, always at rate 1', () => {
    fc.assert(
      fc.property(fc.string(), (id) => {
        const d = blindSampleDraw(id);
        return d >= 0 && d < 1 && !isBlindSample(id, 0) && isBlindSample(id, 1);
      }),
    );
  });

  it('samples close to the configured rate', () => {
    const n = 20_000;
    let drawn = 0;
    for (let i = 0; i < n; i++) if (isBlindSample(`scan-${i}`, 0.02)) drawn++;
    expect(drawn / n).toBeGreaterThan(0.016);
    expect(drawn / n).toBeLessThan(0.024);
  });
});
