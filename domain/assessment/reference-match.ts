// Reference-library evidence in the declaration check: does the scan look like the verified references of
// its declared HS codes, or like another code's? The nearest-neighbour search runs outside the domain
// (models/knn) and arrives as a ReferenceMatch; this module only judges it. No references → no finding,
// and the classifier's check stands alone (cold start).
import type { Reason } from '../verdict.js';
import { round } from './evidence.js';

/** One reference near the scan. */
export interface ReferenceHit {
  referenceId: string;
  hsCode: string;
  similarity: number;
}

/** What the kNN search found for one scan, against the library of its modality and embedding model. */
export interface ReferenceMatch {
  model: string;
  version: string;
  /** Live references in the library for this modality and model. */
  libraryCount: number;
  /** Per declared code: references at the most specific level (10/6/4/2 digits) that has any. */
  declared: Array<{
    hsCode: string;
    matchedAt: 10 | 6 | 4 | 2 | null;
    references: number;
    /** Mean cosine similarity of the closest few references of that code (null without references). */
    similarity: number | null;
    nearest: ReferenceHit[];
  }>;
  /** The closest code that matches no declared code, with its closest references. */
  bestOther: { hsCode: string; similarity: number; references: number; nearest: ReferenceHit[] } | null;
  /** Share of the k nearest references' (similarity-weighted) vote that supports a declared code. */
  declaredVoteShare: number | null;
  k: number;
}

export type ReferenceStatus = 'matches-declared' | 'looks-like-other' | 'inconclusive' | 'no-references';

export interface ReferenceFinding {
  status: ReferenceStatus;
  /** Best declared similarity minus best other similarity (positive: closer to what was declared). */
  margin: number | null;
  match: ReferenceMatch;
}

/**
 * Thresholds calibrated with `npm run eval -- --knn` on the calibration half of the synthetic held-out set
 * (figures on the other half in models/README.md):
 * a swapped code is flagged when another code's references are clearly closer than the declared code's
 * and the neighbours' vote does not back the declaration.
 */
export interface ReferenceThresholds {
  /** How much closer another code's references must be than the declared code's to flag. */
  otherMargin: number;
  /** The neighbours' vote for the declared code must be below this share to flag. */
  maxDeclaredVoteShare: number;
  /** Similarity at or above which a scan "matches declared". */
  matchSimilarity: number;
}

export const REFERENCE_THRESHOLDS: Readonly<ReferenceThresholds> = { otherMargin: 0.1, maxDeclaredVoteShare: 0.5, matchSimilarity: 0.7 };

export function judgeReferenceMatch(match: ReferenceMatch, t: Readonly<ReferenceThresholds> = REFERENCE_THRESHOLDS): ReferenceFinding {
  const withRefs = match.declared.filter((d) => d.similarity !== null);
  if (withRefs.length === 0) return { status: 'no-references', margin: null, match };
  const best = Math.max(...withRefs.map((d) => d.similarity as number));
  const margin = match.bestOther ? round(best - match.bestOther.similarity) : null;
  const share = match.declaredVoteShare ?? 1;
  if (margin !== null && -margin >= t.otherMargin && share < t.maxDeclaredVoteShare) return { status: 'looks-like-other', margin, match };
  if (best >= t.matchSimilarity && (margin === null || margin >= 0)) return { status: 'matches-declared', margin, match };
  return { status: 'inconclusive', margin, match };
}

/** The declaration-layer reason a finding gives (only a swapped look is a reason to review). */
export function referenceReasons(f: ReferenceFinding): Reason[] {
  if (f.status !== 'looks-like-other' || !f.match.bestOther) return [];
  const other = f.match.bestOther;
  const declared = f.match.declared.filter((d) => d.similarity !== null);
  const scores: Record<string, number> = { [other.hsCode]: round(other.similarity) };
  for (const d of declared) scores[d.hsCode] = round(d.similarity as number);
  return [
    {
      code: 'LOOKS_LIKE_OTHER_CODE',
      layer: 'declaration',
      decision: 'review',
      detail:
        `Looks like HS ${other.hsCode} (similarity ${round(other.similarity, 2)} to ${other.references} verified reference${other.references === 1 ? '' : 's'}) ` +
        `rather than the declared ${declared.map((d) => `${d.hsCode} (${round(d.similarity as number, 2)})`).join(', ')}.`,
      evidence: { scores, model: f.match.model, version: f.match.version },
    },
  ];
}
