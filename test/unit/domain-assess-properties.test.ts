// Properties of the assessment that must hold for any evidence, declaration and credit level.
import { describe, it } from 'vitest';
import fc from 'fast-check';
import { assess } from '../../domain/assessment/assess.js';
import type { AssessmentInput, ModelEvidence } from '../../domain/assessment/types.js';
import { CARGO_CATEGORIES, CONTAINER_THREATS, PARCEL_ITEMS, PARCEL_PROHIBITED } from '../../domain/categories.js';
import { CREDIT_LEVELS } from '../../domain/declaration/declaration.js';
import { DECISION_SEVERITY, type Box } from '../../domain/verdict.js';
import { visualCategoryOf } from '../../domain/hs/visual-category.js';
import { defaultPolicy } from '../../domain/policy/parse-policy.js';
import { containerDeclaration, containerNo, line, parcelDeclaration } from './domain-fixtures.js';

const HS_SAMPLE = ['4011100000', '7208100000', '8471300000', '6109100000', '0303890000', '9503000000', '2402200000', '8517130000', '1001190000'];
const box: Box = [0, 0, 10, 10];

const score = fc.double({ min: 0, max: 1, noNaN: true });
const scoresArb = fc.dictionary(fc.constantFrom(...CARGO_CATEGORIES), score);
const detectionsArb = (labels: readonly string[]) =>
  fc.array(fc.record({ label: fc.constantFrom(...labels), score, box: fc.constant(box) }), { maxLength: 6 });

const policyArb = fc.record({ rate: fc.constantFrom(0, 0.02, 0.5) }).map(({ rate }) => {
  const p = defaultPolicy();
  p.blindSample.rate = rate;
  return p;
});

const containerInputArb: fc.Arbitrary<AssessmentInput> = fc
  .record({
    scanId: fc.string({ minLength: 1, maxLength: 12 }),
    withDeclaration: fc.boolean(),
    hsCodes: fc.array(fc.constantFrom(...HS_SAMPLE), { maxLength: 4 }),
    creditLevel: fc.constantFrom(...CREDIT_LEVELS),
    weightKg: fc.option(fc.integer({ min: 2_000, max: 40_000 }), { nil: undefined }),
    scores: fc.option(scoresArb, { nil: undefined }),
    detections: fc.option(detectionsArb([...CONTAINER_THREATS, 'tyres']), { nil: undefined }),
  })
  .map(({ scanId, withDeclaration, hsCodes, creditLevel, weightKg, scores, detections }) => {
    const modelOutputs: ModelEvidence[] = [];
    if (scores) modelOutputs.push({ model: 'cls', version: '1', task: 'classify', scores });
    if (detections) modelOutputs.push({ model: 'det', version: '1', task: 'detect', detections });
    return {
      scanId,
      modality: 'container-xray' as const,
      subject: { containerNo: containerNo() },
      ...(weightKg !== undefined && { weightKg }),
      ...(withDeclaration && {
        declaration: containerDeclaration({ lines: hsCodes.map((c) => line(c, { grossKg: 5_000 })), enterprise: { id: 'E', creditLevel } }),
      }),
      modelOutputs,
    };
  });

const parcelInputArb: fc.Arbitrary<AssessmentInput> = fc
  .record({
    scanId: fc.string({ minLength: 1, maxLength: 12 }),
    creditLevel: fc.constantFrom(...CREDIT_LEVELS),
    quantity: fc.integer({ min: 1, max: 4 }),
    detections: fc.option(detectionsArb(PARCEL_ITEMS), { nil: undefined }),
  })
  .map(({ scanId, creditLevel, quantity, detections }) => ({
    scanId,
    modality: 'parcel-ct' as const,
    subject: { waybill: 'SF1234567890' },
    declaration: parcelDeclaration({ lines: [line('6109100000', { quantity })], enterprise: { id: 'E', creditLevel } }),
    modelOutputs: detections ? [{ model: 'det', version: '1', task: 'detect', detections }] : [],
  }));

