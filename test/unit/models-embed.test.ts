// The committed embedding model: the same scan always gives the same unit vector (alone, twice, or
// inside a micro-batch with other scans), and scans of one kind of goods lie closer than scans of others.
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosine, norm } from '../../models/knn/index.js';
import { createModelRuntime } from '../../models/runtime/index.js';
import type { ModelRuntime } from '../../models/runtime/types.js';
import { makeSample } from '../../models/synth/index.js';

let dir: string;
let rt: ModelRuntime;

beforeAll(async () => {
  // only the embedder, so the test does not load every committed model
  dir = await mkdtemp(join(tmpdir(), 'tw-embed-'));
  for (const f of ['container-embed.card.json', 'container-embed.onnx']) await copyFile(join('models/registry', f), join(dir, f));
  rt = await createModelRuntime({ registryDir: dir, maxBatch: 4, maxWaitMs: 10 });
});
afterAll(async () => {
  await rt?.close();
  await rm(dir, { recursive: true, force: true });
});

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
