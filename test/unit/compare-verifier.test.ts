// The standing comparison of two verifier versions (scripts/compare-verifier.ts): the new one at the old one's
// false-alarm budget on a fit stream, then scans caught and items located on threat-rich streams, pooled.
import { describe, expect, it } from 'vitest';
import { defaultPolicy } from '../../domain/policy/parse-policy.js';
import type { RiskPolicy } from '../../domain/policy/policy.js';
import { withModelThresholds } from '../../domain/policy/threat-classes.js';
import type { Box } from '../../domain/verdict.js';
import type { ModelCard } from '../../models/runtime/types.js';
import { pooled, standingRule, threatRichSide, type ThreatRichSide } from '../../scripts/compare-verifier.js';
import { budgetThresholds } from '../../scripts/match-budget.js';
import { DE_VERIFIER as VERIFIER, tyreScan as scan, verified } from '../helpers/labelled-scans.js';

const KNIFE: Box = [300, 200, 330, 210];
const GUN: Box = [500, 100, 540, 130];
const ELSEWHERE: Box = [700, 50, 720, 70];
const base = defaultPolicy();
const policy: RiskPolicy = { ...base, blindSample: { rate: 0, salt: '' }, security: { ...base.security, modelThreatThresholds: { [VERIFIER]: { knife: 0.1, firearm: 0.1 } } } };
const card = (thresholds: Record<string, number>): ModelCard => ({ name: VERIFIER, version: '2.0.0', task: 'verify', labels: ['knife', 'firearm'], thresholds } as unknown as ModelCard);

describe('comparing a new verifier version with the old one', () => {
  it('gives the new version the old one\'s false-alarm budget on clean scans, never under its card', () => {
    // the old version flags 2 of 5 clean scans for knife at 0.1; the new one scores the same scans lower
    const clean = (v: number, version: string) => scan(v * 1000, [verified([{ label: 'knife', score: v, box: ELSEWHERE }], version)]);
    const old = [0.5, 0.2, 0.08, 0.05, 0].map((v) => clean(v, '1.0.0'));
    const neu = [0.3, 0.09, 0.07, 0.03, 0].map((v) => clean(v, '2.0.0'));
    const b = budgetThresholds(old, neu, policy, new Map([[VERIFIER, card({ knife: 0.05, firearm: 0.05 })]]))[VERIFIER]!;
    expect(b.knife).toMatchObject({ old: 0.1, budget: 2, cleanScans: 5, flagged: 2, flaggedAtOld: 1 });
    expect(b.knife!.threshold).toBe(0.0701); // just over the third-highest clean score: 0.3 and 0.09 flagged
    // the old version's own lowest threshold for its budget: the policy's 0.1 has slack down to just over 0.08
    expect(b.knife!.oldTight).toBe(0.0801);
    const oldCards = new Map([[VERIFIER, card({ knife: 0.09, firearm: 0.05 })]]);
    expect(budgetThresholds(old, neu, policy, new Map([[VERIFIER, card({ knife: 0.05, firearm: 0.05 })]]), VERIFIER, oldCards)[VERIFIER]!.knife!.oldTight).toBe(0.09);
    // a card that emits nothing under 0.08 cannot spend the budget under it
    const floored = budgetThresholds(old, neu, policy, new Map([[VERIFIER, card({ knife: 0.08, firearm: 0.05 })]]))[VERIFIER]!;
    expect(floored.knife).toMatchObject({ threshold: 0.08, flagged: 2 });
    // no firearm boxes at all: the budget is 0 and the threshold the card's
    expect(b.firearm).toMatchObject({ budget: 0, threshold: 0.05 });
  });

  it('counts prohibited scans caught and items located at their place, per class, on a threat-rich stream', () => {
    const stream = [
      scan(1, [verified([{ label: 'knife', score: 0.4, box: KNIFE }])], [{ label: 'knife', box: KNIFE }]),
      scan(2, [verified([{ label: 'knife', score: 0.05, box: KNIFE }])], [{ label: 'knife', box: KNIFE }]), // under 0.1
      // held, but by a firearm box away from the knife: caught, the knife not located
      scan(3, [verified([{ label: 'firearm', score: 0.9, box: ELSEWHERE }])], [{ label: 'knife', box: KNIFE }]),
      scan(4, [verified([{ label: 'firearm', score: 0.3, box: GUN }])], [{ label: 'firearm', box: GUN }]),
      scan(5, [verified([])]),
    ];
    const side = threatRichSide(stream, policy, VERIFIER);
    expect(side).toEqual({ prohibited: 4, caught: 3, planted: { firearm: 1, knife: 3 }, located: { firearm: 1, knife: 1 } });
    // a lower knife threshold (what a budget may give) locates the second knife too
    const lower = threatRichSide(stream, withModelThresholds(policy, VERIFIER, { knife: 0.05, firearm: 0.1 }, 'x'), VERIFIER);
    expect(lower).toMatchObject({ caught: 4, located: { knife: 2, firearm: 1 } });
    // another model's boxes are not this verifier's
    expect(threatRichSide(stream, policy, 'container-threat-verify').located).toEqual({});
  });

  it('pools streams and passes only with no fewer scans caught, firearms and knives located, and more of one', () => {
    const side = (caught: number, firearm: number, knife: number): ThreatRichSide => ({ prohibited: 100, caught, planted: { firearm: 50, knife: 50, ivory: 10 }, located: { firearm, knife, ivory: 5 } });
    const a = pooled([side(90, 40, 30), side(91, 41, 31)]);
    expect(a).toEqual({ prohibited: 200, caught: 181, planted: { firearm: 100, knife: 100, ivory: 20 }, located: { firearm: 81, knife: 61, ivory: 10 } });
    // one firearm fewer on one stream, two more on the other: pooled, one more
    expect(standingRule(a, pooled([side(90, 39, 30), side(91, 43, 31)])).pass).toBe(true);
    const fewer = standingRule(a, pooled([side(92, 40, 33), side(93, 40, 33)]));
    expect(fewer.pass).toBe(false); // more caught and more knives, but a firearm fewer
    expect(fewer.conditions.filter((c) => !c.pass).map((c) => c.says)).toEqual(['firearm located 80 of 100 (old 81): no fewer']);
    expect(standingRule(a, a).pass).toBe(false); // the same is not better
    expect(standingRule(a, pooled([side(91, 40, 30), side(91, 41, 31)])).pass).toBe(true); // one scan more caught, the rest equal
  });
});
