// Second-stage verification (models/runtime/verify.ts): which grid cells become proposals, where their
// windows fall in the rendering, how windows are cropped, what the verifier's scores confirm, and that the
// registry refuses a verify card without a valid `verifies` block.
import { describe, expect, it } from 'vitest';
import { placement } from '../../models/runtime/letterbox.js';
import { validateCard } from '../../models/runtime/registry.js';
import type { ModelCard } from '../../models/runtime/types.js';
import { confirmed, cropWindow, denseProposals, fusedScore, gridProposals, proposalWindows, type VerifySpec } from '../../models/runtime/verify.js';

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

  it('maps a proposal to a square rendering window of `window` input pixels, its box clipped to it', () => {
    // input pixels per rendering pixel 0.25 (a 3072-wide rendering into 768), padded 8 px on top
    const [w] = proposalWindows([proposal], spec, placement(3072, 960, 768, 256, 'letterbox'), 3072, 960)!;
    expect(w!.side).toBe(192);
    expect([w!.x, w!.y]).toEqual([160 - 96, 64 - 96]);
    expect(w!.box).toEqual([128, 32, 256, 96]);
  });

  it('declines when the window would be coarser than minWindowPixels (a low-resolution rendering)', () => {
    expect(proposalWindows([proposal], spec, placement(768, 256, 768, 256, 'letterbox'), 768, 256)).toBeNull();
  });

  it('crops with air (255) outside the rendering', () => {
    const r = { width: 4, height: 3, channels: 1 as const, data: Uint8Array.from({ length: 12 }, (_, i) => i) };
    const c = cropWindow(r, -1, 1, 3);
    expect([c.width, c.height]).toEqual([3, 3]);
    expect(Array.from(c.data)).toEqual([255, 4, 5, 255, 8, 9, 255, 255, 255]);
  });

  it('with a material channel, interleaves grey and material, the material 0 outside the rendering', () => {
    const r = { width: 4, height: 3, channels: 1 as const, data: Uint8Array.from({ length: 12 }, (_, i) => i) };
    const m = { width: 4, height: 3, channels: 1 as const, data: Uint8Array.from({ length: 12 }, (_, i) => 100 + i) };
    const c = cropWindow(r, -1, 1, 3, m);
    expect([c.width, c.height, c.channels]).toEqual([3, 3, 2]);
    expect(Array.from(c.data)).toEqual([255, 0, 4, 104, 5, 105, 255, 0, 8, 108, 9, 109, 255, 0, 255, 0, 255, 0]);
    expect(() => cropWindow(r, 0, 0, 3, { ...m, width: 3, data: m.data.subarray(0, 9) })).toThrow(/does not match/);
  });

  it('into a reused buffer, writes every byte of the window (nothing left from the window before)', () => {
    const r = { width: 4, height: 3, channels: 1 as const, data: Uint8Array.from({ length: 12 }, (_, i) => i) };
    const m = { width: 4, height: 3, channels: 1 as const, data: Uint8Array.from({ length: 12 }, (_, i) => 100 + i) };
    const buf = new Uint8Array(40).fill(77);
    for (const [x, y] of [[-1, 1], [2, -2], [1, 0], [9, 9]] as const) {
      expect(Array.from(cropWindow(r, x, y, 3, m, 255, buf).data)).toEqual(Array.from(cropWindow(r, x, y, 3, m).data));
      expect(Array.from(cropWindow(r, x, y, 3, undefined, 255, buf).data)).toEqual(Array.from(cropWindow(r, x, y, 3).data));
    }
    expect(() => cropWindow(r, 0, 0, 5, m, 255, buf)).toThrow(/buffer of 40 bytes for a 50-byte window/);
  });
});

describe('confirmation', () => {
  const card = { name: 'v', labels: ['firearm', 'knife'], thresholds: { firearm: 0.3, knife: 0.5 } } as unknown as ModelCard;
  const win = (x: number) => ({ proposal: { cls: 1, score: 0.1, cx: 0, cy: 0, box: [0, 0, 1, 1] as [number, number, number, number], around: [0.2, 0.1] }, x, y: 0, side: 10, box: [x, 0, x + 10, 10] as [number, number, number, number] });

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
    expect(() => validateCard({ ...base, input: { ...input, channels: 'material' }, verifies: spec })).toThrow(/input.channels \(grey, rgb or grey\+material\)/);
  });
});
