// What an assessment takes (scan, declaration, model evidence) and gives back (decision, reasons,
// declared-vs-seen, lock/divert instructions). Model output is described structurally so domain/ imports
// nothing from models/; models/runtime's ModelOutput fits it as is.
import type { Box, Decision, Reason } from '../verdict.js';
import type { Modality, ScanSubject } from '../scan.js';
import type { Declaration } from '../declaration/declaration.js';
import type { VisualCategory } from '../hs/visual-category.js';
import type { ReferenceMatch, ReferenceStatus } from './reference-match.js';

/** One model's evidence for one scan (same shape as models/runtime ModelOutput). */
export interface ModelEvidence {
  model: string;
  version: string;
  task: string;
  scores?: Record<string, number>;
  detections?: Array<{ label: string; score: number; box: Box }>;
  /** A second-stage model that confirmed these detections (models/runtime/verify.ts). */
  verifiedBy?: { model: string; version: string };
}

export interface AssessmentInput {
  scanId: string;
  modality: Modality;
  subject: ScanSubject;
  /** Weighbridge reading of the container as scanned (tare + cargo), if the gateway sent one. */
  weightKg?: number;
  /** The container's tare from the container register, used when the declaration gives none. */
  registeredTareKg?: number;
  declaration?: Declaration;
  modelOutputs: readonly ModelEvidence[];
  /** The scan's nearest verified references (computed outside the domain); absent: no embedding model ran. */
  referenceMatch?: ReferenceMatch;
}

/** Every reason code the machine assessment can give, by layer. */
export const REASON_CODES = {
  security: ['THREAT_DETECTED', 'THREAT_SUSPECTED', 'THREAT_OF_DECLARED_KIND', 'NEGATIVE_LIST', 'PROHIBITED_ITEM', 'PROHIBITED_ITEM_SUSPECTED', 'RESTRICTED_ITEM'],
  manifest: ['MANIFEST_EMPTY_MISMATCH', 'MANIFEST_EMPTY_UNCERTAIN', 'MANIFEST_NOT_CHECKED', 'WEIGHT_MISMATCH', 'EMPTY_CONTAINER_OVERWEIGHT'],
  declaration: ['UNDECLARED_CATEGORY', 'DECLARED_NOT_SEEN', 'MORE_KINDS_THAN_DECLARED', 'COUNT_MISMATCH', 'GOODS_NOT_RECOGNISABLE', 'LOOKS_LIKE_OTHER_CODE', 'PART_LOOKS_LIKE_OTHER_CODE'],
  policy: ['DECLARATION_MISSING', 'MODEL_UNAVAILABLE', 'MODEL_OUTPUT_INVALID', 'DISHONEST_SHIPPER', 'CREDIT_LEVEL_REVIEW', 'BLIND_SAMPLE'],
} as const;
export type ReasonCode = (typeof REASON_CODES)[keyof typeof REASON_CODES][number];

export interface DeclaredGoods {
  hsCode: string;
  description: string;
  /** `unmapped` only for a code whose chapter the map lacks (cannot happen for validated declarations). */
  category: VisualCategory | 'unmapped';
  lowRisk: boolean;
  quantity: number;
  unit: string;
  parcelItem?: string;
}

export interface DeclaredVsSeen {
  declared: DeclaredGoods[];
  declaredEmpty: boolean;
  /** Containers: cargo categories seen, with classifier score and share of what is seen. */
  seen: Array<{ category: string; score: number; share: number }>;
  /** Containers: the classifier's `empty` score, when a classifier ran. */
  emptyScore?: number;
  undeclared: Array<{ category: string; share: number }>;
  notSeen: string[];
  /** Parcels: items counted by the detector vs declared quantities. */
  counts?: Array<{ item: string; declared: number; seen: number }>;
  weight?: {
    measuredKg: number;
    tareKg?: number;
    /** Where the tare came from: the declaration, or the container register when the declaration gave none. */
    tareSource?: 'declaration' | 'register';
    declaredGrossKg: number;
    expectedKg?: number;
    deviationPct?: number;
    /** Why the weight was not compared, when it was not. */
    notChecked?: string;
  };
  /** Reference library: matches declared, looks like another code, inconclusive, or no references yet. */
  references?: {
    status: ReferenceStatus;
    margin: number | null;
    declared: ReferenceMatch['declared'];
    bestOther: ReferenceMatch['bestOther'];
    libraryCount: number;
    /** Long containers: what each tile along the length looked like most (left to right). */
    tiles?: ReferenceMatch['tiles'];
  };
}

export interface LockInstruction {
  containerNo: string;
  sealNo?: string;
}

export interface Assessment {
  scanId: string;
  decision: Decision;
  /** In layer order: security, manifest, declaration, policy. */
  reasons: Reason[];
  declaredVsSeen: DeclaredVsSeen;
  /** Containers on hold: the order to the terminal that the box may not leave. */
  lockInstruction?: LockInstruction;
  /** Parcels on hold: take the parcel off the sorting line. */
  divert?: boolean;
  /** A clear scan that may leave straight from the quay (径放). */
  directRelease: boolean;
  /** The scan would have been cleared but was drawn for blind re-review. */
  blindSample: boolean;
  policyVersion: string;
  models: Array<{ name: string; version: string }>;
}
