// Calibration: choose a policy's thresholds on a labelled stream so that the share of wrong releases stays
// under a target while as many clean scans as possible are cleared. Pure: the stream's model evidence is
// computed beforehand; each candidate threshold set is applied by re-running the assessment.
import { assess } from '../assessment/assess.js';
import type { AssessmentInput } from '../assessment/types.js';
import type { RiskPolicy } from './policy.js';

export interface LabelledScan {
  input: AssessmentInput;
  /** What is really in the box: a planted prohibited item, a planted misdeclaration, or neither. */
  truth: { prohibited: boolean; misdeclared: boolean; dishonest?: boolean };
}

export interface StreamMetrics {
  scans: number;
  clean: number;
  prohibited: number;
  misdeclared: number;
  /** Clean scans cleared automatically / clean scans. */
  autoClearOfClean: number;
  /** Clean scans of shippers the policy may clear at all (not dishonest) that were cleared. */
  autoClearOfEligibleClean: number;
  /** All scans cleared / all scans. */
  autoClearOfAll: number;
  /** Prohibited-item scans not cleared / prohibited-item scans (held ones among them: heldShare). */
  prohibitedRecall: number;
  prohibitedHeld: number;
  misdeclaredRecall: number;
  /** Cleared scans that carried a problem / cleared scans. */
  falseClearRate: number;
}

const ratio = (a: number, b: number) => (b === 0 ? NaN : a / b);

export function streamMetrics(stream: readonly LabelledScan[], policy: RiskPolicy): StreamMetrics {
  let clean = 0, cleanCleared = 0, eligible = 0, eligibleCleared = 0, prohibited = 0, prohibitedCaught = 0, prohibitedHeld = 0;
  let misdeclared = 0, misdeclaredCaught = 0, cleared = 0, falseClears = 0;
  for (const s of stream) {
    const decision = assess(s.input, policy).decision;
    const problem = s.truth.prohibited || s.truth.misdeclared;
    if (decision === 'clear') cleared++;
    if (!problem) {
      clean++;
      if (decision === 'clear') cleanCleared++;
      if (!s.truth.dishonest) {
        eligible++;
        if (decision === 'clear') eligibleCleared++;
      }
    }
    if (s.truth.prohibited) {
      prohibited++;
      if (decision !== 'clear') prohibitedCaught++;
      if (decision === 'hold') prohibitedHeld++;
    }
    if (s.truth.misdeclared) {
      misdeclared++;
      if (decision !== 'clear') misdeclaredCaught++;
    }
    if (problem && decision === 'clear') falseClears++;
  }
  return {
    scans: stream.length,
    clean,
    prohibited,
    misdeclared,
    autoClearOfClean: ratio(cleanCleared, clean),
    autoClearOfEligibleClean: ratio(eligibleCleared, eligible),
    autoClearOfAll: ratio(cleared, stream.length),
    prohibitedRecall: ratio(prohibitedCaught, prohibited),
    prohibitedHeld: ratio(prohibitedHeld, prohibited),
    misdeclaredRecall: ratio(misdeclaredCaught, misdeclared),
    falseClearRate: cleared === 0 ? 0 : falseClears / cleared,
  };
}

export interface CalibrationGrid {
  /** Multipliers applied to every threat threshold of the base policy. */
  threatScale: number[];
  categoryPresenceThreshold: number[];
  /** Tried only at or under the categoryPresenceThreshold of the same candidate; absent → equal to it. */
  declaredPresenceThreshold?: number[];
  undeclaredShare: number[];
  emptyThreshold: number[];
}

/** One candidate's thresholds (declaredPresenceThreshold absent: the categoryPresenceThreshold). */
export interface CalibratedThresholds {
  threatScale: number;
  categoryPresenceThreshold: number;
  declaredPresenceThreshold?: number;
  undeclaredShare: number;
  emptyThreshold: number;
}

