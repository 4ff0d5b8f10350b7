import { describe, expect, it } from 'vitest';
import { calibrate, streamMetrics, type LabelledScan } from '../../domain/policy/calibrate.js';
import { defaultPolicy, parsePolicy } from '../../domain/policy/parse-policy.js';
import type { RiskPolicy } from '../../domain/policy/policy.js';
import { locatedMatchedThresholds, studyThreatClasses, withStudiedThresholds } from '../../domain/policy/threat-classes.js';
import type { Box } from '../../domain/verdict.js';
import { DE_VERIFIER as VERIFIER, tyreScan as scan, verified } from '../helpers/labelled-scans.js';

const WALL: Box = [10, 20, 110, 400];
const ELSEWHERE: Box = [600, 100, 640, 140];
// 10 false walls the verifier scores 0.9-0.99 where they are; 40 clean scans, 8 of them with a weak
// hidden-compartment box (0.2) and 2 with a stronger one (0.6); 4 knives: 3 located (0.3, 0.5, 0.12), one found
// only as a "cigarettes" box elsewhere (luck, not location).
const stream: LabelledScan[] = [
  ...Array.from({ length: 10 }, (_, i) => scan(i, [verified([{ label: 'hidden-compartment', score: 0.9 + i / 100, box: [12, 30, 100, 380] }])], [{ label: 'hidden-compartment', box: WALL }])),
  ...Array.from({ length: 30 }, (_, i) => scan(100 + i, [verified([])])),
  ...Array.from({ length: 8 }, (_, i) => scan(200 + i, [verified([{ label: 'hidden-compartment', score: 0.2, box: ELSEWHERE }])])),
  ...Array.from({ length: 2 }, (_, i) => scan(300 + i, [verified([{ label: 'hidden-compartment', score: 0.6, box: ELSEWHERE }])])),
  scan(400, [verified([{ label: 'knife', score: 0.3, box: [300, 200, 330, 210] }])], [{ label: 'knife', box: [298, 198, 334, 212] }]),
  scan(401, [verified([{ label: 'knife', score: 0.5, box: [300, 200, 330, 210] }])], [{ label: 'knife', box: [298, 198, 334, 212] }]),
  scan(402, [verified([{ label: 'knife', score: 0.12, box: [300, 200, 330, 210] }])], [{ label: 'knife', box: [298, 198, 334, 212] }]),
  scan(403, [verified([{ label: 'cigarettes', score: 0.8, box: ELSEWHERE }])], [{ label: 'knife', box: [298, 198, 334, 212] }]),
];

describe('per-class threat thresholds', () => {
  const base = defaultPolicy();
  // the verifier's thresholds before any study (policy 2026.12.2), whatever the default policy says now
  const policy: RiskPolicy = {
    ...base,
    blindSample: { rate: 0, salt: '' },
    security: { ...base.security, modelThreatThresholds: { [VERIFIER]: { 'hidden-compartment': 0.0875, knife: 0.0964 } } },
  };
  const t = (label: string) => policy.security.modelThreatThresholds[VERIFIER]![label]!;

  it('counts located items, clean scans flagged, and raises a threshold only as far as every located item allows', () => {
    const study = studyThreatClasses(stream, policy);
    const hc = study.find((s) => s.model === VERIFIER && s.label === 'hidden-compartment')!;
    expect(hc).toMatchObject({ positives: 10, cleanScans: 40, lowestLocated: 0.9 });
    expect(hc.atCurrent).toEqual({ located: 10, cleanFlagged: 10 });
    expect(hc.proposed).toBeCloseTo(0.45, 10); // half the lowest located score
    expect(hc.atProposed).toEqual({ located: 10, cleanFlagged: 2 });
    const knife = study.find((s) => s.label === 'knife')!;
    // the knife found only through a cigarettes box elsewhere is not located; 0.12 is the lowest located
    expect(knife.positives).toBe(4);
    expect(knife.atCurrent.located).toBe(3);
    expect(knife.proposed).toBe(t('knife')); // half of 0.12 is under the threshold already
    expect(knife.table.find((r) => r.threshold === 0.4)).toMatchObject({ locatedRecall: 0.25, cleanFlagRate: 0 });
    expect(study.some((s) => s.label === 'cigarettes')).toBe(false); // no cigarettes planted: not studied
  });

  it('never lowers a threshold nor proposes one above the hold threshold', () => {
    const strong = studyThreatClasses(stream, policy, { margin: 1 }).find((s) => s.label === 'hidden-compartment')!;
    expect(strong.proposed).toBe(policy.security.holdThreshold);
    const lowered = studyThreatClasses(stream, { ...policy, security: { ...policy.security, modelThreatThresholds: { [VERIFIER]: { 'hidden-compartment': 0.95 } } } });
    expect(lowered.find((s) => s.label === 'hidden-compartment')!.proposed).toBe(0.95);
    expect(() => studyThreatClasses(stream, policy, { margin: 0 })).toThrow(/margin/);
  });

  it('never proposes a threshold under the model\'s own, under which it emits nothing', () => {
    // the knife's proposal stays at the policy's 0.0964 without the model's thresholds; the verifier's own is 0.11
    const sources = [{ models: [VERIFIER, 'container-threat-grid'], floor: { knife: 0.11, 'hidden-compartment': 0.3 } }];
    const study = studyThreatClasses(stream, policy, { sources });
    expect(study.find((s) => s.label === 'knife')!.proposed).toBe(0.11);
    // a proposal over the model's own is left as it is
    expect(study.find((s) => s.label === 'hidden-compartment')!.proposed).toBeCloseTo(0.45, 10);
  });

  it('the studied policy clears the clean scans that only a weak box held back, and still reviews every false wall', () => {
    const before = streamMetrics(stream, policy);
    const studied = withStudiedThresholds(policy, studyThreatClasses(stream, policy), `${policy.version}-classes`);
    expect(studied.security.modelThreatThresholds[VERIFIER]!['hidden-compartment']).toBe(0.45);
    expect(studied.security.modelThreatThresholds[VERIFIER]!.knife).toBe(t('knife')); // nothing to raise
    const after = streamMetrics(stream, studied);
    expect(before.cleanNotClearedBy['THREAT_SUSPECTED:hidden-compartment']).toEqual({ any: 10, only: 10 });
    expect(after.cleanNotClearedBy['THREAT_SUSPECTED:hidden-compartment']).toEqual({ any: 2, only: 2 });
    expect(after.autoClearOfClean).toBeCloseTo(38 / 40, 10);
    expect(after.prohibitedRecall).toBe(before.prohibitedRecall);
    // a studied or calibrated policy is a valid policy file
    expect(() => parsePolicy(JSON.parse(JSON.stringify(studied)))).not.toThrow();
    const cal = calibrate(stream, policy, 0.5);
    expect(cal.policy).not.toBeNull();
    expect(() => parsePolicy(JSON.parse(JSON.stringify(cal.policy)))).not.toThrow();
  });
});

