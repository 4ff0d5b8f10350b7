// Physics of the generator: three material classes with mass attenuation at two energies, a canvas of
// projected mass (g/cm² per class per pixel) with drawing primitives, and the detector (Beer–Lambert,
// scatter, Poisson-like noise, row gain, blur) that turns projected mass into 16-bit high/low counts.
import type { Rng } from './prng.js';

export type MaterialClass = 'organic' | 'mixed' | 'metal';
export const MATERIAL_CLASSES: readonly MaterialClass[] = ['organic', 'mixed', 'metal'];
export type Regime = 'mev' | 'kv';

/**
 * Mass attenuation coefficients (cm²/g). MeV (container linac, ~6 / ~3 MeV effective): water, aluminium,
 * iron from NIST XCOM; the low/high ratio falls with Z (pair production). kV (parcel tube, ~100 / ~50 keV):
 * the ratio rises steeply with Z (photoelectric), which is what pseudo-colour rendering uses.
 */
export const MU: Record<Regime, Record<MaterialClass, { high: number; low: number }>> = {
  mev: {
    organic: { high: 0.0277, low: 0.0397 },
    mixed: { high: 0.0264, low: 0.036 },
    metal: { high: 0.0295, low: 0.0362 },
  },
  kv: {
    organic: { high: 0.1707, low: 0.2269 },
    mixed: { high: 0.1704, low: 0.3681 },
    metal: { high: 0.3717, low: 1.958 },
  },
};

/** Projected mass per material class; coordinates in pixels, `cmPerPx` converts sizes. */
export class Canvas {
  readonly maps: Record<MaterialClass, Float32Array>;
  constructor(
    readonly width: number,
    readonly height: number,
    readonly cmPerPx: number,
  ) {
    const n = width * height;
    this.maps = { organic: new Float32Array(n), mixed: new Float32Array(n), metal: new Float32Array(n) };
  }

  px(cm: number): number {
    return cm / this.cmPerPx;
  }

  /** Adds `mass` g/cm² over the rectangle [x0,x1)×[y0,y1) with fractional edge coverage. */
  rect(cls: MaterialClass, x0: number, y0: number, x1: number, y1: number, mass: number): void {
    const m = this.maps[cls];
    const [xa, xb, ya, yb] = this.pixelsOf(x0, y0, x1, y1);
    for (let y = ya; y < yb; y++) {
      const cy = Math.min(y + 1, y1) - Math.max(y, y0);
      if (cy <= 0) continue;
      const row = y * this.width;
      for (let x = xa; x < xb; x++) {
        const cx = Math.min(x + 1, x1) - Math.max(x, x0);
        if (cx > 0) m[row + x] = (m[row + x] ?? 0) + mass * cx * cy;
      }
    }
  }

  /** The pixels a box touches, clipped to the canvas: [x from, x to, y from, y to), ends exclusive. */
  private pixelsOf(x0: number, y0: number, x1: number, y1: number): [number, number, number, number] {
    return [Math.max(0, Math.floor(x0)), Math.min(this.width, Math.ceil(x1)), Math.max(0, Math.floor(y0)), Math.min(this.height, Math.ceil(y1))];
  }

  /** Adds mass given by `f(x, y)` (pixel centre) over the bounding box; f returns g/cm² or 0. */
  field(cls: MaterialClass, x0: number, y0: number, x1: number, y1: number, f: (x: number, y: number) => number): void {
    const m = this.maps[cls];
    const [xa, xb, ya, yb] = this.pixelsOf(x0, y0, x1, y1);
    for (let y = ya; y < yb; y++) {
      const row = y * this.width;
      for (let x = xa; x < xb; x++) {
        const v = f(x + 0.5, y + 0.5);
        if (v > 0) m[row + x] = (m[row + x] ?? 0) + v;
      }
    }
  }

  /** A solid of revolution seen side-on (cylinder axis vertical, or sphere): path length = chord. */
  cylinder(cls: MaterialClass, cx: number, y0: number, y1: number, r: number, density: number): void {
    const cm = this.cmPerPx;
    this.field(cls, cx - r, y0, cx + r, y1, (x) => {
      const d = r * r - (x - cx) * (x - cx);
      return d > 0 ? 2 * Math.sqrt(d) * cm * density : 0;
    });
  }

