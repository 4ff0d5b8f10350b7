// `npm run eval -- --knn --data <folder filed by HS code>`: leave-one-out reference matching as a function
// of how many references each code holds (1, 2, 5, 10, all). Every image is a query once; its library is
// n other images of each code (drawn per trial, itself excluded). Reports k-NN accuracy, how often an
// honest declaration matches / is wrongly flagged, and how often a swapped code is flagged — with the
// domain's own judge (domain/assessment/reference-match.ts), so the figures are what the pipeline does.
// Long (40 ft) renderings are also embedded per tile with the runtime's own tile geometry
// (models/runtime/tiles.ts) and their tiles judged like the pipeline's (PART_LOOKS_LIKE_OTHER_CODE): how
// often an honest single-kind long scan is flagged by a tile, and — with a folder of two-kind long loads
// (`--mixed`, models/eval/knn-folders.ts) declared as one of their two codes — how often the undeclared part
// is caught.
import { judgeReferenceMatch, REFERENCE_THRESHOLDS, type ReferenceThresholds } from '../../domain/assessment/reference-match.js';
import { isContainerModality } from '../../domain/scan.js';
import { knnVote, matchReferences, rankReferences, type QueryTile, type ReferenceVector } from '../knn/index.js';
import { prepare, postprocess } from '../runtime/index.js';
import { cardModalities, loadModel, loadRegistry } from '../runtime/registry.js';
import { SessionPool } from '../runtime/session.js';
import { storedTiles, withTileCrops } from '../runtime/tiles.js';
import { sharedDownscale, toRenderingPixels } from '../runtime/downscale.js';
import type { ModelCard } from '../runtime/types.js';
import { Rng } from '../synth/prng.js';
import { readFolders } from './data.js';
import { readRendering } from './evaluate.js';

export interface KnnEvalOptions {
  dataDir: string;
  /** A card path; default: the registry's embedding model. */
  modelPath?: string;
  registryDir?: string;
  refsPerCode?: Array<number | 'all'>;
  trials?: number;
  seed?: number;
  threads?: number;
  /** A folder of two-kind long loads, `<front HS code>+<back HS code>/<image>` (knn-folders.ts --mixed). */
  mixedDir?: string;
}

/** One filed image: its code, whole-scan vector and, for a long rendering, its tile vectors. */
export interface KnnItem {
  hsCode: string;
  embedding: number[];
  tiles?: QueryTile[];
}

/** A two-kind long load: its two codes (front, back); queried once declared as each of them alone. */
export interface MixedItem {
  codes: readonly [string, string];
  embedding: number[];
  tiles?: QueryTile[];
}

export interface KnnRow {
  refsPerCode: number | 'all';
  queries: number;
  nearestTop1: number;
  knnTop1: number;
  honestMatched: number;
  honestFlagged: number;
  swappedFlagged: number;
  /** Honest queries that have tiles (long renderings), and the share of them a tile flags (PART_LOOKS_LIKE_OTHER_CODE). */
  honestLong: number;
  honestTileFlagged: number;
  /** Two-kind long loads declared as one code (twice per load and trial); skipped when a code has no references. */
  mixedQueries: number;
  /** Undeclared part caught: a part naming the undeclared code, or the whole scan looks-like-other. */
  mixedCaught: number;
  /** ... by a tile naming the undeclared code; by the whole scan (LOOKS_LIKE_OTHER_CODE, what it catches without tiles). */
  mixedPartCaught: number;
  mixedWholeCaught: number;
  /**
   * Which codes make the errors (most frequent first, over every trial): an honest query flagged as looking like
   * another code (`code` flagged as `other`), and a swap not flagged (`code` declared as `other`).
   */
  confusions: { honestFlagged: CodePair[]; missedSwaps: CodePair[] };
}

/** A (true code, other code) pair and how often it happened. */
export interface CodePair {
  code: string;
  other: string;
  n: number;
}

/** Counts one more (code, other) pair. */
function bump(m: Map<string, CodePair>, code: string, other: string): void {
  const k = `${code}\u0000${other}`;
  (m.get(k) ?? m.set(k, { code, other, n: 0 }).get(k)!).n++;
}

/** The pairs, most frequent first (ties by codes). */
function pairs(counts: Map<string, CodePair>): CodePair[] {
  return [...counts.values()].sort((a, b) => b.n - a.n || a.code.localeCompare(b.code) || a.other.localeCompare(b.other));
}

/**
 * Embeds every image of a folder-per-code dataset with an embedding model; a long container rendering also
 * gets its tiles, cut and stored as the runtime does (withTileCrops/storedTiles) and run in the same batch.
 */
