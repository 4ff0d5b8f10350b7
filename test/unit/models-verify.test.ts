// Second-stage verification (models/runtime/verify.ts): which grid cells become proposals, where their
// windows fall in the rendering, how windows are cropped, what the verifier's scores confirm, and that the
// registry refuses a verify card without a valid `verifies` block.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { placement } from '../../models/runtime/letterbox.js';
import { validateCard } from '../../models/runtime/registry.js';
import type { ModelCard } from '../../models/runtime/types.js';
import { confirmed, denseProposals, fusedScore, gridProposals, neighbourScores, proposalWindows, roundHalfEven, sampleWindow, type VerifySpec } from '../../models/runtime/verify.js';

const logit = (p: number): number => Math.log(p / (1 - p));

/** A [1, classes, gh, gw] grid of probabilities `low` with some cells set. */
function grid(classes: number, gh: number, gw: number, cells: Array<[number, number, number, number]>, low = 0.01): { data: Float32Array; dims: number[] } {
  const data = new Float32Array(classes * gh * gw).fill(logit(low));
  for (const [c, y, x, p] of cells) data[(c * gh + y) * gw + x] = logit(p);
  return { data, dims: [1, classes, gh, gw] };
}

const spec: VerifySpec = { model: 'grid', proposalThreshold: 0.05, maxProposals: 3, window: 48, minWindowPixels: 96 };

describe('grid proposals', () => {
  it('takes per-class local maxima at or over the threshold, strongest first, with the region around each', () => {
    // class 0: a peak 0.9 at row 1, column 2 with a 0.6 neighbour (its region, not a peak) and a separate weak
    // peak 0.06 at row 3, column 6; class 1: a lone 0.04, under the threshold
    const { data, dims } = grid(2, 4, 8, [[0, 1, 2, 0.9], [0, 1, 3, 0.6], [0, 3, 6, 0.06], [1, 2, 2, 0.04]]);
    const ps = gridProposals(data, dims, 0, 0.05, 10, 16);
    expect(ps.map((p) => [p.cls, Number(p.score.toFixed(2)), p.cx, p.cy])).toEqual([[0, 0.9, 40, 24], [0, 0.06, 104, 56]]);
    // the peak's region joins cells at ≥ half its probability: (1, 2) and (1, 3) → x 32..64, y 16..32
    expect(ps[0]!.box).toEqual([32, 16, 64, 32]);
    expect(ps[1]!.box).toEqual([96, 48, 112, 64]);
    // what the grid says of every class around the peak (3 × 3 cells): class 0 the peak, class 1 its 0.04
    expect(ps[0]!.around.map((v) => Number(v.toFixed(2)))).toEqual([0.9, 0.04]);
  });

  it('gives one proposal per cell: the strongest class there (the verifier scores them all)', () => {
    const { data, dims } = grid(2, 3, 3, [[0, 1, 1, 0.4], [1, 1, 1, 0.8]]);
    expect(gridProposals(data, dims, 0, 0.05, 10, 16).map((p) => [p.cls, p.cx, p.cy])).toEqual([[1, 24, 24]]);
  });

  it('keeps at most maxProposals, and reads image n of a batch', () => {
    const one = grid(1, 3, 9, [[0, 1, 0, 0.5], [0, 1, 4, 0.7], [0, 1, 8, 0.9]]);
    const batch = { data: new Float32Array([...new Float32Array(27).fill(logit(0.01)), ...one.data]), dims: [2, 1, 3, 9] };
    expect(gridProposals(batch.data, batch.dims, 0, 0.05, 5, 16)).toEqual([]);
    expect(gridProposals(batch.data, batch.dims, 1, 0.05, 2, 16).map((p) => p.cx)).toEqual([8.5 * 16, 4.5 * 16]);
  });
});

