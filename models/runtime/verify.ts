// Second-stage verification of a grid detector (card task `verify`, models/training/train_verifier.py).
// The grid detector sees a 40 ft container at ~16 mm per pixel; the verifier looks again at each place the
// grid proposes (a per-class local maximum of its cells at or over `proposalThreshold`), in a square window of
// the full-resolution rendering, and scores every threat class there. A detection is what the verifier
// confirms at its own thresholds, boxed by the grid's cells around the proposal. When the rendering is too
// coarse for the verifier (its window would be under `minWindowPixels`), the grid's own detections stand.
import type { RawDetection } from './yolo.js';
import { sigmoid } from './yolo.js';
import type { ModelCard, Rendering } from './types.js';
import { emissionThreshold } from './registry.js';
import { unplaceBox, type Placement } from './letterbox.js';

/**
 * A grid cell worth a second look: class, score, centre and the box of its neighbourhood, in input pixels. A
 * window of the dense sweep (`denseStride`) has class -1, score 0 and the window's central half as its box.
 */
export interface Proposal {
  cls: number;
  score: number;
  cx: number;
  cy: number;
  box: [number, number, number, number];
  /** The grid's probability of every class around the proposal (its cell and the 8 neighbours), for fusion. */
  around: number[];
}

export interface VerifySpec {
  model: string;
  proposalThreshold: number;
  maxProposals: number;
  /** Window side in the grid model's input pixels. */
  window: number;
  /** Below this many rendering pixels a side, the window is too coarse to verify. */
  minWindowPixels: number;
  /**
   * When set, a window is also scored every `denseStride` input pixels over the whole scan besides the grid's
   * proposals (at most half the window, every point lies in some window's central half): no threat then
   * depends on the grid proposing it.
   */
  denseStride?: number;
  /**
   * When set, the fusion also weighs the best verifier score of the label among the other windows whose centres
   * lie within this many input pixels (each axis) of the window's own: a threat is seen by the windows around
   * it, a speck that fools one window seldom fools its neighbours, which see it off-centre.
   */
  neighbourRadius?: number;
  /**
   * Per label [a, b, c], or [a, b, d, c] with `neighbourRadius`: the confirmed score is
   * sigmoid(a·logit(verifier) + b·logit(grid around) + d·logit(neighbours' best) + c), fitted on held-out
   * windows; absent, the verifier's own score.
   */
  fusion?: Record<string, number[]>;
}

/** The card's `verifies` block, checked (the registry refuses a verify card without a valid one). */
export function verifySpec(card: ModelCard): VerifySpec | undefined {
  return card.task === 'verify' ? card.verifies : undefined;
}

/**
 * Per class, the cells at or over `threshold` that no 8-neighbour exceeds (ties all count), strongest first,
 * one per cell (the verifier scores every class in a window), at most `max`; each with the box of the
 * connected cells of its class around it scoring at least half its score.
 */
export function gridProposals(data: Float32Array, dims: readonly number[], n: number, threshold: number, max: number, stride: number): Proposal[] {
  const [, classes, gh, gw] = dims as [number, number, number, number];
  const cells = gh * gw;
  const logitThr = Math.log(threshold / (1 - threshold));
  const found: Array<{ cls: number; k: number; v: number }> = [];
  for (let c = 0; c < classes; c++) {
    const base = (n * classes + c) * cells;
    for (let k = 0; k < cells; k++) {
      const v = data[base + k] as number;
      if (v < logitThr) continue;
      const gy = Math.floor(k / gw), gx = k - gy * gw;
      let peak = true;
      for (let dy = -1; dy <= 1 && peak; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const ny = gy + dy, nx = gx + dx;
          if ((dx || dy) && ny >= 0 && ny < gh && nx >= 0 && nx < gw && (data[base + ny * gw + nx] as number) > v) { peak = false; break; }
        }
      }
      if (peak) found.push({ cls: c, k, v });
    }
  }
  found.sort((a, b) => b.v - a.v);
  const cellsTaken = new Set<number>();
  const kept = [];
  for (const f of found) {
    if (kept.length === max) break;
    if (cellsTaken.has(f.k)) continue;
    cellsTaken.add(f.k);
    kept.push(f);
  }
  return kept.map(({ cls, k, v }) => {
    const gy = Math.floor(k / gw), gx = k - gy * gw;
    const [x0, y0, x1, y1] = peakRegion(data, (n * classes + cls) * cells, gw, gh, gx, gy, v);
    return { cls, score: sigmoid(v), cx: (gx + 0.5) * stride, cy: (gy + 0.5) * stride, box: [x0 * stride, y0 * stride, (x1 + 1) * stride, (y1 + 1) * stride], around: gridAround(data, dims, n, gx, gy) };
  });
}

