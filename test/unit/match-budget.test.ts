// Per-class thresholds that keep a verifier's false-alarm budget on a stream's clean scans (scripts/match-budget.ts).
import { describe, expect, it } from 'vitest';
import type { LabelledScan } from '../../domain/policy/calibrate.js';
import { strongest, thresholdForBudget } from '../../scripts/match-budget.js';

describe('false-alarm budget matching', () => {
  it('chooses the lowest threshold that flags no more clean scans than the budget', () => {
    const scores = [0.9, 0.4, 0.3, 0.3, 0.1, 0];
    expect(thresholdForBudget(scores, 1)).toBe(0.4001); // only 0.9 stays over it
    const at = (t: number) => scores.filter((s) => s >= t).length;
    expect(at(thresholdForBudget(scores, 2))).toBe(2); // 0.9, 0.4: just over the 0.3s
    expect(at(thresholdForBudget(scores, 3))).toBe(2); // ties at 0.3 cannot be split: never over the budget
    expect(thresholdForBudget(scores, 0)).toBe(0.9001);
    expect(thresholdForBudget(scores, 5)).toBe(0.05); // the card's floor, not lower
    expect(thresholdForBudget(scores, 9)).toBe(0.05);
    // a card whose thresholds go down to 0.02 (fcn_verifier.py --threshold-floor 0.02): the budget can be spent there
    expect(thresholdForBudget([0.9, 0.04, 0.03, 0.01], 2, 0.02)).toBe(0.0301);
    expect(thresholdForBudget([0.9, 0.04, 0.03, 0.01], 3, 0.02)).toBe(0.02);
  });

  it("reads the strongest box of a class that the named verifier confirmed, on scans with no planted threat", () => {
    const scan = (prohibited: boolean, dets: Array<[string, number, string?]>): LabelledScan => ({
      input: {
        scanId: 's', modality: 'container-xray', subject: {},
        modelOutputs: [{ model: 'grid', version: '1', task: 'detect', ...(dets[0]?.[2] && { verifiedBy: { model: dets[0][2], version: '1' } }), detections: dets.map(([label, score]) => ({ label, score, box: [0, 0, 1, 1] })) }],
      },
      truth: { prohibited, misdeclared: false },
    }) as unknown as LabelledScan;
    const stream = [scan(false, [['knife', 0.2, 'v'], ['knife', 0.6, 'v'], ['firearm', 0.9, 'v']]), scan(false, [['knife', 0.7]]), scan(true, [['knife', 0.95, 'v']])];
    // the second scan's box was not confirmed by v; the third carries a planted threat
    expect(strongest(stream, 'v', 'knife')).toEqual([0.6, 0]);
  });
});