  /** Ellipsoid of semi-axes rx, ry (pixels) and depth 2·rz (cm) along the beam. */
  ellipsoid(cls: MaterialClass, cx: number, cy: number, rx: number, ry: number, rzCm: number, density: number): void {
    this.field(cls, cx - rx, cy - ry, cx + rx, cy + ry, (x, y) => {
      const q = 1 - ((x - cx) / rx) ** 2 - ((y - cy) / ry) ** 2;
      return q > 0 ? 2 * rzCm * Math.sqrt(q) * density : 0;
    });
  }

  /** Annulus (a ring seen face-on, e.g. a tyre standing across the beam) of uniform thickness. */
  ring(cls: MaterialClass, cx: number, cy: number, rOut: number, rIn: number, mass: number): void {
    this.field(cls, cx - rOut, cy - rOut, cx + rOut, cy + rOut, (x, y) => {
      const d2 = (x - cx) ** 2 + (y - cy) ** 2;
      return d2 <= rOut * rOut && d2 >= rIn * rIn ? mass : 0;
    });
  }

  /** Filled polygon (pixel coordinates) of uniform mass; even-odd rule on pixel centres. */
  polygon(cls: MaterialClass, pts: ReadonlyArray<readonly [number, number]>, mass: number): void {
    if (pts.length < 3) return;
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const [x, y] of pts) {
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    }
    const m = this.maps[cls];
    const ya = Math.max(0, Math.floor(y0));
    const yb = Math.min(this.height, Math.ceil(y1));
    const xs: number[] = [];
    for (let y = ya; y < yb; y++) {
      const yc = y + 0.5;
      xs.length = 0;
      for (let i = 0; i < pts.length; i++) {
        const p = pts[i] as readonly [number, number];
        const q = pts[(i + 1) % pts.length] as readonly [number, number];
        if ((p[1] <= yc && q[1] > yc) || (q[1] <= yc && p[1] > yc)) {
          xs.push(p[0] + ((yc - p[1]) / (q[1] - p[1])) * (q[0] - p[0]));
        }
      }
      xs.sort((a, b) => a - b);
      for (let k = 0; k + 1 < xs.length; k += 2) {
        const xa = Math.max(0, Math.ceil((xs[k] as number) - 0.5));
        const xb = Math.min(this.width - 1, Math.floor((xs[k + 1] as number) - 0.5));
        for (let x = xa; x <= xb; x++) m[y * this.width + x] = (m[y * this.width + x] ?? 0) + mass;
      }
    }
  }

  /** Multiplies the mass of `cls` in a rectangle by a noise texture (lumpy goods, fibre, grain). */
  texture(cls: MaterialClass, x0: number, y0: number, x1: number, y1: number, rng: Rng, amount: number): void {
    const m = this.maps[cls];
    const xa = Math.max(0, Math.floor(x0));
    const xb = Math.min(this.width, Math.ceil(x1));
    const ya = Math.max(0, Math.floor(y0));
    const yb = Math.min(this.height, Math.ceil(y1));
    for (let y = ya; y < yb; y++) {
      for (let x = xa; x < xb; x++) {
        const i = y * this.width + x;
        m[i] = (m[i] ?? 0) * Math.max(0, 1 + amount * (rng.next() * 2 - 1));
      }
    }
  }
}

/** Rotated polygon helper: points given relative to (0,0) in pixels, rotated by `angle` and moved to (cx,cy). */
export function place(pts: ReadonlyArray<readonly [number, number]>, cx: number, cy: number, angle: number, scale = 1): Array<[number, number]> {
  const c = Math.cos(angle), s = Math.sin(angle);
  return pts.map(([x, y]) => [cx + scale * (x * c - y * s), cy + scale * (x * s + y * c)]);
}

export interface DetectorParams {
  /** Counts through air at full dose (≤ 65535). */
  air: number;
  /** Standard deviation multiplier on √counts (1 = Poisson). */
  noise: number;
  /** Fraction of the mean transmitted signal added back as scatter, blurred. */
  scatter: number;
  /** Box-blur radius in pixels (0 = none), applied to counts (detector and focal-spot blur). */
  blur: number;
  /** Relative sd of per-row detector gain and per-column dose. */
  rowGain: number;
  colGain: number;
}