/**
 * The dense sweep's windows over the scan placed in the grid's input (`place`: where the shared rendering
 * landed), as train_verifier.py's dense_centres: centres every `stride` input pixels, the grid of centres
 * centred on the scan; each carries the grid's probability of every class around its centre, for fusion.
 */
export function denseProposals(data: Float32Array, dims: readonly number[], n: number, place: Placement, window: number, stride: number, gridStride: number): Proposal[] {
  const x0 = place.padX, y0 = place.padY, w = place.newW, h = place.newH;
  const nx = Math.max(1, Math.ceil(w / stride)), ny = Math.max(1, Math.ceil(h / stride));
  const ox = x0 + (w - (nx - 1) * stride) / 2, oy = y0 + (h - (ny - 1) * stride) / 2;
  const q = window / 4;
  const out: Proposal[] = [];
  for (let k = 0; k < ny; k++) {
    for (let i = 0; i < nx; i++) {
      const cx = ox + i * stride, cy = oy + k * stride;
      const around = gridAround(data, dims, n, Math.floor(cx / gridStride), Math.floor(cy / gridStride));
      out.push({ cls: -1, score: 0, cx, cy, box: [cx - q, cy - q, cx + q, cy + q], around });
    }
  }
  return out;
}

/** The grid's probability of every class around cell (gx, gy): the max over it and its 8 neighbours (0 off the grid). */
function gridAround(data: Float32Array, dims: readonly number[], n: number, gx: number, gy: number): number[] {
  const [, classes, gh, gw] = dims as [number, number, number, number];
  const cells = gh * gw;
  const around: number[] = [];
  for (let c = 0; c < classes; c++) {
    let best = -Infinity;
    for (let y = Math.max(0, gy - 1); y <= Math.min(gh - 1, gy + 1); y++) {
      for (let x = Math.max(0, gx - 1); x <= Math.min(gw - 1, gx + 1); x++) best = Math.max(best, data[(n * classes + c) * cells + y * gw + x] as number);
    }
    around.push(best === -Infinity ? 0 : sigmoid(best));
  }
  return around;
}

/** Cell bounds of the 8-connected cells around (gx, gy) whose probability is at least half the peak's. */
function peakRegion(data: Float32Array, base: number, gw: number, gh: number, gx: number, gy: number, peakLogit: number): [number, number, number, number] {
  const p = sigmoid(peakLogit) / 2;
  const thr = Math.log(p / (1 - p));
  let x0 = gx, y0 = gy, x1 = gx, y1 = gy;
  const seen = new Set<number>([gy * gw + gx]);
  const stack = [gy * gw + gx];
  while (stack.length) {
    const k = stack.pop() as number;
    const y = Math.floor(k / gw), x = k - y * gw;
    x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const ny = y + dy, nx = x + dx, nk = ny * gw + nx;
        if (ny < 0 || ny >= gh || nx < 0 || nx >= gw || seen.has(nk) || (data[base + nk] as number) < thr) continue;
        seen.add(nk);
        stack.push(nk);
      }
    }
  }
  return [x0, y0, x1, y1];
}

