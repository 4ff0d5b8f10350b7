// Calibration: choose a policy's thresholds on a labelled stream so that the share of wrong releases stays
// under a target while as many clean scans as possible are cleared. Pure: the stream's model evidence is
// computed beforehand; each candidate threshold set is applied by re-running the assessment.
import { assess } from '../assessment/assess.js';
import { isContainerModality } from '../scan.js';
import type { AssessmentInput } from '../assessment/types.js';
import { threatThreshold, type DetectionSource, type RiskPolicy } from './policy.js';
import { studyThreatClasses } from './threat-classes.js';
import type { Box, Reason } from '../verdict.js';

export interface LabelledScan {
  input: AssessmentInput;
  /** What is really in the box: a planted prohibited item, a planted misdeclaration, or neither. */
  truth: {
    prohibited: boolean;
    misdeclared: boolean;
    /** How the declaration lies, where the set says (e.g. `category-swapped`, `lookalike-swapped`): figures per kind. */
    misdeclaration?: string;
    dishonest?: boolean;
    /** The planted threats and prohibited items with their boxes in rendering pixels, where the set has them. */
    threats?: Array<{ label: string; box: Box }>;
  };
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
  /**
   * Per kind of misdeclaration (scans whose truth names one): planted, caught (not cleared, for any reason) and
   * caught by the manifest or declaration check itself (not only by a threat box, the shipper's credit or the
   * blind sample, which would send it to a reviewer with nothing said of the declaration).
   */
  misdeclaredBy: Record<string, { planted: number; caught: number; byCheck: number }>;
  /** Cleared scans that carried a problem / cleared scans. */
  falseClearRate: number;
  /**
   * Why clean scans were not cleared: per reason code (threat codes per label, e.g. `THREAT_SUSPECTED:knife`),
   * the clean scans that carry it (`any`) and those it alone kept from clearing (`only`). What to work on next.
   */
  cleanNotClearedBy: Record<string, { any: number; only: number }>;
}

const ratio = (a: number, b: number) => (b === 0 ? NaN : a / b);

/** A share as the benchmark reports it: a percentage to two decimals. */
export const percent = (v: number): number => Math.round(v * 100 * 100) / 100;

/**
 * The Wilson score interval (95 %) of a share of `k` in `n`: where the true share of a stream that size may lie
 * (1,266 of 1,407 clean containers cleared, 89.98 %, give 88.3–91.4 %). [NaN, NaN] for n = 0.
 */
export function wilson95(k: number, n: number): [number, number] {
  if (n === 0) return [NaN, NaN];
  const z = 1.959964, p = k / n, z2n = (z * z) / n;
  const mid = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / n + z2n / (4 * n));
  return [k === 0 ? 0 : mid - half, k === n ? 1 : mid + half];
}

/** A stream's figures as the assessment benchmark and scripts/policy-on-stream.ts report them (shares in percent). */
export function metricsReport(m: StreamMetrics) {
  // a share's interval, in percent, from the share and its denominator
  const ci = (share: number, n: number) => wilson95(Math.round(share * n), n).map(percent);
  return {
    scans: m.scans, clean: m.clean, prohibited: m.prohibited, misdeclared: m.misdeclared,
    autoClearOfCleanPct: percent(m.autoClearOfClean), autoClearOfCleanCi95Pct: ci(m.autoClearOfClean, m.clean), autoClearOfEligibleCleanPct: percent(m.autoClearOfEligibleClean), autoClearOfAllPct: percent(m.autoClearOfAll),
    prohibitedRecallPct: percent(m.prohibitedRecall), prohibitedRecallCi95Pct: ci(m.prohibitedRecall, m.prohibited), prohibitedHeldPct: percent(m.prohibitedHeld),
    misdeclaredRecallPct: percent(m.misdeclaredRecall), misdeclaredRecallCi95Pct: ci(m.misdeclaredRecall, m.misdeclared), misdeclaredBy: m.misdeclaredBy, falseClearPct: percent(m.falseClearRate),
    cleanNotClearedBy: m.cleanNotClearedBy,
  };
}

/** A reason's code, with the detection's label for security reasons that carry one. */
function reasonKey(r: Reason): string {
  const label = r.layer === 'security' ? r.evidence?.boxes?.[0]?.label : undefined;
  return label ? `${r.code}:${label}` : r.code;
}