export const DEFAULT_GRID: CalibrationGrid = {
  threatScale: [0.25, 0.5, 0.75, 1, 1.25, 1.5],
  categoryPresenceThreshold: [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
  declaredPresenceThreshold: [0.1, 0.2, 0.3, 0.5],
  undeclaredShare: [0.05, 0.1, 0.2, 0.3],
  emptyThreshold: [0.5, 0.7, 0.9],
};

/** A policy's own calibrated thresholds, its threat thresholds scaled by `threatScale` (1: the policy as it is). */
export function thresholdsOf(p: RiskPolicy, threatScale = 1): CalibratedThresholds {
  const { categoryPresenceThreshold, declaredPresenceThreshold, undeclaredShare } = p.declaration;
  return { threatScale, categoryPresenceThreshold, declaredPresenceThreshold, undeclaredShare, emptyThreshold: p.manifest.emptyThreshold };
}

export function withThresholds(base: RiskPolicy, t: CalibratedThresholds, version: string): RiskPolicy {
  const clamp = (v: number) => Math.min(0.99, Math.max(0.01, v));
  return {
    ...base,
    version,
    security: {
      threatThresholds: Object.fromEntries(Object.entries(base.security.threatThresholds).map(([k, v]) => [k, clamp(v * t.threatScale)])),
      defaultThreatThreshold: clamp(base.security.defaultThreatThreshold * t.threatScale),
      modelThreatThresholds: Object.fromEntries(Object.entries(base.security.modelThreatThresholds).map(([m, byLabel]) => [m, Object.fromEntries(Object.entries(byLabel).map(([k, v]) => [k, clamp(v * t.threatScale)]))])),
      holdThreshold: base.security.holdThreshold,
    },
    manifest: { ...base.manifest, emptyThreshold: t.emptyThreshold },
    declaration: {
      ...base.declaration,
      categoryPresenceThreshold: t.categoryPresenceThreshold,
      declaredPresenceThreshold: t.declaredPresenceThreshold ?? t.categoryPresenceThreshold,
      undeclaredShare: t.undeclaredShare,
    },
  };
}

export interface CalibrationResult {
  chosen: { thresholds: CalibratedThresholds; metrics: StreamMetrics } | null;
  baseline: StreamMetrics;
  candidatesTried: number;
  /** Feasible candidates (every constraint met), best first, at most 10. */
  frontier: Array<{ thresholds: CalibratedThresholds; metrics: StreamMetrics }>;
  policy: RiskPolicy | null;
  /**
   * When no grid point meets the recall floors within the false-clear target: the one with the fewest
   * problems cleared (most recall) that keeps the false-clear target, reported but not chosen.
   */
  bestWithoutFloors: { thresholds: CalibratedThresholds; metrics: StreamMetrics } | null;
}

/** What a calibration must keep. Recall floors are skipped on a stream without that kind of problem. */
export interface CalibrationConstraints {
  /** Highest false-clear rate (problems among cleared scans) allowed. */
  targetFalseClear: number;
  /** Lowest share of prohibited/restricted items not cleared (issue target 0.99); default 0 (no floor). */
  minProhibitedRecall?: number;
  /** Lowest share of misdeclarations not cleared (issue target 0.95); default 0 (no floor). */
  minMisdeclaredRecall?: number;
}

/** The declared-presence thresholds tried with one presence threshold: the grid's at or under it, and it. */
function declaredFor(grid: CalibrationGrid, presence: number): number[] {
  return [...new Set([...(grid.declaredPresenceThreshold ?? []).filter((d) => d <= presence), presence])];
}

/**
 * Tries every grid point; among those whose false-clear rate is within target and whose recalls meet the
 * floors, picks the one clearing the most clean scans (ties: higher prohibited recall, then misdeclaration
 * recall). A plain number is the false-clear target alone (no recall floors).
 */
export function calibrate(stream: readonly LabelledScan[], base: RiskPolicy, constraints: number | CalibrationConstraints, grid: CalibrationGrid = DEFAULT_GRID): CalibrationResult {
  const c: CalibrationConstraints = typeof constraints === 'number' ? { targetFalseClear: constraints } : constraints;
  type Candidate = { thresholds: CalibratedThresholds; metrics: StreamMetrics };
  const withinTarget: Candidate[] = [];
  let tried = 0;
  for (const threatScale of grid.threatScale)
    for (const categoryPresenceThreshold of grid.categoryPresenceThreshold)
      for (const declaredPresenceThreshold of declaredFor(grid, categoryPresenceThreshold))
        for (const undeclaredShare of grid.undeclaredShare)
          for (const emptyThreshold of grid.emptyThreshold) {
            const thresholds = { threatScale, categoryPresenceThreshold, declaredPresenceThreshold, undeclaredShare, emptyThreshold };
            const metrics = streamMetrics(stream, withThresholds(base, thresholds, `${base.version}+cal`));
            tried++;
            if (metrics.falseClearRate <= c.targetFalseClear) withinTarget.push({ thresholds, metrics });
          }
  const meetsFloors = (m: StreamMetrics) =>
    (m.prohibited === 0 || m.prohibitedRecall >= (c.minProhibitedRecall ?? 0)) && (m.misdeclared === 0 || m.misdeclaredRecall >= (c.minMisdeclaredRecall ?? 0));
  const byClearing = (a: Candidate, b: Candidate) =>
    b.metrics.autoClearOfClean - a.metrics.autoClearOfClean ||
    (b.metrics.prohibitedRecall || 0) - (a.metrics.prohibitedRecall || 0) ||
    (b.metrics.misdeclaredRecall || 0) - (a.metrics.misdeclaredRecall || 0);
  const feasible = withinTarget.filter((x) => meetsFloors(x.metrics)).sort(byClearing);
  const chosen = feasible[0] ?? null;
  const bestWithoutFloors = chosen
    ? null
    : ([...withinTarget].sort(
        (a, b) =>
          (b.metrics.prohibitedRecall || 0) - (a.metrics.prohibitedRecall || 0) ||
          (b.metrics.misdeclaredRecall || 0) - (a.metrics.misdeclaredRecall || 0) ||
          byClearing(a, b),
      )[0] ?? null);
  return {
    chosen,
    baseline: streamMetrics(stream, base),
    candidatesTried: tried,
    frontier: feasible.slice(0, 10),
    policy: chosen ? withThresholds(base, chosen.thresholds, `${base.version}+cal`) : null,
    bestWithoutFloors,
  };
}
