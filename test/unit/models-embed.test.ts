// The committed embedding model: the same scan always gives the same unit vector (alone, twice, or
// inside a micro-batch with other scans), and scans of one kind of goods lie closer than scans of others.
// A long (40 ft) container is also embedded in overlapping tiles along its length; a short one is not.
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosine, norm } from '../../models/knn/index.js';
import { createModelRuntime, cropColumns, embeddingTiles } from '../../models/runtime/index.js';
import type { ModelRuntime } from '../../models/runtime/types.js';
import { makeSample } from '../../models/synth/index.js';
import { containerSample } from '../../models/synth/container.js';
import { Rng } from '../../models/synth/prng.js';
import { committedModels, type TestRuntime } from '../helpers/models.js';

let models: TestRuntime;
let rt: ModelRuntime;

beforeAll(async () => {
  // only the embedder, so the test does not load every committed model
  models = await committedModels(['container-embed'], { maxBatch: 4, maxWaitMs: 10 });
  rt = models.runtime;
});
afterAll(async () => models?.close());

const embed = async (r: Parameters<ModelRuntime['infer']>[1]) => (await rt.infer('container-xray', r))[0]!.embedding!;

describe('container-embed', () => {
  it('is registered as the embedding model of container scans', () => {
    expect(rt.modelsFor('container-xray').map((c) => [c.name, c.task, c.output.layout])).toEqual([['container-embed', 'embed', 'embedding']]);
  });

  it('gives the same unit vector for the same input, alone or micro-batched', async () => {
    const samples = [0, 1, 2].map((i) => makeSample('container', 777, i, { threatRate: 0 }).rendering);
    const once = await embed(samples[0]!);
    const twice = await embed(samples[0]!);
    const batched = await Promise.all(samples.map(embed));
    expect(once).toHaveLength(128);
    expect(norm(once)).toBeCloseTo(1, 4);
    expect(twice).toEqual(once);
    batched[0]!.forEach((v, i) => expect(v).toBeCloseTo(once[i]!, 5));
    expect(cosine(batched[1]!, once)).toBeLessThan(0.9999);
  });
});

/** Synthetic container scans of `seed` (16 mm/px, as the training sets), with their length. */
const containers = (seed: number, n: number) =>
  Array.from({ length: n }, (_, i) => containerSample(Rng.forSample(seed, i), { mmpp: 16, threatRate: 0 })).map((s) => ({ lengthFt: s.meta.lengthFt, chassis: s.meta.chassis, rendering: s.rendering }));
const scans = containers(4242, 24);
/** A 40 ft box without a chassis (several tiles) and a 20 ft box (none). */
const container = (lengthFt: 20 | 40) => scans.find((s) => s.lengthFt === lengthFt && !s.chassis)!.rendering;

describe('tiles along a long container', () => {
  it('cuts a 40 ft rendering into overlapping full-height tiles that cover it; a 20 ft one not at all', () => {
    // every synthetic 40 ft scan (on a chassis or not) is tiled, no 20 ft one is
    expect(new Set(scans.map((s) => s.lengthFt))).toEqual(new Set([20, 40]));
    for (const s of scans) expect(embeddingTiles(s.rendering.width, s.rendering.height).length >= 2, `${s.lengthFt} ft ${s.rendering.width}×${s.rendering.height}`).toBe(s.lengthFt === 40);
    const long = container(40);
    const tiles = embeddingTiles(long.width, long.height);
    const tw = Math.min(long.width, Math.round(long.height * 2.2));
    expect(tiles.length).toBeGreaterThanOrEqual(2);
    expect(tiles.every((t) => t.width === tw)).toBe(true);
    expect(tiles[0]!.x).toBe(0);
    expect(tiles.at(-1)!.x + tw).toBe(long.width); // the last tile is aligned to the right edge
    tiles.slice(1, -1).forEach((t, i) => expect(t.x - tiles[i]!.x).toBe(Math.floor(tw / 2)));
    tiles.slice(1).forEach((t, i) => expect(t.x).toBeGreaterThan(tiles[i]!.x));
    // a 4.5:1 box: tiles of 2.2 heights every 1.1 heights, the last one moved back to the right edge
    expect(embeddingTiles(900, 200)).toEqual([{ x: 0, width: 440 }, { x: 220, width: 440 }, { x: 440, width: 440 }, { x: 460, width: 440 }]);
    const short = container(20);
    expect(embeddingTiles(short.width, short.height)).toEqual([]);
    expect(embeddingTiles(500, 200)).toEqual([]); // 2.5:1, a 20 ft box with margins: not long
  });

  it('embeds each tile as the card says, batched with the whole scan, the same every time', async () => {
    const long = container(40);
    const [out] = await rt.infer('container-xray', long);
    const again = (await rt.infer('container-xray', long))[0]!;
    expect(out!.tiles!.map((t) => ({ x: t.x, width: t.width }))).toEqual(embeddingTiles(long.width, long.height));
    expect(again.tiles).toEqual(out!.tiles);
    expect(again.embedding).toEqual(out!.embedding);
    for (const t of out!.tiles!) {
      expect(t.embedding).toHaveLength(128);
      expect(norm(t.embedding)).toBeCloseTo(1, 3);
      expect(t.embedding.every((v) => Math.round(v * 1e5) / 1e5 === v)).toBe(true); // 5 decimals: small JSON
    }
    // a tile's vector is the crop's own vector (letterboxed alone), up to the rounding
    const t1 = out!.tiles![1]!;
    const alone = await embed(cropColumns(long, t1.x, t1.width));
    t1.embedding.forEach((v, i) => expect(v).toBeCloseTo(alone[i]!, 4));
    // parts of a 40 ft box differ from each other and from the whole
    expect(cosine(out!.tiles![0]!.embedding, out!.tiles!.at(-1)!.embedding)).toBeLessThan(0.999);
  });

  it('leaves a short container\'s output as it was, and never tiles another modality', async () => {
    const short = container(20);
    const [out] = await rt.infer('container-xray', short);
    expect(Object.keys(out!).sort()).toEqual(['embedding', 'model', 'task', 'version']);
    // the same embedder serving parcels too: a long parcel rendering gets no tiles
    const dir2 = await mkdtemp(join(tmpdir(), 'tw-embed-parcel-'));
    try {
      const card = JSON.parse(await readFile(join('models/registry', 'container-embed.card.json'), 'utf8')) as Record<string, unknown>;
      await writeFile(join(dir2, 'container-embed.card.json'), JSON.stringify({ ...card, modalities: ['parcel-xray'] }));
      await copyFile(join('models/registry', 'container-embed.onnx'), join(dir2, 'container-embed.onnx'));
      const rt2 = await createModelRuntime({ registryDir: dir2 });
      try {
        const long = container(40);
        const [parcel] = await rt2.infer('parcel-xray', long);
        expect(parcel!.tiles).toBeUndefined();
        expect(parcel!.embedding).toEqual((await rt.infer('container-xray', long))[0]!.embedding);
      } finally {
        await rt2.close();
      }
    } finally {
      await rm(dir2, { recursive: true, force: true });
    }
  });
});