const anyInputArb = fc.oneof(containerInputArb, parcelInputArb);
const severity = (input: AssessmentInput, policy: ReturnType<typeof defaultPolicy>) => DECISION_SEVERITY[assess(input, policy).decision];

/** The same scan with one more detection from its detector (a threat found, not a new model added). */
function withDetection(input: AssessmentInput, label: string, s: number): AssessmentInput {
  const added = { label, score: s, box };
  return {
    ...input,
    modelOutputs: input.modelOutputs.map((o) => (o.detections ? { ...o, detections: [...o.detections, added] } : o)),
  };
}
const hasDetector = (input: AssessmentInput) => input.modelOutputs.some((o) => o.detections);

describe('assessment properties', () => {
  it('adding a threat detection never lowers the severity', () => {
    fc.assert(
      fc.property(containerInputArb, policyArb, fc.constantFrom(...CONTAINER_THREATS), score, (input, policy, label, s) => {
        fc.pre(hasDetector(input));
        return severity(withDetection(input, label, s), policy) >= severity(input, policy);
      },
      ),
    );
  });

  it('adding a prohibited parcel item never lowers the severity', () => {
    fc.assert(
      fc.property(parcelInputArb, policyArb, fc.constantFrom(...PARCEL_PROHIBITED), score, (input, policy, label, s) => {
        fc.pre(hasDetector(input));
        return severity(withDetection(input, label, s), policy) >= severity(input, policy);
      },
      ),
    );
  });

  it('adding an undeclared category never lowers the severity', () => {
    fc.assert(
      fc.property(containerInputArb, policyArb, fc.constantFrom(...CARGO_CATEGORIES.filter((c) => c !== 'empty')), score, (input, policy, category, s) => {
        const declared = new Set((input.declaration?.lines ?? []).map((l) => visualCategoryOf(l.hsCode)?.category));
        fc.pre(!declared.has(category));
        const modelOutputs = input.modelOutputs.map((o) =>
          o.scores ? { ...o, scores: { ...o.scores, [category]: Math.max(o.scores[category] ?? 0, s) } } : o,
        );
        return severity({ ...input, modelOutputs }, policy) >= severity(input, policy);
      }),
    );
  });

  it('a dishonest shipper is never auto-cleared', () => {
    fc.assert(
      fc.property(anyInputArb, policyArb, (input, policy) => {
        fc.pre(input.declaration?.enterprise.creditLevel === 'dishonest');
        const a = assess(input, policy);
        return a.decision !== 'clear' && a.reasons.some((r) => r.code === 'DISHONEST_SHIPPER') && !a.directRelease;
      }),
    );
  });

  it('no model output → never clear', () => {
    fc.assert(
      fc.property(anyInputArb, policyArb, (input, policy) => assess({ ...input, modelOutputs: [] }, policy).decision !== 'clear'),
    );
  });

  it('the decision is the most severe reason, and clear has no reasons; holds carry lock or divert', () => {
    fc.assert(
      fc.property(anyInputArb, policyArb, (input, policy) => {
        const a = assess(input, policy);
        const worst = Math.max(0, ...a.reasons.map((r) => DECISION_SEVERITY[r.decision]));
        if (DECISION_SEVERITY[a.decision] !== worst) return false;
        if (a.decision === 'clear' && a.reasons.length > 0) return false;
        if (a.directRelease && a.decision !== 'clear') return false;
        if (a.decision === 'hold') return input.modality === 'container-xray' ? a.lockInstruction !== undefined : a.divert === true;
        return a.lockInstruction === undefined && a.divert !== true;
      }),
    );
  });

  it('is deterministic: the same input and policy give the same assessment', () => {
    fc.assert(fc.property(anyInputArb, policyArb, (input, policy) => JSON.stringify(assess(input, policy)) === JSON.stringify(assess(input, policy))));
  });
});