export function randomDetector(rng: Rng): DetectorParams {
  return {
    air: rng.uniform(52000, 63000),
    noise: rng.uniform(0.8, 4),
    scatter: rng.uniform(0, 0.02),
    blur: rng.pick([0, 1, 1, 2]),
    rowGain: rng.uniform(0, 0.02),
    colGain: rng.uniform(0, 0.02),
  };
}

/** One 1-D box-blur pass along x or y; at the edges the mean is over the samples that exist. */
function blurPass(src: Float32Array, dst: Float32Array, w: number, h: number, r: number, alongX: boolean): void {
  const len = alongX ? w : h;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0, n = 0;
      for (let k = -r; k <= r; k++) {
        const q = (alongX ? x : y) + k;
        if (q >= 0 && q < len) { s += src[alongX ? y * w + q : q * w + x] ?? 0; n++; }
      }
      dst[y * w + x] = s / n;
    }
  }
}

function boxBlur(a: Float32Array, w: number, h: number, r: number): Float32Array {
  if (r <= 0) return a;
  const tmp = new Float32Array(a.length);
  const out = new Float32Array(a.length);
  blurPass(a, tmp, w, h, r, true);
  blurPass(tmp, out, w, h, r, false);
  return out;
}

/** Beer–Lambert transmission of the canvas at one energy, as ideal counts (no noise). */
export function idealCounts(canvas: Canvas, regime: Regime, energy: 'high' | 'low', air: number): Float32Array {
  const n = canvas.width * canvas.height;
  const out = new Float32Array(n);
  const mu = MU[regime];
  const { organic, mixed, metal } = canvas.maps;
  const mo = mu.organic[energy], mm = mu.mixed[energy], mt = mu.metal[energy];
  for (let i = 0; i < n; i++) {
    out[i] = air * Math.exp(-(mo * (organic[i] ?? 0) + mm * (mixed[i] ?? 0) + mt * (metal[i] ?? 0)));
  }
  return out;
}

// per-pixel noise draws from a fixed table of 65,536 normal deviates (fast, still seeded and deterministic)
let NORMALS: Float32Array | null = null;
function normals(rng: Rng): Float32Array {
  if (!NORMALS) {
    const t = new Float32Array(65536);
    // a fixed stream, independent of the sample, so the table is the same in every process
    const g = new (rng.constructor as new (seed: number) => Rng)(0x5eed);
    for (let i = 0; i < t.length; i++) t[i] = g.normal();
    NORMALS = t;
  }
  return NORMALS;
}

/** Detector simulation: ideal counts → 16-bit counts with scatter, gain stripes, blur and noise. */
export function detect(canvas: Canvas, regime: Regime, p: DetectorParams, rng: Rng): { high: Uint16Array; low: Uint16Array } {
  const w = canvas.width, h = canvas.height;
  const rows = Float32Array.from({ length: h }, () => 1 + rng.normal(0, p.rowGain));
  const cols = Float32Array.from({ length: w }, () => 1 + rng.normal(0, p.colGain));
  const result: Record<'high' | 'low', Uint16Array> = { high: new Uint16Array(w * h), low: new Uint16Array(w * h) };
  const table = normals(rng);
  for (const energy of ['high', 'low'] as const) {
    // both channels are flat-field normalised to the same air level; the low one is noisier
    const air = p.air;
    let c = idealCounts(canvas, regime, energy, air);
    if (p.scatter > 0) {
      let mean = 0;
      for (let i = 0; i < c.length; i++) mean += c[i] ?? 0;
      mean /= c.length;
      const sc = p.scatter * mean;
      for (let i = 0; i < c.length; i++) c[i] = (c[i] ?? 0) + sc;
    }
    c = boxBlur(c, w, h, p.blur);
    const out = result[energy];
    const noiseGain = energy === 'high' ? p.noise : p.noise * 1.3;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        const v = (c[i] ?? 0) * (rows[y] ?? 1) * (cols[x] ?? 1);
        const noisy = v + (table[(rng.u32() >>> 16) & 0xffff] as number) * noiseGain * Math.sqrt(Math.max(v, 1));
        out[i] = Math.max(1, Math.min(65535, Math.round(noisy)));
      }
    }
  }
  return result;
}