export async function embedFolder(card: ModelCard, bytes: Uint8Array, dir: string, threads = 2): Promise<Array<KnnItem & { image: string; label: string }>> {
  const pool = await SessionPool.create(bytes, { intraOpNumThreads: threads, poolSize: 1 });
  const [, c, h, w] = card.input.shape as [unknown, number, number, number];
  const per = c * h * w;
  const tiled = cardModalities(card).some(isContainerModality); // the runtime tiles container renderings only
  const out: Array<KnnItem & { image: string; label: string }> = [];
  try {
    for (const it of await readFolders(dir)) {
      // as the runtime does: one shared downscale of a large image first (here for this one model)
      const full = await readRendering(it.image, c === 1 ? 1 : 3);
      const shared = sharedDownscale(full, [card], tiled);
      const { spans, images } = withTileCrops(shared.rendering, tiled);
      const batch = new Float32Array(per * images.length);
      const prepared = images.map((img, i) => prepare(card, img, batch, i * per));
      const o = await pool.run(pool.inputNames.includes('images') ? 'images' : (pool.inputNames[0] as string), batch, [images.length, c, h, w], card.output.name);
      const vecs = prepared.map((p, i) => postprocess(card, o.data, o.dims, i, p).embedding!);
      const tiles = toRenderingPixels({ model: card.name, version: card.version, task: card.task, tiles: storedTiles(spans, vecs.slice(1)) }, shared, full.width, full.height).tiles ?? [];
      out.push({ image: it.image, label: it.label, hsCode: it.label.replace(/[\s.]/g, ''), embedding: vecs[0]!, ...(tiles.length && { tiles }) });
    }
  } finally {
    await pool.close();
  }
  return out;
}

function shuffled<T>(xs: readonly T[], rng: Rng): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** The leave-one-out table over already-computed embeddings (pure; the tests call it directly). */
export function knnTable(
  items: readonly KnnItem[],
  o: { refsPerCode?: Array<number | 'all'>; trials?: number; seed?: number; thresholds?: Readonly<ReferenceThresholds>; mixed?: readonly MixedItem[] } = {},
): KnnRow[] {
  const codes = [...new Set(items.map((i) => i.hsCode))].sort();
  const byCode = new Map(codes.map((c) => [c, items.map((it, idx) => ({ ...it, idx })).filter((it) => it.hsCode === c)]));
  const model = { name: 'eval', version: '0' };
  const rows: KnnRow[] = [];
  for (const n of o.refsPerCode ?? [1, 2, 5, 10, 'all']) {
    const trials = n === 'all' ? 1 : (o.trials ?? 3);
    const t = { queries: 0, nearest: 0, knn: 0, matched: 0, honestFlag: 0, swapFlag: 0, long: 0, tileFlag: 0, mixed: 0, caught: 0, partCaught: 0, wholeCaught: 0 };
    const flaggedAs = new Map<string, CodePair>();
    const missed = new Map<string, CodePair>();
    for (let trial = 0; trial < trials; trial++) {
      const rng = new Rng(((o.seed ?? 1) * 7919 + trial * 104729 + (n === 'all' ? 0 : n)) >>> 0);
      // the library a query sees: n references per code, never itself; a long reference keeps its tiles
      const library = (self: number): ReferenceVector[] => {
        const lib: ReferenceVector[] = [];
        for (const c of codes) {
          const pool = byCode.get(c)!.filter((it) => it.idx !== self);
          for (const r of n === 'all' ? pool : shuffled(pool, rng).slice(0, n)) {
            lib.push({ referenceId: String(r.idx), hsCode: c, embedding: r.embedding, ...(r.tiles && { tiles: r.tiles.map((x) => x.embedding) }) });
          }
        }
        return lib;
      };
      items.forEach((q, qi) => {
        const lib = library(qi);
        if (!lib.some((r) => r.hsCode === q.hsCode)) return; // the code's only image: nothing to match
        t.queries++;
        const ranked = rankReferences(q.embedding, lib);
        if (ranked[0]?.hsCode === q.hsCode) t.nearest++;
        if (knnVote(q.embedding, lib, Math.min(5, n === 'all' ? 5 : n))?.hsCode === q.hsCode) t.knn++;
        const honest = judgeReferenceMatch(matchReferences(q.embedding, lib, [q.hsCode], model, { ...(q.tiles && { tiles: q.tiles }) }), o.thresholds);
        if (honest.status === 'matches-declared') t.matched++;
        if (honest.status === 'looks-like-other') {
          t.honestFlag++;
          bump(flaggedAs, q.hsCode, honest.match.bestOther?.hsCode ?? '?');
        }
        if (q.tiles?.length) {
          t.long++;
          if (honest.parts.length > 0) t.tileFlag++;
        }
        const others = codes.filter((c) => c !== q.hsCode);
        const swappedTo = others[Math.floor(rng.next() * others.length)]!;
        if (judgeReferenceMatch(matchReferences(q.embedding, lib, [swappedTo], model), o.thresholds).status === 'looks-like-other') t.swapFlag++;
        else bump(missed, q.hsCode, swappedTo);
      });
      // two-kind long loads (never references), declared as the front code alone, then as the back code alone
      for (const m of o.mixed ?? []) {
        const lib = library(-1);
        for (const [declared, undeclared] of [[m.codes[0], m.codes[1]], [m.codes[1], m.codes[0]]] as const) {
          if (!lib.some((r) => r.hsCode === declared) || !lib.some((r) => r.hsCode === undeclared)) continue;
          t.mixed++;
          const f = judgeReferenceMatch(matchReferences(m.embedding, lib, [declared], model, { ...(m.tiles && { tiles: m.tiles }) }), o.thresholds);
          const part = f.parts.some((p) => p.hsCode === undeclared);
          if (part) t.partCaught++;
          if (f.status === 'looks-like-other') t.wholeCaught++;
          if (part || f.status === 'looks-like-other') t.caught++;
        }
      }
    }
    const frac = (x: number, of: number) => Math.round((x / Math.max(1, of)) * 1e4) / 1e4;
    const r = (x: number) => frac(x, t.queries);
    rows.push({
      refsPerCode: n, queries: t.queries, nearestTop1: r(t.nearest), knnTop1: r(t.knn), honestMatched: r(t.matched), honestFlagged: r(t.honestFlag), swappedFlagged: r(t.swapFlag),
      honestLong: t.long, honestTileFlagged: frac(t.tileFlag, t.long), mixedQueries: t.mixed, mixedCaught: frac(t.caught, t.mixed), mixedPartCaught: frac(t.partCaught, t.mixed), mixedWholeCaught: frac(t.wholeCaught, t.mixed),
      confusions: { honestFlagged: pairs(flaggedAs), missedSwaps: pairs(missed) },
    });
  }
  return rows;
}