/** Throws unless `material` (or another plane: `what`) is one channel of the grey rendering's size (the runtime checks before any model runs). */
export function checkMaterial(grey: Rendering, material: Rendering, what = 'material channel'): void {
  if (material.width !== grey.width || material.height !== grey.height || material.channels !== 1 || grey.channels !== 1) {
    throw new Error(`${what} ${material.width}×${material.height}×${material.channels} does not match the grey rendering ${grey.width}×${grey.height}×${grey.channels}`);
  }
}

/** Python's round(): halves to the even neighbour (train_verifier.py places its windows with it). */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Fixed-point precision of Pillow's 8-bit resampling (Resample.c: PRECISION_BITS = 32 - 8 - 2). */
const PRECISION = 2 ** 22;

/**
 * Per output sample of one axis (n source samples → size), Pillow's BOX-filter taps: the source samples whose
 * centres fall in the output sample's footprint, each weighted round(2^22 / count). Up-sampling (n ≤ size) gives
 * one tap, floor((j + 0.5)·n / size): nearest, never a blend.
 */
function boxTaps(n: number, size: number): Taps {
  const key = n * 65536 + size;
  const known = tapCache.get(key);
  if (known) return known;
  const scale = n / size, support = 0.5 * Math.max(scale, 1);
  const start = new Int32Array(size + 1), idx: number[] = [], kk: number[] = [];
  for (let j = 0; j < size; j++) {
    start[j] = idx.length;
    const centre = (j + 0.5) * scale;
    const lo = Math.max(0, Math.trunc(centre - support + 0.5)), hi = Math.min(n, Math.trunc(centre + support + 0.5));
    const taps: number[] = [];
    for (let x = lo; x < hi; x++) {
      const t = (x - centre + 0.5) / Math.max(scale, 1);
      if (t > -0.5 && t <= 0.5) taps.push(x);
    }
    for (const x of taps) { idx.push(x); kk.push(Math.trunc(0.5 + PRECISION / taps.length)); }
  }
  start[size] = idx.length;
  // one or two taps per output sample (down-sampling by less than 2, as a 40 ft container's 133 → 128): Pillow's
  // fixed point then gives the tap itself, or (a + b + 1) >> 1 for two (weights 2^21 each), in integers
  let pairs = true;
  const first = new Int32Array(size), second = new Int32Array(size);
  for (let j = 0; j < size; j++) {
    const c = (start[j + 1] as number) - (start[j] as number);
    if (c < 1 || c > 2) pairs = false;
    first[j] = idx[start[j] as number] as number;
    second[j] = c === 2 ? (idx[(start[j] as number) + 1] as number) : -1;
  }
  const axis: Taps = { start, idx: Int32Array.from(idx), kk: Float64Array.from(kk), ...(pairs && { first, second }) };
  // a scan's windows share one or two sides (132 or 133 px, say): their taps are worked out once
  if (tapCache.size > 64) tapCache.clear();
  tapCache.set(key, axis);
  return axis;
}
/**
 * One axis's taps: output sample j reads source samples idx[start[j] .. start[j + 1]) with weights kk; when every
 * output reads one or two, `first` / `second` (-1: none) give them directly.
 */
interface Taps { start: Int32Array; idx: Int32Array; kk: Float64Array; first?: Int32Array; second?: Int32Array }
const tapCache = new Map<number, Taps>();
/** sampleWindow's intermediate rows and source line, kept between calls (it is synchronous). */
let midRows = new Uint8Array(0);
let line = new Uint8Array(0);

/** A fixed-point sum as Pillow writes it: (sum + 2^21) >> 22, clipped to a byte. */
const fixedByte = (sum: number): number => Math.min(255, ((sum + PRECISION / 2) / PRECISION) | 0); // sum ≥ 0, < 2^31

