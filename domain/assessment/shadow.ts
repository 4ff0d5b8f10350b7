// Shadow mode: a candidate policy (and optionally a candidate model's evidence) is evaluated on live traffic
// beside the active one; only the active assessment acts, the differences are recorded.
import type { RiskPolicy } from '../policy/policy.js';
import { assess } from './assess.js';
import type { Assessment, AssessmentInput, ModelEvidence } from './types.js';

export interface ShadowDifferences {
  /** True when anything below differs. */
  differs: boolean;
  decision?: { active: Assessment['decision']; candidate: Assessment['decision'] };
  /** Reason codes the candidate gives that the active does not (one entry per extra occurrence). */
  addedReasons: string[];
  removedReasons: string[];
  directRelease?: { active: boolean; candidate: boolean };
  blindSample?: { active: boolean; candidate: boolean };
}

export interface ShadowAssessment {
  active: Assessment;
  candidate: Assessment;
  differences: ShadowDifferences;
}

function multisetMinus(a: readonly string[], b: readonly string[]): string[] {
  const rest = [...b];
  return a.filter((x) => {
    const i = rest.indexOf(x);
    if (i < 0) return true;
    rest.splice(i, 1);
    return false;
  });
}

export function compareAssessments(active: Assessment, candidate: Assessment): ShadowDifferences {
  const a = active.reasons.map((r) => r.code);
  const c = candidate.reasons.map((r) => r.code);
  const d: ShadowDifferences = { differs: false, addedReasons: multisetMinus(c, a), removedReasons: multisetMinus(a, c) };
  if (active.decision !== candidate.decision) d.decision = { active: active.decision, candidate: candidate.decision };
  if (active.directRelease !== candidate.directRelease) {
    d.directRelease = { active: active.directRelease, candidate: candidate.directRelease };
  }
  if (active.blindSample !== candidate.blindSample) d.blindSample = { active: active.blindSample, candidate: candidate.blindSample };
  d.differs = d.decision !== undefined || d.addedReasons.length > 0 || d.removedReasons.length > 0 ||
    d.directRelease !== undefined || d.blindSample !== undefined;
  return d;
}

/**
 * Assesses the input under the active policy and under a candidate policy. Pass `candidateModelOutputs` to
 * shadow a candidate model version too: the candidate assessment then sees those outputs instead.
 */
export function assessShadow(
  active: RiskPolicy,
  candidate: RiskPolicy,
  input: AssessmentInput,
  candidateModelOutputs?: readonly ModelEvidence[],
): ShadowAssessment {
  const activeAssessment = assess(input, active);
  const candidateAssessment = assess(
    candidateModelOutputs ? { ...input, modelOutputs: candidateModelOutputs } : input,
    candidate,
  );
  return {
    active: activeAssessment,
    candidate: candidateAssessment,
    differences: compareAssessments(activeAssessment, candidateAssessment),
  };
}
