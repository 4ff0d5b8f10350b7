// The shared downscale of a large rendering (models/runtime/downscale.ts): when it applies, what it maps
// back, and that the committed container models say the same on a full-size 40 ft rendering with and
// without it (same tiles over the same columns, near-identical vectors and scores, boxes in rendering pixels).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dot } from '../../models/knn/index.js';
import { sharedDownscale, sharedScale, toRenderingPixels } from '../../models/runtime/downscale.js';
import { createModelRuntime, loadRegistry, placement } from '../../models/runtime/index.js';
import type { ModelCard, ModelOutput, ModelRuntime, Rendering } from '../../models/runtime/types.js';
import { containerSample } from '../../models/synth/container.js';
import { Rng } from '../../models/synth/prng.js';

const REG = 'models/registry';
let cards: ModelCard[];
let shared: ModelRuntime, plain: ModelRuntime;
let big: Rendering;

beforeAll(async () => {
  cards = (await loadRegistry(REG)).map((m) => m.card).filter((c) => c.modality === 'container-xray');
  [shared, plain] = await Promise.all([createModelRuntime({ registryDir: REG, intraOpNumThreads: 1 }), createModelRuntime({ registryDir: REG, intraOpNumThreads: 1, sharedDownscale: false })]);
  // a 40 ft box at 4 mm/px, as a scanner's full-size export would be
  for (let i = 0; ; i++) {
    const s = containerSample(Rng.forSample(4242, i), { mmpp: 4, threatRate: 0 });
    if (s.meta.lengthFt === 40) {
      big = s.rendering;
      break;
    }
  }
}, 60_000);
afterAll(async () => Promise.all([shared?.close(), plain?.close()]));

describe('shared downscale', () => {
  it('applies to a full-size container rendering, not to renderings already near the models\' sizes', () => {
    expect(big.width).toBeGreaterThan(2500);
    const f = sharedScale(cards, big.width, big.height, true);
    expect(f).toBeLessThanOrEqual(0.7);
    const s = sharedDownscale(big, cards, true);
    expect(s.rendering.width).toBe(Math.round(big.width * f));
    expect(s.sx).toBeCloseTo(big.width / s.rendering.width, 10);
    // every model's letterbox still gets at least twice the pixels it keeps, along both axes
    for (const c of cards) {
      const [, , h, w] = c.input.shape as [unknown, number, number, number];
      const p = placement(big.width, big.height, w, h, 'letterbox');
      expect(s.rendering.width).toBeGreaterThanOrEqual(2 * p.newW - 1);
      expect(s.rendering.height).toBeGreaterThanOrEqual(2 * p.newH - 1);
    }
    const small = { width: 800, height: 260, channels: 1 as const, data: new Uint8Array(800 * 260) };
    expect(sharedDownscale(small, cards, true).rendering).toBe(small);
  });

  it('maps boxes and tile columns back to rendering pixels; the last tile ends on the right edge', () => {
    const s = { rendering: big, sx: 2999 / 937, sy: 3 }; // a 2,999 px wide rendering shared at 937 px
    const o: ModelOutput = {
      model: 'm', version: '1', task: 'embed',
      detections: [{ label: 'knife', score: 0.9, box: [10, 20, 30, 40] }],
      tiles: [{ x: 0, width: 500, embedding: [1] }, { x: 437, width: 500, embedding: [1] }],
    };
    const m = toRenderingPixels(o, s, 2999, 1000);
    m.detections![0]!.box.forEach((v, i) => expect(v).toBeCloseTo([10 * s.sx, 60, 30 * s.sx, 120][i]!, 9));
    expect(m.tiles!.map((t) => [t.x, t.width])).toEqual([[0, 1600], [1399, 2999 - 1399]]);
    expect(toRenderingPixels(o, { rendering: big, sx: 1, sy: 1 }, 100, 100)).toBe(o);
  });

  it('the container models say the same with and without it on a 40 ft full-size rendering', async () => {
    const [a, b] = await Promise.all([shared.infer('container-xray', big), plain.infer('container-xray', big)]);
    const by = (os: ModelOutput[], task: string) => os.find((o) => o.task === task)!;
    // the embedder: same tiles over the same columns, vectors nearly identical
    const ea = by(a, 'embed'), eb = by(b, 'embed');
    expect(dot(ea.embedding!, eb.embedding!)).toBeGreaterThan(0.99);
    expect(ea.tiles!.length).toBeGreaterThanOrEqual(2);
    expect(ea.tiles!.map((t) => t.x + t.width).at(-1)).toBe(big.width);
    expect(ea.tiles!.length).toBe(eb.tiles!.length);
    ea.tiles!.forEach((t, i) => {
      expect(Math.abs(t.x - eb.tiles![i]!.x)).toBeLessThanOrEqual(3);
      expect(dot(t.embedding, eb.tiles![i]!.embedding)).toBeGreaterThan(0.98);
    });
    // the classifier: the same scores to within 0.02
    const ca = by(a, 'classify'), cb = by(b, 'classify');
    for (const [label, v] of Object.entries(cb.scores!)) expect(Math.abs(ca.scores![label]! - v)).toBeLessThan(0.02);
    // the threat grid: boxes in the full rendering's pixels
    for (const d of by(a, 'detect').detections ?? []) {
      expect(d.box[2]).toBeLessThanOrEqual(big.width);
      expect(d.box[3]).toBeLessThanOrEqual(big.height);
    }
  }, 60_000);
});
