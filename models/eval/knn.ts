// `npm run eval -- --knn --data <folder filed by HS code>`: leave-one-out reference matching as a function
// of how many references each code holds (1, 2, 5, 10, all). Every image is a query once; its library is
// n other images of each code (drawn per trial, itself excluded). Reports k-NN accuracy, how often an
// honest declaration matches / is wrongly flagged, and how often a swapped code is flagged — with the
// domain's own judge (domain/assessment/reference-match.ts), so the figures are what the pipeline does.
import { judgeReferenceMatch, REFERENCE_THRESHOLDS, type ReferenceThresholds } from '../../domain/assessment/reference-match.js';
import { knnVote, matchReferences, rankReferences, type ReferenceVector } from '../knn/index.js';
import { prepare, postprocess } from '../runtime/index.js';
import { loadModel, loadRegistry } from '../runtime/registry.js';
import { SessionPool } from '../runtime/session.js';
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
}

export interface KnnRow {
  refsPerCode: number | 'all';
  queries: number;
  nearestTop1: number;
  knnTop1: number;
  honestMatched: number;
  honestFlagged: number;
  swappedFlagged: number;
}

/** Embeds every image of a folder-per-code dataset with an embedding model. */
export async function embedFolder(card: ModelCard, bytes: Uint8Array, dir: string, threads = 2): Promise<Array<{ image: string; hsCode: string; embedding: number[] }>> {
  const pool = await SessionPool.create(bytes, { intraOpNumThreads: threads, poolSize: 1 });
  const [, c, h, w] = card.input.shape as [unknown, number, number, number];
  const out: Array<{ image: string; hsCode: string; embedding: number[] }> = [];
  try {
    for (const it of await readFolders(dir)) {
      const p = prepare(card, await readRendering(it.image, c === 1 ? 1 : 3));
      const o = await pool.run(pool.inputNames.includes('images') ? 'images' : (pool.inputNames[0] as string), p.tensor, [1, c, h, w], card.output.name);
      out.push({ image: it.image, hsCode: it.label.replace(/[\s.]/g, ''), embedding: postprocess(card, o.data, o.dims, 0, p).embedding! });
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
export function knnTable(items: ReadonlyArray<{ hsCode: string; embedding: number[] }>, o: { refsPerCode?: Array<number | 'all'>; trials?: number; seed?: number; thresholds?: Readonly<ReferenceThresholds> } = {}): KnnRow[] {
  const codes = [...new Set(items.map((i) => i.hsCode))].sort();
  const byCode = new Map(codes.map((c) => [c, items.map((it, idx) => ({ ...it, idx })).filter((it) => it.hsCode === c)]));
  const model = { name: 'eval', version: '0' };
  const rows: KnnRow[] = [];
  for (const n of o.refsPerCode ?? [1, 2, 5, 10, 'all']) {
    const trials = n === 'all' ? 1 : (o.trials ?? 3);
    const t = { queries: 0, nearest: 0, knn: 0, matched: 0, honestFlag: 0, swapFlag: 0 };
    for (let trial = 0; trial < trials; trial++) {
      const rng = new Rng(((o.seed ?? 1) * 7919 + trial * 104729 + (n === 'all' ? 0 : n)) >>> 0);
      items.forEach((q, qi) => {
        // the library this query sees: n references per code, never itself
        const lib: ReferenceVector[] = [];
        for (const c of codes) {
          const pool = byCode.get(c)!.filter((it) => it.idx !== qi);
          for (const r of n === 'all' ? pool : shuffled(pool, rng).slice(0, n)) lib.push({ referenceId: String(r.idx), hsCode: c, embedding: r.embedding });
        }
        if (!lib.some((r) => r.hsCode === q.hsCode)) return; // the code's only image: nothing to match
        t.queries++;
        const ranked = rankReferences(q.embedding, lib);
        if (ranked[0]?.hsCode === q.hsCode) t.nearest++;
        if (knnVote(q.embedding, lib, Math.min(5, n === 'all' ? 5 : n))?.hsCode === q.hsCode) t.knn++;
        const honest = judgeReferenceMatch(matchReferences(q.embedding, lib, [q.hsCode], model), o.thresholds);
        if (honest.status === 'matches-declared') t.matched++;
        if (honest.status === 'looks-like-other') t.honestFlag++;
        const others = codes.filter((c) => c !== q.hsCode);
        const swappedTo = others[Math.floor(rng.next() * others.length)]!;
        if (judgeReferenceMatch(matchReferences(q.embedding, lib, [swappedTo], model), o.thresholds).status === 'looks-like-other') t.swapFlag++;
      });
    }
    const r = (x: number) => Math.round((x / Math.max(1, t.queries)) * 1e4) / 1e4;
    rows.push({ refsPerCode: n, queries: t.queries, nearestTop1: r(t.nearest), knnTop1: r(t.knn), honestMatched: r(t.matched), honestFlagged: r(t.honestFlag), swappedFlagged: r(t.swapFlag) });
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
  const perCode = Object.fromEntries([...new Set(items.map((i) => i.hsCode))].sort().map((c) => [c, items.filter((i) => i.hsCode === c).length]));
  const rows = knnTable(items, { ...(o.refsPerCode && { refsPerCode: o.refsPerCode }), ...(o.trials && { trials: o.trials }), ...(o.seed && { seed: o.seed }) });
  // margin sweep at 5 references per code and at all: what the otherMargin threshold trades
  const sweep = [0, 0.02, 0.05, 0.1, 0.15].map((otherMargin) => ({
    otherMargin,
    rows: knnTable(items, { refsPerCode: [5, 'all'], trials: 1, thresholds: { ...REFERENCE_THRESHOLDS, otherMargin } }).map((r) => ({ refsPerCode: r.refsPerCode, honestFlagged: r.honestFlagged, swappedFlagged: r.swappedFlagged })),
  }));
  return {
    model: { name: loaded.card.name, version: loaded.card.version },
    data: { dir: o.dataDir, images: items.length, codes: Object.keys(perCode).length, perCode },
    thresholds: REFERENCE_THRESHOLDS,
    embedMsPerImage: Math.round((embedMs / Math.max(1, items.length)) * 10) / 10,
    rows,
    marginSweep: sweep,
  };
}
