// The risk policy: versioned data (thresholds per layer, credit-level rules, positive and negative lists,
// blind re-review sampling) that turns model evidence and a declaration into a verdict.
import type { CreditLevel } from '../declaration/declaration.js';

export interface CreditRule {
  /** Every scan of this credit level goes to a reviewer (dishonest enterprises). */
  alwaysReview: boolean;
  /**
   * When a clear scan may also be released directly from the quay (径放):
   * `single-low-risk` — one commodity, low risk in the HS map, or positive-listed goods;
   * `positive-list` — only when every line is on the positive list; `never`.
   */
  directRelease: 'single-low-risk' | 'positive-list' | 'never';
}

export interface ListEntry {
  /** 2 to 10 digits matched against the start of a line's HS code. */
  hsPrefix: string;
  note?: string;
}

export interface NegativeListEntry extends ListEntry {
  decision: 'review' | 'hold';
}

export interface RiskPolicy {
  version: string;
  security: {
    /** Detection score at or above which a threat or prohibited/restricted parcel item counts, per label. */
    threatThresholds: Record<string, number>;
    /** For labels without their own threshold. */
    defaultThreatThreshold: number;
    /**
     * Per model, thresholds that replace `threatThresholds` for the detections that model made or confirmed
     * (a second-stage verifier's fused scores are calibrated probabilities, lower than a detector's raw scores
     * for the same evidence). Absent in a policy file → none.
     */
    modelThreatThresholds: Record<string, Record<string, number>>;
    /**
     * A threat or prohibited item holds at once (lock, divert) when its strongest detection reaches this
     * score; detections between their threat threshold and this go to a reviewer as *_SUSPECTED, first in
     * the queue. 0 (or absent in a policy file): every detection over its threshold holds.
     */
    holdThreshold: number;
  };
  manifest: {
    /** Classifier `empty` score at or above which the container is seen as empty. */
    emptyThreshold: number;
    /** Allowed difference between measured weight and tare + declared gross, in % of the latter. */
    weightTolerancePct: number;
    /** Weight above tare an empty container may show (dunnage, residue) before it is overweight. */
    emptyContainerToleranceKg: number;
  };
  declaration: {
    /** Containers: classifier score at or above which a cargo category is seen (and, undeclared, raised). */
    categoryPresenceThreshold: number;
    /**
     * Classifier score at or above which a *declared* category counts as seen. Confirming a declared line
     * needs less evidence than alleging undeclared goods: a declared category the classifier half-sees is
     * not a discrepancy, an undeclared one it half-sees is not proof of one. Absent in a policy file → the
     * categoryPresenceThreshold (one threshold for both, as before).
     */
    declaredPresenceThreshold: number;
    /**
     * Parcels: detector score at or above which an item counts against its declared quantity. Calibrated on
     * parcels, apart from the containers' categoryPresenceThreshold (a container classifier's confidence and a
     * parcel detector's are different scales). Absent in a policy file → the categoryPresenceThreshold (one
     * threshold for both, as before 2026.12.14).
     */
    itemCountThreshold: number;
    /** Undeclared categories are raised when together they are at least this share of what is seen. */
    undeclaredShare: number;
    /** Declarations with at most this many kinds (distinct HS subheadings) are checked for extra kinds. */
    maxDeclaredKindsChecked: number;
    /** Items counted beyond the declared quantity that are still accepted (more seen than declared: the smuggling direction). */
    parcelCountTolerance: number;
    /**
     * Items counted short of the declared quantity that are still accepted, as long as at least one of the
     * item is seen (fewer seen than declared: stacked or overlapping goods hide each other, and declaring
     * more than is shipped evades no duty). Absent in a policy file → 0.
     */
    parcelUndercountTolerance: number;
    /**
     * Parcel items whose count is not checked, because the detector cannot count them (e.g. folded clothes:
     * faint organic mass; see the detector's per-label recall in its model card). Seeing more of them than
     * declared is still raised, and seeing undeclared items beside them too. Absent → [].
     */
    parcelUncountedItems: string[];
    /** What happens when declared goods cannot be confirmed by the image (general-cargo, not-visible). */
    unrecognisableGoods: 'review' | 'clear';
  };
  creditLevels: Record<CreditLevel, CreditRule>;
  /** Goods releasable on image match alone. */
  positiveList: ListEntry[];
  /** Goods that always alarm. */
  negativeList: NegativeListEntry[];
  blindSample: {
    /** Share of would-be auto-clears sent to a reviewer anyway, chosen by a hash of the scan id. */
    rate: number;
    /** Changes which scans are drawn without changing the rate. */
    salt: string;
  };
}