describe('dense sweep', () => {
  it('places a window every denseStride input pixels over the scan, every point in some window\'s central half', () => {
    // a 3072 × 960 rendering letterboxed into 768 × 256: 768 × 240 of scan, 8 px of padding on top
    const place = placement(3072, 960, 768, 256, 'letterbox');
    const { data, dims } = grid(2, 16, 48, [[1, 1, 0, 0.7]]);
    const ws = denseProposals(data, dims, 0, place, 48, 24, 16);
    expect(ws).toHaveLength(32 * 10);
    // centred on the scan: (768 − 31·24) / 2 = 12 left and right, 8 + (240 − 9·24) / 2 = 20 from the top
    expect([ws[0]!.cx, ws[0]!.cy, ws.at(-1)!.cx, ws.at(-1)!.cy]).toEqual([12, 20, 756, 236]);
    expect(ws[0]!.box).toEqual([0, 8, 24, 32]);
    expect(ws.every((w) => w.cls === -1 && w.score === 0)).toBe(true);
    // every scan pixel lies in the central half (the box) of at least one window
    for (let y = 8; y < 248; y += 3) {
      for (let x = 0; x < 768; x += 5) expect(ws.some((w) => x >= w.box[0] && x <= w.box[2] && y >= w.box[1] && y <= w.box[3])).toBe(true);
    }
    // the grid's belief around each centre, for fusion: the first window's cell (0, 1) neighbours class 1's 0.7
    expect(ws[0]!.around.map((v) => Number(v.toFixed(2)))).toEqual([0.01, 0.7]);
    expect(ws.at(-1)!.around.map((v) => Number(v.toFixed(2)))).toEqual([0.01, 0.01]);
  });
});

