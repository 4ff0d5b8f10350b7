// The machine assessment of one scan: security admission, then manifest check, then declaration check,
// then credit and policy rules; the most severe reason decides. Pure: same input and policy, same result.
import { decide, type Reason } from '../verdict.js';
import { isContainerModality } from '../scan.js';
import { isDeclaredEmpty, type Declaration } from '../declaration/declaration.js';
import { matchHsList, type RiskPolicy } from '../policy/policy.js';
import { isBlindSample } from '../policy/blind-sample.js';
import { isRecognisable } from '../hs/visual-category.js';
import { allDetections, classifierScores, hasClassifier, hasDetector, unreadableScores } from './evidence.js';
import { securityReasons } from './security.js';
import { manifestCheck, strongestCargo } from './manifest.js';
import { containerDeclarationCheck, declaredGoods, parcelDeclarationCheck } from './declaration-check.js';
import { judgeReferenceMatch, referenceReasons } from './reference-match.js';
import type { Assessment, AssessmentInput, DeclaredGoods, DeclaredVsSeen } from './types.js';

function modelReasons(input: AssessmentInput): Reason[] {
  const outputs = input.modelOutputs;
  if (outputs.length === 0) {
    return [
      {
        code: 'MODEL_UNAVAILABLE',
        layer: 'policy',
        decision: 'review',
        detail: 'No model looked at this scan; a reviewer must.',
      },
    ];
  }
  const missing: string[] = [];
  if (!hasDetector(outputs)) missing.push('threat detector (security admission not checked)');
  if (isContainerModality(input.modality) && !hasClassifier(outputs)) missing.push('cargo classifier (manifest and declaration not checked)');
  const reasons: Reason[] = missing.map((what) => ({
    code: 'MODEL_UNAVAILABLE',
    layer: 'policy',
    decision: 'review',
    detail: `No ${what}; a reviewer must look.`,
  }));
  // A score that is not a number (a broken model, NaN through a bad input) is evidence nobody can read: the checks
  // that needed it (an empty box's empty score, a detection's threshold) would pass by its absence, so a person looks.
  const unreadable = unreadableScores(outputs);
  if (unreadable.length) {
    reasons.push({
      code: 'MODEL_OUTPUT_INVALID',
      layer: 'policy',
      decision: 'review',
      detail: `Model output without a usable score (${unreadable.join(', ')}); a reviewer must look.`,
    });
  }
  return reasons;
}

function creditReasons(declaration: Declaration, policy: RiskPolicy): Reason[] {
  const level = declaration.enterprise.creditLevel;
  if (level === 'dishonest') {
    return [
      {
        code: 'DISHONEST_SHIPPER',
        layer: 'policy',
        decision: 'review',
        detail: `Enterprise ${declaration.enterprise.id} is rated dishonest: every shipment is reviewed.`,
      },
    ];
  }
  if (!policy.creditLevels[level].alwaysReview) return [];
  return [
    {
      code: 'CREDIT_LEVEL_REVIEW',
      layer: 'policy',
      decision: 'review',
      detail: `Policy ${policy.version} reviews every shipment of ${level} enterprises.`,
    },
  ];
}

/** Whether a clear container may leave straight from the quay under the enterprise's credit rule. */
function directReleaseAllowed(goods: readonly DeclaredGoods[], declaration: Declaration, policy: RiskPolicy): boolean {
  if (goods.length === 0) return false;
  // Direct release rests on the image matching every line, so every line must be a class the image shows.
  if (!goods.every((g) => g.category !== 'unmapped' && isRecognisable(g.category))) return false;
  const rule = policy.creditLevels[declaration.enterprise.creditLevel].directRelease;
  if (rule === 'never') return false;
  if (goods.every((g) => matchHsList(g.hsCode, policy.positiveList))) return true;
  return rule === 'single-low-risk' && new Set(goods.map((g) => g.category)).size === 1 && goods.every((g) => g.lowRisk);
}