export function streamMetrics(stream: readonly LabelledScan[], policy: RiskPolicy): StreamMetrics {
  let clean = 0, cleanCleared = 0, eligible = 0, eligibleCleared = 0, prohibited = 0, prohibitedCaught = 0, prohibitedHeld = 0;
  let misdeclared = 0, misdeclaredCaught = 0, cleared = 0, falseClears = 0;
  const by: Record<string, { any: number; only: number }> = {};
  const misBy: Record<string, { planted: number; caught: number; byCheck: number }> = {};
  for (const s of stream) {
    const a = assess(s.input, policy);
    const decision = a.decision;
    const problem = s.truth.prohibited || s.truth.misdeclared;
    if (!problem && decision !== 'clear') {
      const keys = [...new Set(a.reasons.filter((r) => r.decision !== 'clear').map(reasonKey))];
      for (const k of keys) {
        const e = (by[k] ??= { any: 0, only: 0 });
        e.any++;
        if (keys.length === 1) e.only++;
      }
    }
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
      if (s.truth.misdeclaration) {
        const e = (misBy[s.truth.misdeclaration] ??= { planted: 0, caught: 0, byCheck: 0 });
        e.planted++;
        if (decision !== 'clear') e.caught++;
        if (a.reasons.some((r) => r.decision !== 'clear' && (r.layer === 'manifest' || r.layer === 'declaration'))) e.byCheck++;
      }
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
    misdeclaredBy: Object.fromEntries(Object.entries(misBy).sort(([x], [y]) => x.localeCompare(y))),
    falseClearRate: cleared === 0 ? 0 : falseClears / cleared,
    cleanNotClearedBy: Object.fromEntries(Object.entries(by).sort((x, y) => y[1].any - x[1].any)),
  };
}

export interface CalibrationGrid {
  /** Multipliers applied to every threat threshold of the base policy. */
  threatScale: number[];
  /** Containers' category presence; on a parcel stream, tried as the item count threshold. */
  categoryPresenceThreshold: number[];
  /** Tried only at or under the categoryPresenceThreshold of the same candidate; absent → equal to it. */
  declaredPresenceThreshold?: number[];
  undeclaredShare: number[];
  emptyThreshold: number[];
}

/**
 * One candidate's thresholds (declaredPresenceThreshold absent: the categoryPresenceThreshold). The presence,
 * share and empty thresholds are the containers' checks; a parcel calibration moves itemCountThreshold instead.
 */
export interface CalibratedThresholds {
  threatScale: number;
  categoryPresenceThreshold: number;
  declaredPresenceThreshold?: number;
  undeclaredShare: number;
  emptyThreshold: number;
  /** Parcels: the detector score at which an item counts against its declared quantity; absent: the policy's. */
  itemCountThreshold?: number;
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
  const { categoryPresenceThreshold, declaredPresenceThreshold, undeclaredShare, itemCountThreshold } = p.declaration;
  return { threatScale, categoryPresenceThreshold, declaredPresenceThreshold, undeclaredShare, emptyThreshold: p.manifest.emptyThreshold, itemCountThreshold };
}

/**
 * The base policy with a candidate's thresholds. Without `scope`, every threat threshold the policy holds is
 * multiplied by the threat scale (shared labels, the default and every model's own). With `scope` (the detection
 * sources serving the calibrated stream's modality), only those sources' thresholds move: each model of a source
 * gets its own entry for each label it emits, at the threshold in effect for it times the scale, and the shared
 * thresholds stay as they are for the models outside the scope (a container calibration leaves parcels alone).
 */
export function withThresholds(base: RiskPolicy, t: CalibratedThresholds, version: string, scope?: readonly DetectionSource[]): RiskPolicy {
  const clamp = (v: number) => Math.min(0.99, Math.max(0.01, v));
  const scaled = (byLabel: Record<string, number>) => Object.fromEntries(Object.entries(byLabel).map(([k, v]) => [k, clamp(v * t.threatScale)]));
  return {
    ...base,
    version,
    security: scope
      ? { ...base.security, modelThreatThresholds: scopedModelThresholds(base, t.threatScale, scope, clamp) }
      : {
          threatThresholds: scaled(base.security.threatThresholds),
          defaultThreatThreshold: clamp(base.security.defaultThreatThreshold * t.threatScale),
          modelThreatThresholds: Object.fromEntries(Object.entries(base.security.modelThreatThresholds).map(([m, byLabel]) => [m, scaled(byLabel)])),
          holdThreshold: base.security.holdThreshold,
        },
    manifest: { ...base.manifest, emptyThreshold: t.emptyThreshold },
    declaration: {
      ...base.declaration,
      categoryPresenceThreshold: t.categoryPresenceThreshold,
      declaredPresenceThreshold: t.declaredPresenceThreshold ?? t.categoryPresenceThreshold,
      undeclaredShare: t.undeclaredShare,
      itemCountThreshold: t.itemCountThreshold ?? base.declaration.itemCountThreshold,
    },
  };
}