/**
 * The verifier's input from window [x0, x1) × [y0, y1) of the rendering: cropped (air, 255, outside the image)
 * and resampled to size × size exactly as train_verifier.py makes its training and held-out windows (PIL's
 * crop, then resize with Image.BOX: rows first into 8-bit, then columns; nearest when up-sampling, the mean of
 * the covered pixels when down-sampling). A bilinear resample blurs a 2-pixel knife blade that training never
 * saw blurred. With `material` (the container material channel, same size) two interleaved channels, grey and
 * material, the material 0 outside the image (air attenuates nothing). With `into` the result is written there
 * (the runtime reuses one buffer for a dense sweep's hundreds of windows, each consumed before the next).
 */
export function sampleWindow(r: Rendering, x0: number, y0: number, x1: number, y1: number, size: number, material?: Rendering, air = 255, into?: Uint8Array): Rendering {
  if (material) checkMaterial(r, material);
  const ch = material ? 2 : r.channels;
  const n = size * size * ch;
  if (into && into.length < n) throw new Error(`sampleWindow: buffer of ${into.length} bytes for a ${n}-byte window`);
  const out = into ? into.subarray(0, n) : new Uint8Array(n);
  const w = x1 - x0, h = y1 - y0;
  if (w < 1 || h < 1) throw new Error(`sampleWindow: empty window ${w}×${h}`);
  const pad = material ? [air, 0] : Array.from({ length: ch }, () => air);
  const W = r.width, H = r.height;
  const tx = boxTaps(w, size), ty = boxTaps(h, size);
  if (w <= size && h <= size) {
    // up-sampling both ways: one tap each, a gather (a 20 ft container's windows, or a coarser rendering)
    const xs = new Int32Array(size);
    for (let j = 0; j < size; j++) {
      const X = x0 + (tx.idx[j] as number);
      xs[j] = X < 0 || X >= W ? -1 : X;
    }
    const g = r.data, mm = material?.data;
    for (let i = 0; i < size; i++) {
      const Y = y0 + (ty.idx[i] as number), o = i * size * ch;
      if (Y < 0 || Y >= H) {
        for (let j = 0; j < size * ch; j++) out[o + j] = pad[j % ch] as number;
        continue;
      }
      const row = Y * W;
      if (mm) {
        for (let j = 0; j < size; j++) {
          const X = xs[j] as number;
          out[o + 2 * j] = X < 0 ? air : (g[row + X] as number);
          out[o + 2 * j + 1] = X < 0 ? 0 : (mm[row + X] as number);
        }
      } else if (ch === 1) {
        for (let j = 0; j < size; j++) {
          const X = xs[j] as number;
          out[o + j] = X < 0 ? air : (g[row + X] as number);
        }
      } else {
        for (let j = 0; j < size; j++) {
          const X = xs[j] as number;
          for (let c = 0; c < ch; c++) out[o + j * ch + c] = X < 0 ? air : (g[(row + X) * ch + c] as number);
        }
      }
    }
    return { width: size, height: size, channels: ch, data: out };
  }
  // rows first, into 8-bit (Pillow's intermediate image), then columns (a 40 ft container's ~133 px windows take
  // this path, down to 128). The common case, grey + material inside the image across with one or two source
  // samples per output, reads its rows in place (pairRowsGreyMaterial); otherwise each source row of the window is
  // first copied, air outside, into one interleaved line, so the taps read plain indices.
  const n2 = h * size * ch;
  if (midRows.length < n2) midRows = new Uint8Array(n2);
  const mid = midRows;
  if (material && tx.first && tx.second && x0 >= 0 && x1 <= W) {
    pairRowsGreyMaterial(r.data, material.data, W, H, x0, y0, h, size, tx.first, tx.second, air, mid);
  } else {
    if (line.length < w * ch) line = new Uint8Array(w * ch);
    const ln = line, g = r.data, mm = material?.data;
    const txs = tx.start, txi = tx.idx, txk = tx.kk;
    for (let sy = 0; sy < h; sy++) {
      const Y = y0 + sy, inside = Y >= 0 && Y < H, row = Y * W;
      for (let sx = 0; sx < w; sx++) {
        const X = x0 + sx, o = sx * ch;
        if (!inside || X < 0 || X >= W) {
          for (let c = 0; c < ch; c++) ln[o + c] = pad[c] as number;
        } else if (mm) {
          ln[o] = g[row + X] as number;
          ln[o + 1] = mm[row + X] as number;
        } else {
          for (let c = 0; c < ch; c++) ln[o + c] = g[(row + X) * ch + c] as number;
        }
      }
      const base = sy * size * ch;
      if (ch === 2) {
        for (let j = 0; j < size; j++) {
          let s0 = 0, s1 = 0;
          for (let k = txs[j] as number, k1 = txs[j + 1] as number; k < k1; k++) {
            const at = (txi[k] as number) * 2, wk = txk[k] as number;
            s0 += (ln[at] as number) * wk;
            s1 += (ln[at + 1] as number) * wk;
          }
          mid[base + 2 * j] = fixedByte(s0);
          mid[base + 2 * j + 1] = fixedByte(s1);
        }
      } else {
        for (let j = 0; j < size; j++) {
          const k0 = txs[j] as number, k1 = txs[j + 1] as number;
          for (let c = 0; c < ch; c++) {
            let sum = 0;
            for (let k = k0; k < k1; k++) sum += (ln[(txi[k] as number) * ch + c] as number) * (txk[k] as number);
            mid[base + j * ch + c] = fixedByte(sum);
          }
        }
      }
    }
  }
  const rowLen = size * ch;
  for (let i = 0; i < size; i++) {
    const k0 = ty.start[i] as number, k1 = ty.start[i + 1] as number, o = i * rowLen;
    if (k1 - k0 === 1) {
      // one source row at full weight: Pillow's fixed point gives it back unchanged
      const from = (ty.idx[k0] as number) * rowLen;
      out.set(mid.subarray(from, from + rowLen), o);
      continue;
    }
    for (let j = 0; j < rowLen; j++) {
      let sum = 0;
      for (let k = k0; k < k1; k++) sum += (mid[(ty.idx[k] as number) * rowLen + j] as number) * (ty.kk[k] as number);
      out[o + j] = fixedByte(sum);
    }
  }
  return { width: size, height: size, channels: ch, data: out };
}

