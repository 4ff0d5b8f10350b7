// The lattice form of a container threat verifier (card output layout `window-map`, models/training/fcn_verifier.py).
// A windowed verifier cuts each of a scan's ~340 sweep windows out of the rendering, resamples it to 128 × 128 and
// runs its layers on it: neighbouring windows overlap by half, so most pixels go through the layers four times. The
// lattice form resamples the whole scan once to the verifier's scale (a window of `verifies.window` grid-input pixels
// becomes input.shape's 128 px), lays it on an air canvas whose sides are whole cells, and runs the layers once; the
// model pools every 4 × 4 block of cells into one window's logits. A window (a grid proposal or a sweep window)
// takes the lattice window whose corner is nearest its own (at most half a cell away). The fusion with the grid and
// the neighbouring windows, the thresholds and the boxes are the windowed verifier's (verify.ts `confirmed`).
import type { Placement } from './letterbox.js';
import { sigmoid } from './yolo.js';
import type { ModelCard, Rendering } from './types.js';
import { boxResize, roundHalfEven, type Proposal } from './verify.js';

/** Air around the scan on the canvas, in cells (fcn_verifier.py's margin): a window centred on the scan's edge fits. */
export const MARGIN_CELLS = 2;

export interface LatticeCanvas {
  /** The normalised input, [1, channels, height, width]. */
  tensor: Float32Array;
  dims: [1, number, number, number];
  /** Where the resampled scan's top-left corner lies on the canvas. */
  ox: number;
  oy: number;
  /** Canvas pixels per rendering pixel. */
  scale: number;
}

/** The card's window side (input.shape[2]) and lattice step (output.stride). */
export function latticeGeometry(card: ModelCard): { size: number; stride: number; cells: number } {
  const size = card.input.shape[2];
  const stride = card.output.stride ?? 32;
  return { size, stride, cells: size / stride };
}

/**
 * Canvas pixels per rendering pixel: a window of `verifies.window` grid-input pixels becomes the card's window size
 * (fcn_verifier.py's scale_of). `gridScale`: grid-input pixels per rendering pixel.
 */
export function latticeScale(card: ModelCard, gridScale: number): number {
  if (!card.verifies) throw new Error(`${card.name} is not a verifier`);
  return (latticeGeometry(card).size * gridScale) / card.verifies.window;
}

/** A lattice card's input planes, in order, with the value of air in each: grey white, material 0 (air attenuates nothing), deep white. */
const PLANES: Record<string, ReadonlyArray<{ plane: 'grey' | 'material' | 'deep'; air: number }>> = {
  grey: [{ plane: 'grey', air: 255 }],
  'grey+material': [{ plane: 'grey', air: 255 }, { plane: 'material', air: 0 }],
  'grey+material+deep': [{ plane: 'grey', air: 255 }, { plane: 'material', air: 0 }, { plane: 'deep', air: 255 }],
};

/**
 * The scan's planes as the card lists them (grey; the material channel; the deep plane) resampled by `scale`
 * (Pillow BOX, as the training crops) and normalised onto an air canvas (each plane's air around it), its sides
 * whole cells with at least MARGIN_CELLS of air each way.
 */
export function latticeCanvas(card: ModelCard, grey: Rendering, material: Rendering | undefined, scale: number, deep?: Rendering): LatticeCanvas {
  const { stride } = latticeGeometry(card);
  const wanted = PLANES[card.input.channels];
  if (!wanted) throw new Error(`${card.name}: a lattice verifier cannot read ${card.input.channels} input`);
  const given = { grey, material, deep };
  const sources = wanted.map(({ plane, air }) => ({ r: given[plane], air, plane }));
  const missing = sources.filter(({ r }) => !r || r.channels !== 1 || r.width !== grey.width || r.height !== grey.height).map(({ plane }) => plane);
  if (missing.length) throw new Error(`${card.name} needs ${missing.join(' and ')} plane${missing.length > 1 ? 's' : ''} of one channel at the rendering's size`);
  const planes = sources.length;
  const w = Math.max(1, roundHalfEven(grey.width * scale)), h = Math.max(1, roundHalfEven(grey.height * scale));
  const margin = MARGIN_CELLS * stride;
  const W = Math.ceil((w + 2 * margin) / stride) * stride, H = Math.ceil((h + 2 * margin) / stride) * stride;
  const tensor = new Float32Array(planes * W * H);
  const { mean, std } = card.input.normalisation;
  sources.forEach(({ r, air }, c) => {
    if (!r) return; // checked above
    const m = mean[c] ?? mean[0] ?? 0, s = std[c] ?? std[0] ?? 1;
    const lut = new Float32Array(256);
    for (let v = 0; v < 256; v++) lut[v] = (v / 255 - m) / s;
    const resized = boxResize(r.data as Uint8Array, r.width, r.height, w, h);
    const plane = tensor.subarray(c * W * H, (c + 1) * W * H);
    plane.fill(lut[air] as number);
    for (let y = 0; y < h; y++) {
      const to = (y + margin) * W + margin, from = y * w;
      for (let x = 0; x < w; x++) plane[to + x] = lut[resized[from + x] as number] as number;
    }
  });
  return { tensor, dims: [1, planes, H, W], ox: margin, oy: margin, scale };
}

/**
 * Each window's lattice position (row, column of the window map, clipped to it): the lattice window whose
 * top-left corner is nearest the window's, the window centred on its proposal (grid-input pixels, `place`
 * mapping them to the rendering), as fcn_verifier.py's window_cells.
 */
export function latticeCells(ps: readonly Proposal[], place: Placement, c: LatticeCanvas, card: ModelCard, gh: number, gw: number): Array<[number, number]> {
  const { size, stride } = latticeGeometry(card);
  return ps.map((p) => {
    const x = ((p.cx - place.padX) / place.sx) * c.scale + c.ox, y = ((p.cy - place.padY) / place.sy) * c.scale + c.oy;
    const i = roundHalfEven((x - size / 2) / stride), j = roundHalfEven((y - size / 2) / stride);
    return [Math.min(Math.max(j, 0), gh - 1), Math.min(Math.max(i, 0), gw - 1)];
  });
}

/** The windows' scores per label from the model's window map [1, classes, gh, gw]. */
export function latticeScores(map: Float32Array, dims: readonly number[], cells: ReadonlyArray<[number, number]>, labels: readonly string[]): Array<Record<string, number>> {
  const [, classes, gh, gw] = dims as [number, number, number, number];
  if (classes !== labels.length) throw new Error(`window map has ${classes} classes, the card ${labels.length} labels`);
  return cells.map(([j, i]) => Object.fromEntries(labels.map((l, k) => [l, sigmoid(map[(k * gh + j) * gw + i] as number)])));
}
