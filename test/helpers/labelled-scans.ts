// Labelled container scans for the policy tools' unit tests (threat-class studies, verifier comparisons): a tyre
// load declared as tyres, the classifier agreeing, and the threat boxes a verifier confirmed, as the runtime gives them.
import type { ModelEvidence } from '../../domain/assessment/types.js';
import { CARGO_CATEGORIES } from '../../domain/categories.js';
import { validateDeclaration } from '../../domain/declaration/validate-declaration.js';
import type { LabelledScan } from '../../domain/policy/calibrate.js';
import type { Box } from '../../domain/verdict.js';

export const DE_VERIFIER = 'container-threat-verify-de';

/** The cargo classifier seeing tyres, and nothing else. */
export const tyreClassifier: ModelEvidence = { model: 'cls', version: '1', task: 'classify', scores: Object.fromEntries(CARGO_CATEGORIES.map((c) => [c, c === 'tyres' ? 0.95 : 0.01])) };

/** The grid's detections, each confirmed by the dual-energy verifier `version`. */
export const verified = (detections: Array<{ label: string; score: number; box: Box }>, version = '1.0.0'): ModelEvidence => ({
  model: 'container-threat-grid', version: '1.2.0', task: 'detect', detections, verifiedBy: { model: DE_VERIFIER, version },
});

const declaration = (() => {
  const d = validateDeclaration({
    declarationId: 'D', containers: [{ containerNo: 'CSQU3054383' }],
    lines: [{ hsCode: '4011100000', description: 'tyres', quantity: 10, unit: 'pcs', grossKg: 1000 }],
    enterprise: { id: 'E', creditLevel: 'ordinary' },
  });
  if (!d.ok) throw new Error(JSON.stringify(d.errors));
  return d.declaration;
})();

/** Scan `s-<i>` of a declared tyre container with these model outputs; prohibited when threats were planted. */
export const tyreScan = (i: number, outputs: ModelEvidence[], threats: Array<{ label: string; box: Box }> = []): LabelledScan => ({
  input: { scanId: `s-${i}`, modality: 'container-xray', subject: { containerNo: 'CSQU3054383' }, declaration, modelOutputs: [tyreClassifier, ...outputs] },
  truth: { prohibited: threats.length > 0, misdeclared: false, threats },
});