/**
 * sampleWindow's horizontal pass in its common case, byte for byte the same: grey + material, the window inside
 * the image across (rows above or below it are air), one or two taps per output sample. Source pixels are read in
 * place (no interleaved line first) and each sample is its tap or the rounded mean of its two, which is what
 * Pillow's fixed point gives for weights of 2^22 or 2^21 each.
 */
function pairRowsGreyMaterial(
  g: Uint8Array, mm: Uint8Array, W: number, H: number, x0: number, y0: number, h: number, size: number,
  ax: Int32Array, bx: Int32Array, air: number, mid: Uint8Array,
): void {
  const rowLen = size * 2;
  for (let sy = 0; sy < h; sy++) {
    const Y = y0 + sy, base = sy * rowLen;
    if (Y < 0 || Y >= H) {
      for (let j = 0; j < rowLen; j += 2) {
        mid[base + j] = air;
        mid[base + j + 1] = 0;
      }
      continue;
    }
    const row = Y * W + x0;
    for (let j = 0; j < size; j++) {
      const a = row + (ax[j] as number), b = bx[j] as number;
      if (b < 0) {
        mid[base + 2 * j] = g[a] as number;
        mid[base + 2 * j + 1] = mm[a] as number;
      } else {
        const c = row + b;
        mid[base + 2 * j] = ((g[a] as number) + (g[c] as number) + 1) >> 1;
        mid[base + 2 * j + 1] = ((mm[a] as number) + (mm[c] as number) + 1) >> 1;
      }
    }
  }
}

export interface VerifiedWindow {
  proposal: Proposal;
  /** The window in rendering pixels, [x0, x1) × [y0, y1) (a side may be one pixel longer than the other). */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** The proposal's box in rendering pixels, clipped to the window. */
  box: [number, number, number, number];
}

/**
 * Rendering windows for the proposals, or null when they would be too coarse for the verifier. `place` maps
 * the grid's input onto the rendering (its sx, sy: input pixels per rendering pixel).
 */