/**
 * `modelThreatThresholds` with every model of each scoped source (the verifier and the detector it confirms) given
 * its own threshold for each label the source emits: the base threshold in effect for a detection naming that
 * model (and the ones after it in the chain), times `scale`. Read from the base policy only, so a detector shared
 * by two verifiers gets one value.
 */
function scopedModelThresholds(base: RiskPolicy, scale: number, scope: readonly DetectionSource[], clamp: (v: number) => number): Record<string, Record<string, number>> {
  const byModel: Record<string, Record<string, number>> = Object.fromEntries(Object.entries(base.security.modelThreatThresholds).map(([m, byLabel]) => [m, { ...byLabel }]));
  for (const s of scope) {
    s.models.forEach((model, i) => {
      const own = (byModel[model] ??= {});
      for (const label of Object.keys(s.floor)) own[label] = clamp(threatThreshold(base, label, s.models.slice(i)) * scale);
    });
  }
  return byModel;
}

export interface CalibrationResult {
  /**
   * recallSetRecall: prohibited recall on the constraints' recall set, when one was given; locatedLost: the planted
   * items of the recall set (per model and label) the base policy locates and this candidate does not.
   */
  chosen: { thresholds: CalibratedThresholds; metrics: StreamMetrics; recallSetRecall?: number; locatedLost?: Record<string, number> } | null;
  baseline: StreamMetrics;
  candidatesTried: number;
  /** Feasible candidates (every constraint met), best first, at most 10. */
  frontier: Array<{ thresholds: CalibratedThresholds; metrics: StreamMetrics }>;
  policy: RiskPolicy | null;
  /**
   * When no grid point meets the recall floors within the false-clear target: the one with the fewest
   * problems cleared (most recall) that keeps the false-clear target, reported but not chosen.
   */
  bestWithoutFloors: { thresholds: CalibratedThresholds; metrics: StreamMetrics; recallSetRecall?: number; locatedLost?: Record<string, number> } | null;
  /**
   * With a recall set: the floor applied there and the base policy's recall on it; with planted boxes there, the
   * items the base policy locates per `model/label` (a candidate must locate as many of each).
   */
  recallSet?: { floor: number; baseline: number; located?: Record<string, number> };
}

