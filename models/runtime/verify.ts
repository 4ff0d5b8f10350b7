// Second-stage verification of a grid detector (card task `verify`, models/training/train_verifier.py).
// The grid detector sees a 40 ft container at ~16 mm per pixel; the verifier looks again at each place the
// grid proposes (a per-class local maximum of its cells at or over `proposalThreshold`), in a square window of
// the full-resolution rendering, and scores every threat class there. A detection is what the verifier
// confirms at its own thresholds, boxed by the grid's cells around the proposal. When the rendering is too
// coarse for the verifier (its window would be under `minWindowPixels`), the grid's own detections stand.
import type { RawDetection } from './yolo.js';
import { sigmoid } from './yolo.js';
import type { ModelCard, Rendering } from './types.js';
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
   * Per label [a, b, c]: the confirmed score is sigmoid(a·logit(verifier) + b·logit(grid around) + c), fitted
   * on held-out windows; absent, the verifier's own score.
   */
  fusion?: Record<string, [number, number, number]>;
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

/** Throws unless `material` is one channel of the grey rendering's size (the runtime checks before any model runs). */
export function checkMaterial(grey: Rendering, material: Rendering): void {
  if (material.width !== grey.width || material.height !== grey.height || material.channels !== 1 || grey.channels !== 1) {
    throw new Error(`material channel ${material.width}×${material.height}×${material.channels} does not match the grey rendering ${grey.width}×${grey.height}×${grey.channels}`);
  }
}

/**
 * A square window of the rendering (side × side pixels, top-left x, y); outside the image is air (255). With
 * `material` (the container material channel, same size), the window has two interleaved channels, grey and
 * material, and outside the image the material is 0 (air attenuates nothing), as train_verifier.py crops it.
 * With `into` (at least the window's bytes), the window is written there instead of a new buffer: the runtime
 * reuses one buffer for the hundreds of windows of a dense sweep, each consumed before the next is cropped.
 */
export function cropWindow(r: Rendering, x: number, y: number, side: number, material?: Rendering, air = 255, into?: Uint8Array): Rendering {
  const ch = material ? 2 : r.channels;
  const n = side * side * ch;
  if (into && into.length < n) throw new Error(`cropWindow: buffer of ${into.length} bytes for a ${n}-byte window`);
  const out = into ? into.subarray(0, n) : new Uint8Array(n);
  const sx0 = Math.max(0, x), sx1 = Math.min(r.width, x + side);
  const y0 = Math.max(0, y), y1 = Math.min(r.height, y + side);
  if (material) {
    checkMaterial(r, material);
    // interleaved straight from both planes: air (grey 255, material 0) where the window leaves the image
    for (let i = 0; i < n; i += 2) { out[i] = air; out[i + 1] = 0; }
    const g = r.data, m = material.data;
    for (let row = y0; sx1 > sx0 && row < y1; row++) {
      let j = ((row - y) * side + (sx0 - x)) * 2;
      for (let s = row * r.width + sx0, e = row * r.width + sx1; s < e; s++, j += 2) { out[j] = g[s]!; out[j + 1] = m[s]!; }
    }
  } else {
    out.fill(air);
    for (let row = y0; sx1 > sx0 && row < y1; row++) {
      const src = (row * r.width + sx0) * ch;
      out.set(r.data.subarray(src, src + (sx1 - sx0) * ch), ((row - y) * side + (sx0 - x)) * ch);
    }
  }
  return { width: side, height: side, channels: ch, data: out };
}

export interface VerifiedWindow {
  proposal: Proposal;
  x: number;
  y: number;
  side: number;
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
  return ps.map((p) => {
    // centred on the proposal's cell as train_verifier.py's windows are (a cell in the padding gives a window of air)
    const x = Math.round((p.cx - place.padX) / place.sx - side / 2), y = Math.round((p.cy - place.padY) / place.sy - side / 2);
    const [x0, y0, x1, y1] = unplaceBox(p.box, place, width, height);
    return { proposal: p, x, y, side, box: [Math.max(x, x0), Math.max(y, y0), Math.min(x + side, x1), Math.min(y + side, y1)] };
  });
}

const logit = (p: number): number => {
  const q = Math.min(1 - 1e-6, Math.max(1e-6, p));
  return Math.log(q / (1 - q));
};

/** The confirmed score of a label in a window: the verifier's, or its fusion with the grid's around it. */
export function fusedScore(spec: VerifySpec | undefined, label: string, verifier: number, gridAround: number): number {
  const f = spec?.fusion?.[label];
  return f ? sigmoid(f[0] * logit(verifier) + f[1] * logit(gridAround) + f[2]) : verifier;
}

/**
 * Detections the verifier confirms: per window, every class whose confirmed score (fusedScore) reaches the
 * verifier card's threshold, whatever class the grid proposed there. Neighbouring windows see the same object
 * (a false wall spans many cells): boxes of a label that overlap or touch are joined into one, with the best
 * score, so a reviewer gets one box per object.
 */
export function confirmed(windows: readonly VerifiedWindow[], scores: ReadonlyArray<Record<string, number>>, card: ModelCard): Array<{ label: string; score: number; box: [number, number, number, number] }> {
  const raw: RawDetection[] = [];
  windows.forEach((w, i) => {
    const s = scores[i] ?? {};
    card.labels.forEach((label, cls) => {
      const v = s[label];
      if (v === undefined) return;
      const score = fusedScore(card.verifies, label, v, w.proposal.around[cls] ?? 0);
      if (score >= (card.thresholds[label] ?? 0.5)) raw.push({ cls, score, box: w.box });
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