export function proposalWindows(ps: readonly Proposal[], spec: VerifySpec, place: Placement, width: number, height: number): VerifiedWindow[] | null {
  const side = Math.round(spec.window / place.sx);
  if (side < spec.minWindowPixels) return null;
  // placed as train_verifier.py's window_box and crop place them: centred on the proposal (a cell in the padding
  // gives a window of air), half a window (in the grid input's x scale) each way, edges rounded half to even
  const half = spec.window / place.sx / 2;
  return ps.map((p) => {
    const cx = (p.cx - place.padX) / place.sx, cy = (p.cy - place.padY) / place.sy;
    const x0 = roundHalfEven(cx - half), x1 = roundHalfEven(cx + half), y0 = roundHalfEven(cy - half), y1 = roundHalfEven(cy + half);
    const [bx0, by0, bx1, by1] = unplaceBox(p.box, place, width, height);
    return { proposal: p, x0, y0, x1, y1, box: [Math.max(x0, bx0), Math.max(y0, by0), Math.min(x1, bx1), Math.min(y1, by1)] };
  });
}

const logit = (p: number): number => {
  const q = Math.min(1 - 1e-6, Math.max(1e-6, p));
  return Math.log(q / (1 - q));
};

/**
 * The confirmed score of a label in a window: the verifier's, or its fusion with the grid's around it (and with
 * the neighbouring windows' best, `neighbour`, when the fusion has four terms).
 */
export function fusedScore(spec: VerifySpec | undefined, label: string, verifier: number, gridAround: number, neighbour = verifier): number {
  const f = spec?.fusion?.[label];
  if (!f) return verifier;
  const z = (f[0] as number) * logit(verifier) + (f[1] as number) * logit(gridAround) + (f[f.length - 1] as number);
  return sigmoid(f.length === 4 ? z + (f[2] as number) * logit(neighbour) : z);
}

/**
 * Per window and label, the best verifier score of that label among the other windows whose centres lie within
 * `radius` input pixels of its own on both axes; the window's own score when none does (train_verifier.py's
 * neighbour_scores). Windows sorted by centre x, so each looks only at the run within `radius` of it.
 */
export function neighbourScores(windows: readonly VerifiedWindow[], scores: ReadonlyArray<Record<string, number>>, labels: readonly string[], radius: number): Array<Record<string, number>> {
  const r = radius + 1e-6;
  const order = windows.map((_, i) => i).sort((a, b) => (windows[a] as VerifiedWindow).proposal.cx - (windows[b] as VerifiedWindow).proposal.cx);
  const out: Array<Record<string, number>> = scores.map((s) => ({ ...s }));
  let lo = 0;
  for (let oi = 0; oi < order.length; oi++) {
    const i = order[oi] as number;
    const pi = (windows[i] as VerifiedWindow).proposal;
    while (pi.cx - (windows[order[lo] as number] as VerifiedWindow).proposal.cx > r) lo++;
    const best: Record<string, number> = {};
    for (let oj = lo; oj < order.length; oj++) {
      const j = order[oj] as number;
      const pj = (windows[j] as VerifiedWindow).proposal;
      if (pj.cx - pi.cx > r) break;
      if (j === i || Math.abs(pj.cy - pi.cy) > r) continue;
      const sj = scores[j] ?? {};
      for (const l of labels) {
        const v = sj[l];
        if (v !== undefined && v > (best[l] ?? -Infinity)) best[l] = v;
      }
    }
    Object.assign(out[i] as Record<string, number>, best);
  }
  return out;
}

/**
 * Detections the verifier confirms: per window, every class whose confirmed score (fusedScore) reaches the
 * verifier card's threshold, whatever class the grid proposed there. Neighbouring windows see the same object
 * (a false wall spans many cells): boxes of a label that overlap or touch are joined into one, with the best
 * score, so a reviewer gets one box per object.
 */
