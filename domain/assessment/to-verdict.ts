// The verdict event risk control consumes, built from a machine assessment.
import type { Verdict } from '../verdict.js';
import type { Assessment } from './types.js';

/** A machine verdict from an assessment. `at` is passed in: domain has no clock. */
export function toVerdict(assessment: Assessment, subject: Verdict['subject'], at: string): Verdict {
  return {
    scanId: assessment.scanId,
    subject,
    decision: assessment.decision,
    reasons: assessment.reasons,
    declaredVsSeen: assessment.declaredVsSeen,
    policyVersion: assessment.policyVersion,
    models: assessment.models,
    source: 'machine',
    at,
  };
}
