// Same-screen comparison: the nearest verified references of the declared codes and of the best other
// match, as the machine assessment found them, each with its similarity and a signed thumbnail URL.
import type { DeclaredVsSeen } from '../../../domain/assessment/types.js';
import { hsDescription } from '../../../domain/hs/hs.js';
import { referenceImageUrl } from '../references/index.js';

export interface ReferenceView {
  referenceId: string;
  hsCode: string;
  /** `declared`: a reference of a declared code; `other`: of the closest code that was not declared. */
  group: 'declared' | 'other';
  similarity: number;
  label: string;
  url: string;
}

export function nearestReferences(declaredVsSeen: unknown, imageUrls: { secret: string; ttlSeconds: number }, nowMs = Date.now()): ReferenceView[] {
  const refs = (declaredVsSeen as Pick<DeclaredVsSeen, 'references'> | null | undefined)?.references;
  if (!refs) return [];
  const view = (group: ReferenceView['group']) => (h: { referenceId: string; hsCode: string; similarity: number }): ReferenceView => ({
    referenceId: h.referenceId,
    hsCode: h.hsCode,
    group,
    similarity: h.similarity,
    label: `${group === 'declared' ? 'declared' : 'looks like'} ${h.hsCode}${hsDescription(h.hsCode) ? ` ${hsDescription(h.hsCode)}` : ''}`,
    url: referenceImageUrl(imageUrls, h.referenceId, nowMs),
  });
  return [...refs.declared.flatMap((d) => d.nearest.map(view('declared'))), ...(refs.bestOther?.nearest ?? []).map(view('other'))];
}
