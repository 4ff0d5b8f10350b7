// The lattice form of the container threat verifier (models/runtime/lattice.ts, card layout `window-map`): the
// whole scan resampled once onto an air canvas, each window read from the model's window map. Checked against
// what models/training/fcn_verifier.py computes (test/fixtures/models/lattice.json, written by
// models/training/lattice_fixture.py): the canvas byte for byte, each window's lattice cell, and the committed
// model's logits through ONNX Runtime.
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { latticeCanvas, latticeCells, latticeScores } from '../../models/runtime/lattice.js';
import { validateCard } from '../../models/runtime/registry.js';
import type { ModelCard, Rendering } from '../../models/runtime/types.js';
import { boxResize, type Proposal } from '../../models/runtime/verify.js';

interface Fixture {
  model: string;
  width: number;
  height: number;
  /** base64 bytes, row by row; no material for a grey verifier; deep for one that reads the deep plane */
  grey: string;
  material?: string;
  deep?: string;
  cases: Array<{
    place: { sx: number; sy: number; padX: number; padY: number };
    scale: number;
    /** The resampled scan's planes (scanWidth × scanHeight at ox, oy); the rest of the canvas is air. */
    canvas: { width: number; height: number; ox: number; oy: number; scanWidth: number; scanHeight: number; grey: string; material?: string; deep?: string };
    centres: Array<[number, number]>;
    cells: Array<[number, number]>;
    map: [number, number];
    logits: number[][];
  }>;
}

// the dual-energy verifier (grey + material) and the grey one (renderings only)
const FIXTURES = ['test/fixtures/models/lattice.json', 'test/fixtures/models/lattice-grey.json'];
const fixture = async (path: string): Promise<Fixture> => JSON.parse(await readFile(path, 'utf8')) as Fixture;
const cardOf = async (path: string): Promise<ModelCard> => validateCard(JSON.parse(await readFile(path.replace(/\.onnx$/, '.card.json'), 'utf8')));
const bytesOf = (b64: string): number[] => [...Buffer.from(b64, 'base64')];
const plane = (b64: string, width: number, height: number): Rendering => ({ width, height, channels: 1, data: new Uint8Array(Buffer.from(b64, 'base64')) });
const proposal = (cx: number, cy: number): Proposal => ({ cls: -1, score: 0, cx, cy, box: [cx, cy, cx, cy], around: [] });
const materialOf = (fx: Fixture): Rendering | undefined => (fx.material ? plane(fx.material, fx.width, fx.height) : undefined);
const deepOf = (fx: Fixture): Rendering | undefined => (fx.deep ? plane(fx.deep, fx.width, fx.height) : undefined);

describe.each(FIXTURES)('lattice verifier (%s)', (path) => {
  it('resamples the scan as Pillow BOX does, onto air whole cells wide, as fcn_verifier.py', async () => {
    const fx = await fixture(path);
    const card = await cardOf(fx.model);
    expect(card.output.layout).toBe('window-map');
    for (const c of fx.cases) {
      const canvas = latticeCanvas(card, plane(fx.grey, fx.width, fx.height), materialOf(fx), c.scale, deepOf(fx));
      const planes: Array<readonly [number, string, number]> = [[0, c.canvas.grey, 255], ...(c.canvas.material ? [[1, c.canvas.material, 0] as const] : []), ...(c.canvas.deep ? [[2, c.canvas.deep, 255] as const] : [])];
      expect(canvas.dims).toEqual([1, planes.length, c.canvas.height, c.canvas.width]);
      expect([canvas.ox, canvas.oy]).toEqual([c.canvas.ox, c.canvas.oy]);
      // the tensor back to bytes ((pixel / 255 − mean) / std per plane): the scan where Python put it, air around it
      const { mean, std } = card.input.normalisation;
      const { width: W, height: H, ox, oy, scanWidth: w, scanHeight: h } = c.canvas;
      for (const [k, b64, air] of planes) {
        const bytes = Array.from(canvas.tensor.subarray(k * W * H, (k + 1) * W * H), (v) => Math.round((v * std[k]! + mean[k]!) * 255) + 0); // + 0: no −0
        const want = Array.from({ length: W * H }, () => air as number);
        const scan = bytesOf(b64);
        for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) want[(y + oy) * W + x + ox] = scan[y * w + x]!;
        expect(bytes).toEqual(want);
      }
    }
  });

  it('gives each window the lattice cell nearest its corner, clipped to the map', async () => {
    const fx = await fixture(path);
    const card = await cardOf(fx.model);
    for (const c of fx.cases) {
      const canvas = latticeCanvas(card, plane(fx.grey, fx.width, fx.height), materialOf(fx), c.scale, deepOf(fx));
      const place = { ...c.place, newW: 0, newH: 0 };
      expect(latticeCells(c.centres.map(([x, y]) => proposal(x, y)), place, canvas, card, c.map[0], c.map[1])).toEqual(c.cells);
    }
  });

  it('scores the windows as training measured them (the committed model through ONNX Runtime)', async () => {
    const fx = await fixture(path);
    const card = await cardOf(fx.model);
    const session = await ort.InferenceSession.create(fx.model, { intraOpNumThreads: 1 });
    try {
      for (const c of fx.cases) {
        const canvas = latticeCanvas(card, plane(fx.grey, fx.width, fx.height), materialOf(fx), c.scale, deepOf(fx));
        const out = (await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', canvas.tensor, canvas.dims) }))[card.output.name]!;
        expect(out.dims).toEqual([1, card.labels.length, ...c.map]);
        const scores = latticeScores(out.data as Float32Array, out.dims, c.cells, card.labels);
        c.logits.forEach((row, i) => row.forEach((z, k) => expect(scores[i]![card.labels[k]!]).toBeCloseTo(1 / (1 + Math.exp(-z)), 4)));
      }
    } finally {
      await session.release();
    }
  });
});