describe('windows and crops', () => {
  const proposal = { cls: 0, score: 0.9, cx: 40, cy: 24, box: [32, 16, 64, 32] as [number, number, number, number], around: [0.9] };

  it('maps a proposal to a rendering window of `window` input pixels as training places it, its box clipped to it', () => {
    // input pixels per rendering pixel 0.25 (a 3072-wide rendering into 768), padded 8 px on top
    const [w] = proposalWindows([proposal], spec, placement(3072, 960, 768, 256, 'letterbox'), 3072, 960)!;
    expect([w!.x0, w!.y0, w!.x1, w!.y1]).toEqual([160 - 96, 64 - 96, 160 + 96, 64 + 96]);
    expect(w!.box).toEqual([128, 32, 256, 96]);
    // half a window either side, each edge rounded half to even as Python's round(): 48 / 0.3 / 2 = 80 → a
    // centre at 10.5 rendering px gives edges -69.5 → -70 and 90.5 → 90
    const odd = proposalWindows([{ ...proposal, cx: 3.15, cy: 3.15 }], spec, { sx: 0.3, sy: 0.3, newW: 300, newH: 300, padX: 0, padY: 0 }, 1000, 1000)!;
    expect([odd[0]!.x0, odd[0]!.x1, odd[0]!.y0, odd[0]!.y1]).toEqual([-70, 90, -70, 90]);
  });

  it('rounds halves to even, as Python does', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, 2.6, -2.6, 3].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, -2, 2, 3, -3, 3]);
  });

  it('declines when the window would be coarser than minWindowPixels (a low-resolution rendering)', () => {
    expect(proposalWindows([proposal], spec, placement(768, 256, 768, 256, 'letterbox'), 768, 256)).toBeNull();
  });

  it('samples windows byte for byte as training did (PIL crop, air outside, BOX resize; models/training/window_fixture.py)', async () => {
    const fx = JSON.parse(await readFile('test/fixtures/models/window-box.json', 'utf8')) as {
      width: number; height: number; grey: number[]; material: number[]; cases: Array<{ window: [number, number, number, number]; size: number; grey: number[]; greyMaterial: number[] }>;
    };
    const r = { width: fx.width, height: fx.height, channels: 1 as const, data: Uint8Array.from(fx.grey) };
    const m = { width: fx.width, height: fx.height, channels: 1 as const, data: Uint8Array.from(fx.material) };
    expect(fx.cases).toHaveLength(12);
    for (const c of fx.cases) {
      const [x0, y0, x1, y1] = c.window;
      const g = sampleWindow(r, x0, y0, x1, y1, c.size);
      expect([g.width, g.height, g.channels]).toEqual([c.size, c.size, 1]);
      expect(Array.from(g.data), `grey ${c.window.join(',')}`).toEqual(c.grey);
      expect(Array.from(sampleWindow(r, x0, y0, x1, y1, c.size, m).data), `grey+material ${c.window.join(',')}`).toEqual(c.greyMaterial);
    }
  });

  it('up-samples by nearest pixel, never a blend: a 2-pixel blade stays 2 pixels dark', () => {
    // a 3 × 3 window, dark middle column, to 6 × 6: floor((j + 0.5) / 2) → columns 0 0 1 1 2 2
    const r = { width: 3, height: 3, channels: 1 as const, data: Uint8Array.from([200, 10, 200, 200, 10, 200, 200, 10, 200]) };
    expect(Array.from(sampleWindow(r, 0, 0, 3, 3, 6).data.subarray(0, 6))).toEqual([200, 200, 10, 10, 200, 200]);
  });

  it('samples colour renderings pixel by pixel, air in every channel outside', () => {
    const rgb = { width: 2, height: 1, channels: 3 as const, data: Uint8Array.from([1, 2, 3, 4, 5, 6]) };
    // window x -1..2, y 0..1 up-sampled to 3 × 3: air, pixel 0, pixel 1 in every row (all from source row 0)
    expect(Array.from(sampleWindow(rgb, -1, 0, 2, 1, 3).data.subarray(0, 9))).toEqual([255, 255, 255, 1, 2, 3, 4, 5, 6]);
  });

  it('with a material channel, interleaves grey and material, the material 0 outside the rendering', () => {
    const r = { width: 4, height: 3, channels: 1 as const, data: Uint8Array.from({ length: 12 }, (_, i) => i) };
    const m = { width: 4, height: 3, channels: 1 as const, data: Uint8Array.from({ length: 12 }, (_, i) => 100 + i) };
    const c = sampleWindow(r, -1, 1, 2, 4, 3, m);
    expect([c.width, c.height, c.channels]).toEqual([3, 3, 2]);
    expect(Array.from(c.data)).toEqual([255, 0, 4, 104, 5, 105, 255, 0, 8, 108, 9, 109, 255, 0, 255, 0, 255, 0]);
    expect(() => sampleWindow(r, 0, 0, 3, 3, 3, { ...m, width: 3, data: m.data.subarray(0, 9) })).toThrow(/does not match/);
    expect(() => sampleWindow(r, 2, 2, 2, 3, 3)).toThrow(/empty window/);
  });

  it('into a reused buffer, writes every byte of the window (nothing left from the window before)', () => {
    const r = { width: 4, height: 3, channels: 1 as const, data: Uint8Array.from({ length: 12 }, (_, i) => i) };
    const m = { width: 4, height: 3, channels: 1 as const, data: Uint8Array.from({ length: 12 }, (_, i) => 100 + i) };
    const buf = new Uint8Array(40).fill(77);
    for (const [x, y, side, size] of [[-1, 1, 3, 3], [2, -2, 3, 4], [1, 0, 3, 2], [9, 9, 3, 3]] as const) {
      expect(Array.from(sampleWindow(r, x, y, x + side, y + side, size, m, 255, buf).data)).toEqual(Array.from(sampleWindow(r, x, y, x + side, y + side, size, m).data));
      expect(Array.from(sampleWindow(r, x, y, x + side, y + side, size, undefined, 255, buf).data)).toEqual(Array.from(sampleWindow(r, x, y, x + side, y + side, size).data));
    }
    expect(() => sampleWindow(r, 0, 0, 5, 5, 5, m, 255, buf)).toThrow(/buffer of 40 bytes for a 50-byte window/);
  });
});