export async function evaluateKnn(o: KnnEvalOptions) {
  const loaded = o.modelPath
    ? await loadModel(o.modelPath.endsWith('.onnx') ? o.modelPath.slice(0, -5) + '.card.json' : o.modelPath)
    : (await loadRegistry(o.registryDir ?? 'models/registry')).find((m) => m.card.task === 'embed');
  if (!loaded || loaded.card.task !== 'embed') throw new Error('no embedding model: pass --model <card.json> of a task "embed" model');
  const t0 = Date.now();
  const items = await embedFolder(loaded.card, loaded.bytes, o.dataDir, o.threads);
  const embedMs = Date.now() - t0;
  const mixed: MixedItem[] = [];
  if (o.mixedDir) {
    for (const m of await embedFolder(loaded.card, loaded.bytes, o.mixedDir, o.threads)) {
      const codes = m.label.split('+').map((c) => c.replace(/[\s.]/g, ''));
      if (codes.length !== 2 || codes[0] === codes[1]) throw new Error(`${m.image}: a mixed load's folder is <HS code>+<other HS code>`);
      mixed.push({ codes: [codes[0]!, codes[1]!], embedding: m.embedding, ...(m.tiles && { tiles: m.tiles }) });
    }
  }
  const perCode = Object.fromEntries([...new Set(items.map((i) => i.hsCode))].sort().map((c) => [c, items.filter((i) => i.hsCode === c).length]));
  const rows = knnTable(items, { ...(o.refsPerCode && { refsPerCode: o.refsPerCode }), ...(o.trials && { trials: o.trials }), ...(o.seed && { seed: o.seed }), mixed });
  // margin sweep at 5 references per code and at all: what the otherMargin threshold trades
  const sweep = [0, 0.02, 0.05, 0.1, 0.15].map((otherMargin) => ({
    otherMargin,
    rows: knnTable(items, { refsPerCode: [5, 'all'], trials: 1, thresholds: { ...REFERENCE_THRESHOLDS, otherMargin } }).map((r) => ({ refsPerCode: r.refsPerCode, honestFlagged: r.honestFlagged, swappedFlagged: r.swappedFlagged })),
  }));
  // tile thresholds (the whole-scan ones fixed): honest long scans flagged by a tile against undeclared parts caught
  const tileSweep = [0.7, 0.8, 0.85, 0.9].flatMap((tileSimilarity) =>
    [0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4].map((tileMargin) => ({
      tileSimilarity,
      tileMargin,
      rows: knnTable(items, { refsPerCode: [5, 'all'], trials: 1, mixed, thresholds: { ...REFERENCE_THRESHOLDS, tileSimilarity, tileMargin } }).map((r) => ({
        refsPerCode: r.refsPerCode, honestTileFlagged: r.honestTileFlagged, mixedCaught: r.mixedCaught, mixedPartCaught: r.mixedPartCaught,
      })),
    })),
  );
  return {
    model: { name: loaded.card.name, version: loaded.card.version },
    data: { dir: o.dataDir, images: items.length, codes: Object.keys(perCode).length, perCode, long: items.filter((i) => i.tiles).length, ...(o.mixedDir && { mixedDir: o.mixedDir, mixed: mixed.length }) },
    thresholds: REFERENCE_THRESHOLDS,
    embedMsPerImage: Math.round((embedMs / Math.max(1, items.length)) * 10) / 10,
    rows,
    marginSweep: sweep,
    tileSweep,
  };
}