describe('lattice verifier', () => {
  it('boxResize: nearest when enlarging, the mean of the covered pixels when shrinking, a copy at the same size', () => {
    const src = Uint8Array.from([0, 100, 200, 50]);
    expect([...boxResize(src, 4, 1, 8, 1)]).toEqual([0, 0, 100, 100, 200, 200, 50, 50]);
    expect([...boxResize(src, 4, 1, 2, 1)]).toEqual([50, 125]);
    // rows first into 8 bits (50 and 125, as Pillow), then columns: 87.5, rounded half up
    expect([...boxResize(src, 2, 2, 1, 1)]).toEqual([88]);
    const same = boxResize(src, 4, 1, 4, 1);
    expect([...same]).toEqual([...src]);
    expect(same).not.toBe(src);
    expect(() => boxResize(src, 3, 1, 2, 1)).toThrow(/4 bytes for 3×1/);
  });

  it('cards: window-map on verify models only, with a stride dividing the square window', () => {
    const base = {
      name: 'container-threat-verify-de', version: '2.0.0', sha256: 'a'.repeat(64), file: 'v.onnx', task: 'verify', modality: 'container-xray',
      input: { shape: ['batch', 2, 128, 128], channels: 'grey+material', normalisation: { mean: [0.5, 0.4], std: [0.25, 0.25] }, resize: 'stretch' },
      output: { name: 'logits', layout: 'window-map', stride: 32 }, labels: ['firearm'], thresholds: { firearm: 0.3 },
      verifies: { model: 'container-threat-grid', proposalThreshold: 0.05, maxProposals: 48, window: 48, minWindowPixels: 72 },
    };
    expect(validateCard(base).output.layout).toBe('window-map');
    expect(() => validateCard({ ...base, output: { name: 'logits', layout: 'window-map' } })).toThrow(/output.stride \(window-map/);
    expect(() => validateCard({ ...base, output: { name: 'logits', layout: 'window-map', stride: 48 } })).toThrow(/output.stride \(window-map/);
    expect(() => validateCard({ ...base, task: 'classify', input: { ...base.input, channels: 'grey', shape: ['batch', 1, 128, 128] } })).toThrow(/window-map: verify models only/);
  });

  it('cards: a deep plane as the third plane of a lattice verifier only', () => {
    const input = { shape: ['batch', 3, 128, 128], channels: 'grey+material+deep', normalisation: { mean: [0.5, 0.4, 0.7], std: [0.25, 0.25, 0.3] }, resize: 'stretch' };
    const card = {
      name: 'container-threat-verify-de', version: '3.0.0', sha256: 'a'.repeat(64), file: 'v.onnx', task: 'verify', modality: 'container-xray', input,
      output: { name: 'logits', layout: 'window-map', stride: 32 }, labels: ['firearm'], thresholds: { firearm: 0.3 },
      verifies: { model: 'container-threat-grid', proposalThreshold: 0.05, maxProposals: 48, window: 48, minWindowPixels: 72 },
    };
    expect(validateCard(card).input.channels).toBe('grey+material+deep');
    expect(() => validateCard({ ...card, input: { ...input, shape: ['batch', 2, 128, 128] } })).toThrow(/input.shape\[1\]/);
    // the windowed form samples two planes at most
    expect(() => validateCard({ ...card, output: { name: 'logits', layout: 'logits' } })).toThrow(/grey\+material\+deep: verify models of layout window-map only/);
  });

  it('lays the deep plane third, white around the scan as the grey, and refuses a scan without it', () => {
    const card = validateCard({
      name: 'v', version: '3.0.0', sha256: 'a'.repeat(64), file: 'v.onnx', task: 'verify', modality: 'container-xray',
      input: { shape: ['batch', 3, 128, 128], channels: 'grey+material+deep', normalisation: { mean: [0, 0, 0], std: [1, 1, 1] }, resize: 'stretch' },
      output: { name: 'logits', layout: 'window-map', stride: 32 }, labels: ['firearm'], thresholds: { firearm: 0.3 },
      verifies: { model: 'g', proposalThreshold: 0.05, maxProposals: 48, window: 48, minWindowPixels: 72 },
    });
    const flat = (v: number, w = 10, h = 6): Rendering => ({ width: w, height: h, channels: 1, data: new Uint8Array(w * h).fill(v) });
    // at scale 1 the 10 × 6 scan sits at (64, 64) on a 160 × 160 canvas (two cells of air each way, whole cells)
    const c = latticeCanvas(card, flat(10), flat(20), 1, flat(30));
    expect(c.dims).toEqual([1, 3, 160, 160]);
    const at = (k: number, x: number, y: number): number => Math.round(c.tensor[k * 160 * 160 + y * 160 + x]! * 255);
    expect([at(0, 0, 0), at(1, 0, 0), at(2, 0, 0)]).toEqual([255, 0, 255]);
    expect([at(0, 64, 64), at(1, 64, 64), at(2, 64, 64)]).toEqual([10, 20, 30]);
    expect(() => latticeCanvas(card, flat(10), flat(20), 1)).toThrow(/needs deep plane/);
    expect(() => latticeCanvas(card, flat(10), flat(20), 1, flat(30, 9, 6))).toThrow(/needs deep plane/);
  });
});