describe('confirmation', () => {
  const card = { name: 'v', labels: ['firearm', 'knife'], thresholds: { firearm: 0.3, knife: 0.5 } } as unknown as ModelCard;
  const win = (x: number) => ({ proposal: { cls: 1, score: 0.1, cx: 0, cy: 0, box: [0, 0, 1, 1] as [number, number, number, number], around: [0.2, 0.1] }, x0: x, y0: 0, x1: x + 10, y1: 10, box: [x, 0, x + 10, 10] as [number, number, number, number] });

  it('keeps every class the verifier scores at or over its threshold, whatever the grid proposed', () => {
    const out = confirmed([win(0), win(100)], [{ firearm: 0.8, knife: 0.2 }, { firearm: 0.1, knife: 0.49 }], card);
    expect(out).toEqual([{ label: 'firearm', score: 0.8, box: [0, 0, 10, 10] }]);
  });

  it('fuses the verifier with the grid around the window when the card says how', () => {
    const fused = { ...card, verifies: { ...spec, fusion: { firearm: [1, 1, 0] as [number, number, number] } } } as ModelCard;
    // logit(0.25) + logit(0.2) → 0.077: the grid's doubt pulls a weak verifier score under the threshold
    expect(fusedScore(fused.verifies, 'firearm', 0.25, 0.2)).toBeCloseTo(1 / (1 + 12), 6);
    expect(fusedScore(fused.verifies, 'knife', 0.25, 0.2)).toBe(0.25);
    expect(confirmed([win(0)], [{ firearm: 0.6 }], card).map((d) => d.label)).toEqual(['firearm']);
    expect(confirmed([win(0)], [{ firearm: 0.6 }], fused)).toEqual([]); // 0.6 and 0.2 → 0.27 < 0.3
  });

  it('weighs the neighbouring windows\' best score when the card has a neighbourRadius', () => {
    // three windows in a row 24 input pixels apart, a fourth far off; radius 24 reaches the next one each side only
    const at = (cx: number, cy: number, x: number) => ({ ...win(x), proposal: { ...win(x).proposal, cx, cy } });
    const ws = [at(100, 50, 0), at(124, 50, 10), at(148, 50, 20), at(400, 50, 200)];
    const sc = [{ firearm: 0.9 }, { firearm: 0.6 }, { firearm: 0.2 }, { firearm: 0.6 }];
    expect(neighbourScores(ws, sc, card.labels, 24).map((s) => s.firearm)).toEqual([0.6, 0.9, 0.6, 0.6]); // the last: none near, its own
    // diagonal neighbours count (both axes within the radius); a window just past it does not
    expect(neighbourScores([at(0, 0, 0), at(24, 24, 30), at(0, 24.5, 60)], [{ firearm: 0.1 }, { firearm: 0.8 }, { firearm: 0.5 }], card.labels, 24)
      .map((s) => s.firearm)).toEqual([0.8, 0.5, 0.8]);
    // fusion [a, b, d, c] = [1, 0, 1, 0]: logit(v) + logit(neighbours' best); an isolated 0.6 among low neighbours falls
    const nb = { ...card, verifies: { ...spec, neighbourRadius: 24, fusion: { firearm: [1, 0, 1, 0] } } } as unknown as ModelCard;
    expect(fusedScore(nb.verifies, 'firearm', 0.6, 0.5, 0.2)).toBeCloseTo(1 / (1 + (0.4 / 0.6) * (0.8 / 0.2)), 6);
    const out = confirmed(ws, sc, nb);
    // 0.9 with 0.6 beside it → 0.93; 0.6 with 0.9 → 0.93 (boxes touch: one); 0.2 with 0.6 → 0.27 < 0.3; the lone
    // 0.6 (its own score stands in) → 0.69
    expect(out.map((d) => [d.label, d.box, +d.score.toFixed(3)])).toEqual([['firearm', [0, 0, 20, 10], 0.931], ['firearm', [200, 0, 210, 10], 0.692]]);
  });

  it('joins windows on the same object into one box, and keeps apart what does not touch', () => {
    const out = confirmed([win(0), win(10), win(30)], [{ firearm: 0.6 }, { firearm: 0.7 }, { firearm: 0.4 }], card);
    expect(out).toEqual([{ label: 'firearm', score: 0.7, box: [0, 0, 20, 10] }, { label: 'firearm', score: 0.4, box: [30, 0, 40, 10] }]);
  });
});