/** What a calibration must keep. Recall floors are skipped on a stream without that kind of problem. */
export interface CalibrationConstraints {
  /** Highest false-clear rate (problems among cleared scans) allowed. */
  targetFalseClear: number;
  /** Lowest share of prohibited/restricted items not cleared (issue target 0.99); default 0 (no floor). */
  minProhibitedRecall?: number;
  /** Lowest share of misdeclarations not cleared (issue target 0.95); default 0 (no floor). */
  minMisdeclaredRecall?: number;
  /**
   * A threat-rich labelled set on which prohibited recall is checked too: a stream at realistic rates holds a
   * few dozen threats, too few to tell 99 % from 95 %. `minProhibitedRecall` absent: the base policy's recall on
   * this set (a candidate may not let through a threat the base policy catches there, on balance). Then, when its
   * scans carry their planted items' boxes (`truth.threats`), a candidate must also locate as many planted items of each
   * model and label as the base policy does: a threat box is the evidence a reviewer and the hold act on, and a
   * scan still caught by a declaration flag after its threat went unseen does not count as caught for this.
   */
  recallSet?: { stream: readonly LabelledScan[]; minProhibitedRecall?: number };
  /**
   * The detection sources whose thresholds the threat scale moves: those serving the stream's modality (see
   * `withThresholds`). Absent: every threat threshold in the policy, whichever models it serves.
   */
  threatScope?: readonly DetectionSource[];
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
  type Candidate = { thresholds: CalibratedThresholds; metrics: StreamMetrics; recallSetRecall?: number; locatedLost?: Record<string, number> };
  // only the recall set's threat scans decide its recall: the clean ones are not assessed for every candidate
  const recallScans = c.recallSet?.stream.filter((s) => s.truth.prohibited) ?? [];
  const recallOf = (policy: RiskPolicy) => streamMetrics(recallScans, policy).prohibitedRecall;
  const recallBaseline = c.recallSet ? recallOf(base) : NaN;
  const recallFloor = c.recallSet?.minProhibitedRecall ?? recallBaseline;
  // planted items located per model and label: they depend on the threat thresholds alone, so once per threat scale
  // (an explicit floor is the caller's own trade and replaces this guard as it replaces the base policy's recall)
  const boxed = c.recallSet?.minProhibitedRecall === undefined ? recallScans.filter((s) => (s.truth.threats?.length ?? 0) > 0) : [];
  const locatedOf = (policy: RiskPolicy): Record<string, number> =>
    Object.fromEntries(studyThreatClasses(boxed, policy, { table: [] }).map((k) => [`${k.model}/${k.label}`, k.atCurrent.located]));
  const locatedBaseline = boxed.length ? locatedOf(base) : null;
  const lostAtScale = new Map<number, Record<string, number>>();
  const lostOf = (threatScale: number, policy: RiskPolicy): Record<string, number> => {
    const known = lostAtScale.get(threatScale);
    if (known) return known;
    const now = locatedOf(policy);
    const lost: Record<string, number> = {};
    for (const [k, n] of Object.entries(locatedBaseline ?? {})) if (n > (now[k] ?? 0)) lost[k] = n - (now[k] ?? 0);
    lostAtScale.set(threatScale, lost);
    return lost;
  };
  const withinTarget: Candidate[] = [];
  let tried = 0;
  const consider = (thresholds: CalibratedThresholds) => {
    const policy = withThresholds(base, thresholds, `${base.version}-cal`, c.threatScope);
    const metrics = streamMetrics(stream, policy);
    tried++;
    if (metrics.falseClearRate > c.targetFalseClear) return;
    withinTarget.push({
      thresholds, metrics,
      ...(c.recallSet && { recallSetRecall: recallOf(policy) }),
      ...(locatedBaseline && { locatedLost: lostOf(thresholds.threatScale, policy) }),
    });
  };
  // a parcel stream has no container checks to move: the grid's presence thresholds are tried as the item count's
  const parcels = stream.length > 0 && stream.every((s) => !isContainerModality(s.input.modality));
  for (const threatScale of grid.threatScale) {
    if (parcels) {
      for (const itemCountThreshold of grid.categoryPresenceThreshold) consider({ ...thresholdsOf(base, threatScale), itemCountThreshold });
      continue;
    }
    for (const categoryPresenceThreshold of grid.categoryPresenceThreshold)
      for (const declaredPresenceThreshold of declaredFor(grid, categoryPresenceThreshold))
        for (const undeclaredShare of grid.undeclaredShare)
          for (const emptyThreshold of grid.emptyThreshold) consider({ threatScale, categoryPresenceThreshold, declaredPresenceThreshold, undeclaredShare, emptyThreshold });
  }
  const meetsFloors = ({ metrics: m, recallSetRecall, locatedLost }: Candidate) =>
    (m.prohibited === 0 || m.prohibitedRecall >= (c.minProhibitedRecall ?? 0)) &&
    (m.misdeclared === 0 || m.misdeclaredRecall >= (c.minMisdeclaredRecall ?? 0)) &&
    (recallSetRecall === undefined || Number.isNaN(recallSetRecall) || recallSetRecall >= recallFloor) &&
    Object.keys(locatedLost ?? {}).length === 0;
  const byClearing = (a: Candidate, b: Candidate) =>
    b.metrics.autoClearOfClean - a.metrics.autoClearOfClean ||
    (b.metrics.prohibitedRecall || 0) - (a.metrics.prohibitedRecall || 0) ||
    (b.metrics.misdeclaredRecall || 0) - (a.metrics.misdeclaredRecall || 0);
  const feasible = withinTarget.filter(meetsFloors).sort(byClearing);
  const chosen = feasible[0] ?? null;
  const bestWithoutFloors = chosen
    ? null
    : ([...withinTarget].sort(
        (a, b) =>
          (b.recallSetRecall || 0) - (a.recallSetRecall || 0) ||
          (b.metrics.prohibitedRecall || 0) - (a.metrics.prohibitedRecall || 0) ||
          (b.metrics.misdeclaredRecall || 0) - (a.metrics.misdeclaredRecall || 0) ||
          byClearing(a, b),
      )[0] ?? null);
  return {
    chosen,
    baseline: streamMetrics(stream, base),
    candidatesTried: tried,
    frontier: feasible.slice(0, 10),
    policy: chosen ? withThresholds(base, chosen.thresholds, `${base.version}-cal`, c.threatScope) : null,
    bestWithoutFloors,
    ...(c.recallSet && { recallSet: { floor: recallFloor, baseline: recallBaseline, ...(locatedBaseline && { located: locatedBaseline }) } }),
  };
}
