// The kNN evaluation's tile figures (models/eval/knn.ts): honest long scans flagged by a tile and the
// undeclared part of a two-kind long load caught, counted with the domain's judge on plain vectors where the
// answer can be worked out; and the eval embeds a long rendering's tiles exactly as the pipeline's runtime does.
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REFERENCE_THRESHOLDS } from '../../domain/assessment/reference-match.js';
import { embedFolder, knnTable, type KnnItem, type MixedItem } from '../../models/eval/knn.js';
import { createModelRuntime } from '../../models/runtime/index.js';
import { containerSample } from '../../models/synth/container.js';
import { pngOf } from '../../models/synth/index.js';
import { Rng } from '../../models/synth/prng.js';
import type { ModelCard } from '../../models/runtime/types.js';
import { vec } from '../helpers/vectors.js';

const [A, B, C] = ['4011100000', '7308900000', '8471300000'];

const tiles = (...es: number[][]) => es.map((embedding, i) => ({ x: i * 100, width: 200, embedding }));

describe('tile figures of the leave-one-out table', () => {
  // codes A, B, C on axes 0, 2, 4; two of A's scans are long: one all A, one whose back tile looks like B
  const items: KnnItem[] = [
    { hsCode: A, embedding: vec(0, 0.05), tiles: tiles(vec(0), vec(0, 0.05)) },
    { hsCode: A, embedding: vec(0, 0.1), tiles: tiles(vec(0), vec(2)) },
    ...[0.15, 0.2].map((j) => ({ hsCode: A, embedding: vec(0, j) })),
    ...[0, 0.05, 0.1].flatMap((j) => [{ hsCode: B, embedding: vec(2, j) }, { hsCode: C, embedding: vec(4, j) }]),
  ];
  const mixed: MixedItem[] = [
    // A in front, B behind: declared A, the back tile names B; declared B, the front tiles name A and the whole looks like A
    { codes: [A, B], embedding: vec(0, 0.3), tiles: tiles(vec(0), vec(0, 0.1), vec(2, 0.05)) },
    // A in front, a C part too small to show: declared A nothing; declared C, the whole and every tile look like A
    { codes: [A, C], embedding: vec(0), tiles: tiles(vec(0), vec(0, 0.05)) },
  ];

  it('counts honest long scans flagged by a tile and undeclared parts caught, by part and by the whole', () => {
    const [all] = knnTable(items, { refsPerCode: ['all'], mixed });
    expect(all).toMatchObject({ queries: 10, honestFlagged: 0, honestLong: 2, honestTileFlagged: 0.5, mixedQueries: 4, mixedCaught: 0.75, mixedPartCaught: 0.75, mixedWholeCaught: 0.5 });
  });

  it('takes the tile thresholds apart from the whole-scan ones', () => {
    const [all] = knnTable(items, { refsPerCode: ['all'], mixed, thresholds: { ...REFERENCE_THRESHOLDS, tileMargin: 2 } });
    expect(all).toMatchObject({ honestFlagged: 0, honestTileFlagged: 0, mixedPartCaught: 0, mixedWholeCaught: 0.5, mixedCaught: 0.5 });
  });

  it('a mixed load whose code has no references is not a query; short scans have no tile figures', () => {
    const [all] = knnTable(items.filter((i) => i.hsCode !== C).map(({ tiles: _t, ...i }) => i), { refsPerCode: ['all'], mixed });
    expect(all).toMatchObject({ honestLong: 0, honestTileFlagged: 0, mixedQueries: 2 });
  });
});

describe('which codes make the errors', () => {
  // A on axis 0, B on axis 2, and one A that looks like B (an odd-looking reference of A)
  const items: KnnItem[] = [
    ...[0, 0.05, 0.1].map((j) => ({ hsCode: A, embedding: vec(0, j) })),
    { hsCode: A, embedding: vec(2, 0.2) },
    ...[0, 0.05, 0.1].map((j) => ({ hsCode: B, embedding: vec(2, j) })),
  ];

  it('names the honest scan flagged as another code and the swaps let through, by pair', () => {
    const [all] = knnTable(items, { refsPerCode: ['all'] });
    // the odd A is flagged as B and passes declared as B; each B declared as A is caught (A's similarity is the
    // mean of its closest few references, and only one of them looks like B), as is each ordinary A declared as B
    expect(all!.confusions).toEqual({ honestFlagged: [{ code: A, other: B, n: 1 }], missedSwaps: [{ code: A, other: B, n: 1 }] });
    expect(all).toMatchObject({ queries: 7, honestFlagged: 0.1429, swappedFlagged: 0.8571 });
  });

  it('an empty list when nothing is confused', () => {
    const [all] = knnTable(items.filter((i) => !(i.hsCode === A && i.embedding[2]! > 0.5)), { refsPerCode: ['all'] });
    expect(all!.queries).toBe(6);
    expect(all!.confusions).toEqual({ honestFlagged: [], missedSwaps: [] });
  });
});

describe('the eval embeds tiles as the runtime does', () => {
  it('gives a 40 ft rendering the runtime\'s tiles and vectors, a 20 ft one none', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tw-knn-eval-'));
    try {
      const found: Record<20 | 40, ReturnType<typeof containerSample> | undefined> = { 20: undefined, 40: undefined };
      for (let i = 0; !found[20] || !found[40]; i++) {
        const s = containerSample(Rng.forSample(4242, i), { mmpp: 24, threatRate: 0, categories: ['tyres'] });
        found[s.meta.lengthFt] ??= s;
      }
      await mkdir(join(dir, 'data', A), { recursive: true });
      await writeFile(join(dir, 'data', A, 'a-long.png'), await pngOf(found[40]!.rendering));
      await writeFile(join(dir, 'data', A, 'b-short.png'), await pngOf(found[20]!.rendering));
      for (const f of ['container-embed.card.json', 'container-embed.onnx']) await copyFile(join('models/registry', f), join(dir, f));
      const card = JSON.parse(await readFile(join(dir, 'container-embed.card.json'), 'utf8')) as ModelCard;
      const [long, short] = await embedFolder(card, await readFile(join(dir, 'container-embed.onnx')), join(dir, 'data'), 1);
      expect(short!.tiles).toBeUndefined();
      const rt = await createModelRuntime({ registryDir: dir });
      try {
        const [out] = await rt.infer('container-xray', found[40]!.rendering);
        expect(long!.tiles!.length).toBeGreaterThanOrEqual(2);
        expect(long!.tiles!.map((t) => [t.x, t.width])).toEqual(out!.tiles!.map((t) => [t.x, t.width]));
        long!.tiles!.forEach((t, i) => Array.from(t.embedding).forEach((v, j) => expect(v).toBeCloseTo(out!.tiles![i]!.embedding[j]!, 4)));
        long!.embedding.forEach((v, j) => expect(v).toBeCloseTo(out!.embedding![j]!, 4));
      } finally {
        await rt.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