describe('verify cards', () => {
  const base = {
    name: 'container-threat-verify', version: '1.0.0', sha256: 'a'.repeat(64), file: 'v.onnx', task: 'verify', modality: 'container-xray',
    input: { shape: ['batch', 1, 128, 128], channels: 'grey', normalisation: { mean: [0.5], std: [0.25] }, resize: 'stretch' },
    output: { name: 'logits', layout: 'multilabel-logits' }, labels: ['firearm'], thresholds: { firearm: 0.3 },
  };

  it('accepts a complete verifies block', () => {
    expect(validateCard({ ...base, verifies: spec }).verifies).toEqual(spec);
  });

  it('refuses a missing or bad verifies block, naming it', () => {
    expect(() => validateCard(base)).toThrow(/verifies/);
    expect(() => validateCard({ ...base, verifies: { ...spec, proposalThreshold: 1 } })).toThrow(/verifies/);
    expect(() => validateCard({ ...base, verifies: spec, output: { name: 'logits', layout: 'logits' } })).toThrow(/verify models: multilabel-logits/);
  });

  it('takes a neighbourRadius with four-term fusion only', () => {
    const f4 = { firearm: [1, 0.5, 0.3, -1] }, f3 = { firearm: [1, 0.5, -1] };
    expect(validateCard({ ...base, verifies: { ...spec, neighbourRadius: 34, fusion: f4 } }).verifies?.neighbourRadius).toBe(34);
    expect(() => validateCard({ ...base, verifies: { ...spec, neighbourRadius: 34, fusion: f3 } })).toThrow(/\[a, b, d, c\].*neighbourRadius/);
    expect(() => validateCard({ ...base, verifies: { ...spec, fusion: f4 } })).toThrow(/verifies.fusion \(label → \[a, b, c\]/);
    expect(() => validateCard({ ...base, verifies: { ...spec, neighbourRadius: -1, fusion: f4 } })).toThrow(/verifies.neighbourRadius/);
  });

  it('takes an optional positive denseStride', () => {
    expect(validateCard({ ...base, verifies: { ...spec, denseStride: 24 } }).verifies?.denseStride).toBe(24);
    expect(() => validateCard({ ...base, verifies: { ...spec, denseStride: 0 } })).toThrow(/verifies.denseStride/);
    expect(() => validateCard({ ...base, verifies: { ...spec, denseStride: '24' } })).toThrow(/verifies.denseStride/);
  });

  it('takes grey+material input on a verifier of two channels only', () => {
    const input = { ...base.input, shape: ['batch', 2, 128, 128], channels: 'grey+material', normalisation: { mean: [0.5, 0.4], std: [0.25, 0.25] } };
    expect(validateCard({ ...base, input, verifies: spec }).input.channels).toBe('grey+material');
    expect(() => validateCard({ ...base, input: { ...input, shape: ['batch', 1, 128, 128] }, verifies: spec })).toThrow(/input.shape\[1\]/);
    expect(() => validateCard({ ...base, task: 'classify', output: { name: 'logits', layout: 'multilabel-logits' }, input })).toThrow(/grey\+material: verify models only/);
    expect(() => validateCard({ ...base, input: { ...input, channels: 'material' }, verifies: spec })).toThrow(/input.channels \(grey, rgb, grey\+material or grey\+material\+deep\)/);
  });
});