/** Longest-prefix match of an HS code against a list. */
export function matchHsList<T extends ListEntry>(hsCode: string, list: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const entry of list) {
    if (hsCode.startsWith(entry.hsPrefix) && (!best || entry.hsPrefix.length > best.hsPrefix.length)) best = entry;
  }
  return best;
}

/**
 * The score at or above which a detection of `label` counts: the first of `models` (the detector, or the
 * verifier that confirmed it, most specific first) with its own threshold for the label, else the label's.
 */
export function threatThreshold(policy: RiskPolicy, label: string, models: readonly string[] = []): number {
  for (const m of models) {
    const t = policy.security.modelThreatThresholds[m]?.[label];
    if (t !== undefined) return t;
  }
  return policy.security.threatThresholds[label] ?? policy.security.defaultThreatThreshold;
}

/** A model that emits detections, with the thresholds below which it emits none (its card's). */
export interface DetectionSource {
  /** The models a detection of this source names, most specific first (a verifier, then the detector it confirms). */
  models: readonly string[];
  /** Per label, the score under which the model emits no detection at all. */
  floor: Readonly<Record<string, number>>;
}

export interface ThresholdUnderFloor {
  models: readonly string[];
  label: string;
  /** The policy's threshold for this source's detections of `label`. */
  policy: number;
  /** The model's own threshold: the threshold in effect, since nothing under it is emitted. */
  floor: number;
}

/**
 * The policy's threat thresholds that can never act: set lower than the model's own threshold for that label,
 * under which the model emits no detection. Raising such a threshold to the floor changes no verdict; lowering
 * it further does nothing either (a calibration that proposes it measured detections that do not exist). Only
 * labels the policy names (in `threatThresholds` or the source's `modelThreatThresholds`) are checked.
 */
export function thresholdsUnderModelFloors(policy: RiskPolicy, sources: readonly DetectionSource[]): ThresholdUnderFloor[] {
  const out: ThresholdUnderFloor[] = [];
  for (const s of sources) {
    const named = new Set([...Object.keys(policy.security.threatThresholds), ...s.models.flatMap((m) => Object.keys(policy.security.modelThreatThresholds[m] ?? {}))]);
    for (const [label, floor] of Object.entries(s.floor)) {
      if (!named.has(label)) continue;
      const t = threatThreshold(policy, label, s.models);
      if (t < floor) out.push({ models: s.models, label, policy: t, floor });
    }
  }
  return out;
}

/**
 * The policy with each threshold that sits under a model's own raised to it, as an entry of that source's most
 * specific model in `modelThreatThresholds` (a shared `threatThresholds` entry is left as it is, so the other
 * models it serves keep theirs). The same verdicts on every scan, since nothing under the model's own threshold
 * is emitted; what the policy says is then what applies. Returns the raised thresholds beside it.
 */
export function raiseToModelFloors(policy: RiskPolicy, sources: readonly DetectionSource[]): { policy: RiskPolicy; raised: ThresholdUnderFloor[] } {
  const raised = thresholdsUnderModelFloors(policy, sources);
  if (raised.length === 0) return { policy, raised };
  const byModel: Record<string, Record<string, number>> = Object.fromEntries(Object.entries(policy.security.modelThreatThresholds).map(([m, t]) => [m, { ...t }]));
  for (const r of raised) {
    const model = r.models[0]!;
    byModel[model] = { ...byModel[model], [r.label]: r.floor };
  }
  return { policy: { ...policy, security: { ...policy.security, modelThreatThresholds: byModel } }, raised };
}