describe('located-matched thresholds for a new verifier version', () => {
  const table = [0.05, 0.1, 0.2, 0.3, 0.5, 0.8];
  // 4 knives: the old verifier locates them at 0.06, 0.3, 0.5, 0.9 (3 at its 0.1 threshold); the new one at
  // 0.12, 0.35, 0.6, 0.95; 2 firearms the old one locates (0.4, 0.7) and the new one only one of (0.85)
  const knives = (scores: number[]) => scores.map((s, i) => scan(500 + i, [verified([{ label: 'knife', score: s, box: [0, 0, 50, 50] }])], [{ label: 'knife', box: [5, 5, 45, 45] }]));
  const guns = (scores: number[]) => scores.map((s, i) => scan(600 + i, [verified(s > 0 ? [{ label: 'firearm', score: s, box: [0, 0, 50, 50] }] : [])], [{ label: 'firearm', box: [5, 5, 45, 45] }]));
  const policy = (knife: number, firearm: number): RiskPolicy => {
    const p = defaultPolicy();
    return { ...p, security: { ...p.security, modelThreatThresholds: { ...p.security.modelThreatThresholds, [VERIFIER]: { knife, firearm } } } };
  };
  const old = studyThreatClasses([...knives([0.06, 0.3, 0.5, 0.9]), ...guns([0.4, 0.7])], policy(0.1, 0.1), { table });
  const neu = studyThreatClasses([...knives([0.12, 0.35, 0.6, 0.95]), ...guns([0.85, 0])], policy(0.05, 0.05), { table });

  it('keeps as many located items per class as the old version, with the margin, never under the model floor', () => {
    const m = locatedMatchedThresholds(old, neu, VERIFIER, { knife: 0.05, firearm: 0.05 }, 0.5);
    // knife: the old one located 3 at 0.1; the new one locates 3 up to 0.3 (0.35, 0.6, 0.95): 0.3 × 0.5
    expect(m.knife).toEqual({ oldLocated: 3, target: 3, threshold: 0.15 });
    // firearm: the new one can locate only 1 of the old 2: the highest threshold keeping it, 0.8 × 0.5
    expect(m.firearm).toEqual({ oldLocated: 2, target: 1, threshold: 0.4 });
    // a model floor above the matched threshold wins (nothing under it is emitted)
    expect(locatedMatchedThresholds(old, neu, VERIFIER, { knife: 0.2 }, 0.5).knife!.threshold).toBe(0.2);
    expect(locatedMatchedThresholds(old, neu, VERIFIER, {}, 1).knife!.threshold).toBe(0.3);
  });

  it('refuses a margin outside (0, 1]', () => {
    expect(() => locatedMatchedThresholds(old, neu, VERIFIER, {}, 0)).toThrow(/margin/);
  });
});
