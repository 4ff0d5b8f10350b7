// Exact nearest-neighbour matching of a scan's embedding against the reference library: cosine similarity
// by brute force (one dot product per reference), HS codes matched at 10/6/4/2 digits, and a
// similarity-weighted k-NN vote. Linear in the library size: fine for thousands of vectors per modality
// (models/README.md says where an index would be needed). A long container's tiles are matched against
// every vector of the library: the references' whole-scan vectors and their own tile vectors.
import { hsMatchLevel, supportsDeclared, type ReferenceHit, type ReferenceMatch, type TileMatch } from '../../domain/assessment/reference-match.js';

export { hsMatchLevel };

export interface ReferenceVector {
  referenceId: string;
  hsCode: string;
  embedding: ArrayLike<number>;
  /** The reference's tile vectors, when it was made from a long container. */
  tiles?: ReadonlyArray<ArrayLike<number>>;
}

/** One tile of the scan: where it lies (rendering pixels) and its vector. */
export interface QueryTile {
  x: number;
  width: number;
  embedding: ArrayLike<number>;
}

export interface KnnOptions {
  /** Neighbours in the vote (default 5). */
  k?: number;
  /** References per code averaged into that code's similarity (default 3). */
  perCode?: number;
  /** Nearest references reported per code (default 3). */
  show?: number;
  /** The scan's tile vectors (long containers): each tile is matched too (ReferenceMatch.tiles). */
  tiles?: readonly QueryTile[];
}

type Level = 10 | 6 | 4 | 2;

export function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i] as number) * (v[i] as number);
  return Math.sqrt(s);
}

