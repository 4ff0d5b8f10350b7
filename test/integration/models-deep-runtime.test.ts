// A dual-energy verifier that also reads the deep plane (card channels `grey+material+deep`) takes the material
// verifier's place when the runtime is given both planes; given the material channel alone (a scan preprocessed
// before such a verifier was loaded) or a rendering only, the grey verifier serves. The committed grid and grey
// verifier beside a hand-set three-plane lattice verifier (test/fixtures/models/tiny-deep/tiny-verify-deep, written by
// models/training/make_fixtures.py) whose firearm score is how dark the deep plane is over each window.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelOutput, Rendering } from '../../models/runtime/types.js';
import { committedModels, TINY_DEEP_VERIFIER, type TestRuntime } from '../helpers/models.js';

let models: TestRuntime;
const W = 2000, H = 600;
// the dark square of the deep plane (rendering pixels): what lies behind cargo the grey rendering shows flat
const SQUARE = [900, 250, 1000, 350] as const;
const flat = (v: number, w = W, h = H): Rendering => ({ width: w, height: h, channels: 1, data: new Uint8Array(w * h).fill(v) });
const grey = flat(200), material = flat(0);
const deep = flat(255);
for (let y = SQUARE[1]; y < SQUARE[3]; y++) deep.data.fill(0, y * W + SQUARE[0], y * W + SQUARE[2]);

beforeAll(async () => {
  models = await committedModels(['container-threat-grid', 'container-threat-verify'], { intraOpNumThreads: 1 }, undefined, TINY_DEEP_VERIFIER);
}, 60_000);
afterAll(async () => {
  await models?.close();
});

const grid = (outs: ModelOutput[]): ModelOutput => outs.find((o) => o.model === 'container-threat-grid')!;
const overSquare = ([x0, y0, x1, y1]: readonly number[]): boolean => x0! < SQUARE[2] && SQUARE[0] < x1! && y0! < SQUARE[3] && SQUARE[1] < y1!;

describe('a verifier that reads the deep plane', () => {
  it('is listed with the container models and serves a raw pair given with its deep plane: the firearm where the deep plane is dark', async () => {
    expect(models.runtime.modelsFor('container-xray').map((c) => c.name)).toContain('tiny-verify-deep');
    const out = grid(await models.runtime.infer('container-xray', grey, { material, deep }));
    expect(out.verifiedBy).toEqual({ model: 'tiny-verify-deep', version: '0.0.1' });
    expect(out.version).toMatch(/\+tiny-verify-deep\.0\.0\.1$/);
    const firearms = out.detections!.filter((d) => d.label === 'firearm');
    expect(firearms.length).toBeGreaterThan(0);
    expect(firearms.every((d) => overSquare(d.box))).toBe(true);
    expect(out.detections!.filter((d) => d.label !== 'firearm')).toEqual([]);
  });

  it('gives way to the grey verifier without the deep plane (material alone, or the rendering alone)', async () => {
    for (const extra of [{ material }, {}]) {
      const out = grid(await models.runtime.infer('container-xray', grey, extra));
      expect(out.verifiedBy?.model).toBe('container-threat-verify');
      // the grey rendering is flat: nothing there for the grey verifier
      expect(out.detections!.filter((d) => overSquare(d.box))).toEqual([]);
    }
  });

  it('refuses a deep plane that is not one channel of the rendering\'s size', async () => {
    await expect(models.runtime.infer('container-xray', grey, { material, deep: flat(255, W - 1, H) })).rejects.toThrow(/deep plane 1999×600×1 does not match/);
  });
});
