// The verdict risk control consumes: a decision with reasons and their evidence. Verdicts are events:
// a later reviewer or inspection decision is a new event on the same scan, never an overwrite.

export const DECISIONS = ['clear', 'review', 'hold'] as const;
export type Decision = (typeof DECISIONS)[number];

/** Severity order used when combining reasons: the most severe reason decides. */
export const DECISION_SEVERITY: Record<Decision, number> = { clear: 0, review: 1, hold: 2 };

export const LAYERS = ['intake', 'security', 'manifest', 'declaration', 'policy', 'reviewer', 'inspection'] as const;
export type Layer = (typeof LAYERS)[number];

/** A box in image pixels of the stored rendering: [x1, y1, x2, y2]. */
export type Box = [number, number, number, number];

export interface Evidence {
  boxes?: Array<{ label: string; score: number; box: Box }>;
  scores?: Record<string, number>;
  model?: string;
  version?: string;
  /** A stretch along the image's length, [x1, x2] in rendering pixels, full height (a part of a long container). */
  xRange?: [number, number];
}

export interface Reason {
  /** Stable code, e.g. MODEL_UNAVAILABLE, THREAT_DETECTED, DECLARATION_MISSING. */
  code: string;
  layer: Layer;
  /** Whether this reason alone makes the scan review or hold. */
  decision: Decision;
  /** One sentence a reviewer reads: why the scan was flagged. */
  detail: string;
  evidence?: Evidence;
}

export type VerdictSource = 'machine' | 'reviewer' | 'inspection' | 'supervisor';

export interface Verdict {
  scanId: string;
  subject: { containerNo?: string; waybill?: string };
  decision: Decision;
  reasons: Reason[];
  declaredVsSeen?: unknown;
  policyVersion: string;
  models: Array<{ name: string; version: string }>;
  /**
   * The model runtime's revision (how it prepared the models' inputs) when models ran: the same model versions
   * under another revision may score differently, so an audit needs both.
   */
  runtime?: string;
  source: VerdictSource;
  at: string;
  /** What the verdict orders: a lock for a held container, a divert for a held parcel, direct release. */
  actions?: { lock?: { containerNo: string; sealNo?: string }; divert?: boolean; directRelease?: boolean; blindSample?: boolean };
  declarationId?: string;
}

/** The most severe decision among reasons; no reasons means clear. */
export function decide(reasons: readonly Reason[]): Decision {
  let worst: Decision = 'clear';
  for (const r of reasons) if (DECISION_SEVERITY[r.decision] > DECISION_SEVERITY[worst]) worst = r.decision;
  return worst;
}