export function confirmed(windows: readonly VerifiedWindow[], scores: ReadonlyArray<Record<string, number>>, card: ModelCard): Array<{ label: string; score: number; box: [number, number, number, number] }> {
  const raw: RawDetection[] = [];
  const radius = card.verifies?.neighbourRadius;
  const near = radius ? neighbourScores(windows, scores, card.labels, radius) : scores;
  windows.forEach((w, i) => {
    const s = scores[i] ?? {};
    card.labels.forEach((label, cls) => {
      const v = s[label];
      if (v === undefined) return;
      const score = fusedScore(card.verifies, label, v, w.proposal.around[cls] ?? 0, near[i]?.[label] ?? v);
      if (score >= emissionThreshold(card, label)) raw.push({ cls, score, box: w.box });
    });
  });
  return joinTouching(raw).slice(0, card.nms?.maxDetections ?? 100).map((d) => ({ label: card.labels[d.cls] as string, score: d.score, box: d.box as [number, number, number, number] }));
}

/** Joins same-class detections whose boxes overlap or touch (until none do); strongest first. */
export function joinTouching(dets: readonly RawDetection[]): RawDetection[] {
  let groups = dets.map((d) => ({ ...d, box: [...d.box] as RawDetection['box'] }));
  const touch = (a: RawDetection['box'], b: RawDetection['box']): boolean => a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3];
  for (let changed = true; changed;) {
    changed = false;
    const next: typeof groups = [];
    for (const d of groups) {
      const into = next.find((g) => g.cls === d.cls && touch(g.box, d.box));
      if (!into) { next.push(d); continue; }
      into.box = [Math.min(into.box[0], d.box[0]), Math.min(into.box[1], d.box[1]), Math.max(into.box[2], d.box[2]), Math.max(into.box[3], d.box[3])];
      into.score = Math.max(into.score, d.score);
      changed = true;
    }
    groups = next;
  }
  return groups.sort((a, b) => b.score - a.score || a.cls - b.cls);
}

/**
 * One 8-bit plane (W × H) resized to outW × outH exactly as Pillow's `Image.resize(size, Image.BOX)` does it for an
 * 'L' image: the horizontal pass into 8 bits first (when the width changes), then the vertical one (when the height
 * does), each output sample the fixed-point mean of the source samples under it (boxTaps). A lattice verifier's
 * whole scan is resampled with it, as fcn_verifier.py resamples its canvases.
 */
export function boxResize(src: Uint8Array, W: number, H: number, outW: number, outH: number): Uint8Array {
  if (src.length !== W * H) throw new Error(`boxResize: ${src.length} bytes for ${W}×${H}`);
  let rows = src;
  if (outW !== W) {
    const tx = boxTaps(W, outW), s = tx.start, ix = tx.idx, kk = tx.kk;
    rows = new Uint8Array(outW * H);
    for (let y = 0; y < H; y++) {
      const from = y * W, to = y * outW;
      for (let j = 0; j < outW; j++) {
        let sum = 0;
        for (let k = s[j] as number, k1 = s[j + 1] as number; k < k1; k++) sum += (src[from + (ix[k] as number)] as number) * (kk[k] as number);
        rows[to + j] = fixedByte(sum);
      }
    }
  }
  if (outH === H) return rows === src ? src.slice() : rows;
  const ty = boxTaps(H, outH), s = ty.start, iy = ty.idx, kk = ty.kk;
  const out = new Uint8Array(outW * outH);
  for (let i = 0; i < outH; i++) {
    const k0 = s[i] as number, k1 = s[i + 1] as number, o = i * outW;
    if (k1 - k0 === 1) {
      const from = (iy[k0] as number) * outW;
      out.set(rows.subarray(from, from + outW), o);
      continue;
    }
    for (let j = 0; j < outW; j++) {
      let sum = 0;
      for (let k = k0; k < k1; k++) sum += (rows[(iy[k] as number) * outW + j] as number) * (kk[k] as number);
      out[o + j] = fixedByte(sum);
    }
  }
  return out;
}