/** Assesses one scan against a policy. */
export function assess(input: AssessmentInput, policy: RiskPolicy): Assessment {
  const { declaration, modality } = input;
  const isContainer = isContainerModality(modality);
  const containerNo = 'containerNo' in input.subject ? input.subject.containerNo : undefined;
  const scores = classifierScores(input.modelOutputs);
  const detections = allDetections(input.modelOutputs);
  const goods = declaredGoods(declaration);
  const emptyScore = scores.get('empty');

  const declaredVsSeen: DeclaredVsSeen = {
    declared: goods,
    declaredEmpty: declaration ? isDeclaredEmpty(declaration) : false,
    seen: [],
    ...(emptyScore && { emptyScore: emptyScore.score }),
    undeclared: [],
    notSeen: [],
  };

  const security = securityReasons(modality, detections, declaration, policy);
  const manifest: Reason[] = [];
  const declarationLayer: Reason[] = [];
  // A box seen empty, or declared empty, has no goods to compare; the manifest layer has spoken.
  let goodsToCompare = Boolean(declaration) && !declaredVsSeen.declaredEmpty;
  if (declaration && isContainer) {
    const m = manifestCheck(containerNo, declaration, emptyScore, input.weightKg, policy, input.registeredTareKg, strongestCargo(scores), hasClassifier(input.modelOutputs));
    manifest.push(...m.reasons);
    if (m.weight) declaredVsSeen.weight = m.weight;
    goodsToCompare &&= m.seenEmpty !== true;
    if (hasClassifier(input.modelOutputs) && goodsToCompare) {
      const d = containerDeclarationCheck(goods, scores, policy);
      declarationLayer.push(...d.reasons);
      Object.assign(declaredVsSeen, { seen: d.seen, undeclared: d.undeclared, notSeen: d.notSeen });
    }
  } else if (declaration && hasDetector(input.modelOutputs)) {
    const d = parcelDeclarationCheck(goods, detections, policy);
    declarationLayer.push(...d.reasons);
    Object.assign(declaredVsSeen, { seen: d.seen, undeclared: d.undeclared, notSeen: d.notSeen, counts: d.counts });
  }
  // The reference library, for every modality with an embedder: like the verified scans of the declared codes?
  if (input.referenceMatch && goodsToCompare && goods.length > 0) {
    const f = judgeReferenceMatch(input.referenceMatch);
    declarationLayer.push(...referenceReasons(f));
    const { declared, bestOther, libraryCount, tiles } = f.match;
    declaredVsSeen.references = { status: f.status, margin: f.margin, declared, bestOther, libraryCount, ...(tiles && { tiles }) };
  }

  const policyLayer = [...modelReasons(input)];
  if (!declaration) {
    policyLayer.push({
      code: 'DECLARATION_MISSING',
      layer: 'policy',
      decision: 'review',
      detail: 'No declaration matched this scan; the image cannot be compared with declared goods.',
    });
  } else {
    policyLayer.push(...creditReasons(declaration, policy));
  }

  const reasons = [...security, ...manifest, ...declarationLayer, ...policyLayer];
  let blindSample = false;
  if (decide(reasons) === 'clear' && isBlindSample(input.scanId, policy.blindSample.rate, policy.blindSample.salt)) {
    blindSample = true;
    reasons.push({
      code: 'BLIND_SAMPLE',
      layer: 'policy',
      decision: 'review',
      detail: `Would be cleared; drawn for blind re-review (${policy.blindSample.rate * 100}% sample).`,
    });
  }

  const decision = decide(reasons);
  const sealNo = declaration?.containers.find((c) => c.containerNo === containerNo)?.sealNo;
  return {
    scanId: input.scanId,
    decision,
    reasons,
    declaredVsSeen,
    ...(decision === 'hold' && isContainer && containerNo && { lockInstruction: { containerNo, ...(sealNo && { sealNo }) } }),
    ...(!isContainer && { divert: decision === 'hold' }),
    directRelease: decision === 'clear' && isContainer && declaration !== undefined && directReleaseAllowed(goods, declaration, policy),
    blindSample,
    policyVersion: policy.version,
    models: dedupeModels(input),
  };
}

function dedupeModels(input: AssessmentInput): Array<{ name: string; version: string }> {
  const seen = new Map<string, { name: string; version: string }>();
  for (const o of input.modelOutputs) {
    seen.set(`${o.model}@${o.version}`, { name: o.model, version: o.version });
    // a second-stage verifier that re-scored this model's proposals is named as a model of its own
    if (o.verifiedBy) seen.set(`${o.verifiedBy.model}@${o.verifiedBy.version}`, { name: o.verifiedBy.model, version: o.verifiedBy.version });
  }
  return [...seen.values()];
}