/** Dot product of two embeddings of the same length (throws when they differ: different models). */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`embedding lengths differ: ${a.length} vs ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

/** Cosine similarity (0 when either vector is all zeros). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const d = dot(a, b);
  const n = norm(a) * norm(b);
  return n === 0 ? 0 : d / n;
}

/** Every reference with its similarity to the query, most similar first (ties by id, so stable). */
export function rankReferences(query: ArrayLike<number>, refs: readonly ReferenceVector[]): ReferenceHit[] {
  const qn = norm(query);
  const hits = refs.map((r) => {
    const e = r.embedding;
    if (e.length !== query.length) throw new Error(`embedding lengths differ: ${query.length} vs ${e.length}`);
    let dot = 0;
    let en = 0;
    for (let i = 0; i < e.length; i++) {
      dot += (query[i] as number) * (e[i] as number);
      en += (e[i] as number) * (e[i] as number);
    }
    const n = qn * Math.sqrt(en);
    return { referenceId: r.referenceId, hsCode: r.hsCode, similarity: n === 0 ? 0 : dot / n };
  });
  return hits.sort((a, b) => b.similarity - a.similarity || (a.referenceId < b.referenceId ? -1 : a.referenceId > b.referenceId ? 1 : 0));
}

const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
const r4 = (x: number): number => Math.round(x * 1e4) / 1e4;
const hit = (h: ReferenceHit): ReferenceHit => ({ ...h, similarity: r4(h.similarity) });

/**
 * Matches one scan against the library for its declared codes: per declared code, the references at the
 * most specific level that has any; the best other code; and the k-NN vote's share for the declaration.
 */
export function matchReferences(
  query: ArrayLike<number>,
  refs: readonly ReferenceVector[],
  declaredCodes: readonly string[],
  model: { name: string; version: string },
  o: KnnOptions = {},
): ReferenceMatch {
  const k = o.k ?? 5;
  const perCode = o.perCode ?? 3;
  const show = o.show ?? 3;
  const ranked = rankReferences(query, refs);
  const codes = [...new Set(declaredCodes)];
  const declared = codes.map((code) => {
    let best = 0;
    for (const h of ranked) best = Math.max(best, hsMatchLevel(h.hsCode, code));
    const level = best === 0 ? null : (best as Level);
    const own = level === null ? [] : ranked.filter((h) => hsMatchLevel(h.hsCode, code) >= level);
    return {
      hsCode: code,
      matchedAt: level,
      references: own.length,
      similarity: own.length ? r4(mean(own.slice(0, perCode).map((h) => h.similarity))) : null,
      nearest: own.slice(0, show).map(hit),
    };
  });
  // A reference sharing 6 digits (or the declared code's own match level, if coarser) backs the declaration:
  // a sibling 10-digit subheading is not "another code" worth a reviewer's time.
  const supports = (h: ReferenceHit): boolean => supportsDeclared(h.hsCode, declared);
  const others = new Map<string, ReferenceHit[]>();
  for (const h of ranked) {
    if (supports(h)) continue;
    const list = others.get(h.hsCode);
    if (list) list.push(h);
    else others.set(h.hsCode, [h]);
  }
  let bestOther: ReferenceMatch['bestOther'] = null;
  for (const [hsCode, hs] of others) {
    const similarity = r4(mean(hs.slice(0, perCode).map((h) => h.similarity)));
    if (!bestOther || similarity > bestOther.similarity) bestOther = { hsCode, similarity, references: hs.length, nearest: hs.slice(0, show).map(hit) };
  }
  const top = ranked.slice(0, k);
  const weight = (h: ReferenceHit): number => Math.max(0, h.similarity);
  const total = top.reduce((s, h) => s + weight(h), 0);
  const declaredVoteShare = top.length === 0 ? null : r4(total === 0 ? 0 : top.filter(supports).reduce((s, h) => s + weight(h), 0) / total);
  const tiles = o.tiles?.length && refs.length ? matchTiles(o.tiles, refs, declared, perCode) : undefined;
  return { model: model.name, version: model.version, libraryCount: refs.length, declared, bestOther, declaredVoteShare, k, ...(tiles && { tiles }) };
}

/**
 * Each tile against every vector of the library (whole-scan and tile vectors), a reference counting once
 * with its closest vector; a code's similarity is the mean of its `perCode` closest references, like the
 * whole scan's. `declared`: the whole scan's declared codes with their match levels.
 */
export function matchTiles(tiles: readonly QueryTile[], refs: readonly ReferenceVector[], declared: ReferenceMatch['declared'], perCode = 3): TileMatch[] {
  const vectors = refs.map((r) => [r.embedding, ...(r.tiles ?? [])].map((e) => ({ e, n: norm(e) })));
  const codeSimilarity = (sims: number[]): number => mean(sims.sort((a, b) => b - a).slice(0, perCode));
  return tiles.map((t) => {
    const tn = norm(t.embedding);
    const best = refs.map((r, i) => {
      let s = -1;
      for (const { e, n } of vectors[i]!) s = Math.max(s, n * tn === 0 ? 0 : dot(t.embedding, e) / (n * tn));
      return { hsCode: r.hsCode, similarity: s };
    });
    const byCode = new Map<string, number[]>();
    for (const b of best) {
      const list = byCode.get(b.hsCode);
      if (list) list.push(b.similarity);
      else byCode.set(b.hsCode, [b.similarity]);
    }
    let bestCode = '';
    let similarity = -Infinity;
    for (const [code, sims] of [...byCode].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const s = codeSimilarity(sims);
      if (s > similarity) [bestCode, similarity] = [code, s];
    }
    // each declared code at the level the whole scan matched it (10/6/4/2 digits)
    const declaredSims = declared
      .filter((d) => d.matchedAt !== null)
      .map((d) => best.filter((b) => hsMatchLevel(b.hsCode, d.hsCode) >= (d.matchedAt as number)).map((b) => b.similarity))
      .filter((sims) => sims.length > 0)
      .map(codeSimilarity);
    return { x: t.x, width: t.width, bestCode, similarity: r4(similarity), declaredSimilarity: declaredSims.length ? r4(Math.max(...declaredSims)) : null };
  });
}

/** The k-NN vote's winning code among the nearest references (for evaluation and "looks like"). */
export function knnVote(query: ArrayLike<number>, refs: readonly ReferenceVector[], k = 5): { hsCode: string; share: number } | null {
  const top = rankReferences(query, refs).slice(0, k);
  if (top.length === 0) return null;
  const votes = new Map<string, number>();
  for (const h of top) votes.set(h.hsCode, (votes.get(h.hsCode) ?? 0) + Math.max(0, h.similarity));
  const total = [...votes.values()].reduce((s, x) => s + x, 0) || 1;
  const [hsCode, v] = [...votes].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]!;
  return { hsCode, share: v / total };
}

export interface ScanEmbedding {
  model: string;
  version: string;
  embedding: number[];
  /** Long containers: the tile vectors along the length (absent otherwise). */
  tiles?: Array<{ x: number; width: number; embedding: number[] }>;
}

/** The embedding an `embed` model stored in a scan's inference (pipeline infer stage), if one ran. */
export function scanEmbedding(inference: unknown): ScanEmbedding | null {
  const outputs = (inference as { outputs?: unknown } | null)?.outputs;
  if (!Array.isArray(outputs)) return null;
  for (const o of outputs as Array<{ model?: unknown; version?: unknown; embedding?: unknown; tiles?: unknown }>) {
    if (Array.isArray(o.embedding) && o.embedding.length > 0 && typeof o.model === 'string' && typeof o.version === 'string') {
      const tiles = Array.isArray(o.tiles) ? (o.tiles as unknown[]).filter(isTile) : [];
      return { model: o.model, version: o.version, embedding: o.embedding as number[], ...(tiles.length && { tiles }) };
    }
  }
  return null;
}

function isTile(t: unknown): t is { x: number; width: number; embedding: number[] } {
  const v = t as { x?: unknown; width?: unknown; embedding?: unknown } | null;
  return !!v && Number.isFinite(v.x) && Number.isFinite(v.width) && Array.isArray(v.embedding) && v.embedding.length > 0;
}
