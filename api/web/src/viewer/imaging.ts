// Pixel processing for the viewer, pure and synchronous so it is unit-tested in Node and runs per tile in
// the browser: window/level + gamma through a lookup table, dual-energy material colouring with the same
// palette the models were trained on, greyscale, invert and edge enhancement.
import { containerMaterialHue, materialHue } from '../../../../models/runtime/render.js';

export interface Display {
  /** Width of the value range mapped from black to white, in source units (counts for 16-bit). */
  window: number;
  /** Centre of that range. */
  level: number;
  /** Applied to the normalised value: < 1 brightens mid-tones. */
  gamma: number;
  invert: boolean;
  /** Dual-energy material colours (or the rendering's own colours) instead of grey. */
  material: boolean;
  /** Unsharp-mask strength, 0 = off. */
  edges: number;
}

/** Value → 8-bit grey for a source of `levels` values (65536 for 16-bit, 256 for 8-bit). */
export function windowLut(d: Pick<Display, 'window' | 'level' | 'gamma' | 'invert'>, levels: number): Uint8Array {
  const lut = new Uint8Array(levels);
  const w = Math.max(1, d.window);
  const lo = d.level - w / 2;
  const g = Math.max(0.05, d.gamma);
  for (let v = 0; v < levels; v++) {
    const t = Math.min(1, Math.max(0, (v - lo) / w));
    const out = Math.round(255 * Math.pow(t, g));
    lut[v] = d.invert ? 255 - out : out;
  }
  return lut;
}

/** The q-quantile of the values, by histogram. */
export function quantile(values: ArrayLike<number>, levels: number, q: number): number {
  const hist = new Uint32Array(levels);
  for (let i = 0; i < values.length; i++) hist[Math.min(levels - 1, values[i]!)]!++;
  const target = q * values.length;
  let acc = 0;
  for (let v = 0; v < levels; v++) {
    acc += hist[v]!;
    if (acc >= target) return v;
  }
  return levels - 1;
}

/** A starting window that spans the image's own values (0.5th to 99.5th percentile). */
export function autoWindow(values: ArrayLike<number>, levels: number): { window: number; level: number } {
  const lo = quantile(values, levels, 0.005);
  const hi = Math.max(lo + 1, quantile(values, levels, 0.995));
  return { window: hi - lo, level: Math.round((lo + hi) / 2) };
}

/** Luminance of RGBA pixels (for greyscale display and windowing of colour renderings). */
export function luminance(rgba: Uint8ClampedArray): Uint8Array {
  const out = new Uint8Array(rgba.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = (rgba[4 * i]! * 77 + rgba[4 * i + 1]! * 150 + rgba[4 * i + 2]! * 29) >> 8;
  return out;
}

/** Grey values (any depth) through the LUT into RGBA. */
export function paintGrey(values: ArrayLike<number>, lut: Uint8Array, out: Uint8ClampedArray): void {
  for (let i = 0; i < values.length; i++) {
    const g = lut[values[i]!]!;
    out[4 * i] = g;
    out[4 * i + 1] = g;
    out[4 * i + 2] = g;
    out[4 * i + 3] = 255;
  }
}

/** A colour rendering windowed channel by channel (its hues kept). */
export function paintColour(rgba: Uint8ClampedArray, lut: Uint8Array, out: Uint8ClampedArray): void {
  for (let i = 0; i < rgba.length; i += 4) {
    out[i] = lut[rgba[i]!]!;
    out[i + 1] = lut[rgba[i + 1]!]!;
    out[i + 2] = lut[rgba[i + 2]!]!;
    out[i + 3] = 255;
  }
}

export interface MaterialTables {
  /** ln(air/I) per count, for high and low. */
  attHigh: Float32Array;
  attLow: Float32Array;
  /** Hue per ratio step (RATIO_STEPS over [0, RATIO_MAX]) for the scanner's energy regime. */
  hues: Uint8Array;
}

/**
 * `regime`: 'kv' for parcel and baggage tubes (the ratio rises with Z), 'mev' for container linacs (it falls
 * with Z, over a much narrower range).
 */
export function materialTables(airHigh: number, airLow: number, levels = 65536, regime: 'kv' | 'mev' = 'kv'): MaterialTables {
  const attHigh = new Float32Array(levels);
  const attLow = new Float32Array(levels);
  for (let v = 0; v < levels; v++) {
    attHigh[v] = Math.max(0, Math.log(airHigh / Math.max(v, 0.5)));
    attLow[v] = Math.max(0, Math.log(airLow / Math.max(v, 0.5)));
  }
  return { attHigh, attLow, hues: regime === 'mev' ? MEV_HUES : HUES };
}

// Hue by low/high attenuation ratio, sampled finely enough that the bands look continuous.
const RATIO_STEPS = 512;
const RATIO_MAX = 8;
const hueTable = (hue: (ratio: number) => [number, number, number]): Uint8Array => {
  const t = new Uint8Array(RATIO_STEPS * 3);
  for (let i = 0; i < RATIO_STEPS; i++) {
    const [r, g, b] = hue((i / (RATIO_STEPS - 1)) * RATIO_MAX);
    t[3 * i] = r;
    t[3 * i + 1] = g;
    t[3 * i + 2] = b;
  }
  return t;
};
// 512 steps over 0..8: 0.016 a step, fine enough for the MeV bands (1.25–1.40) too
const HUES = hueTable(materialHue);
const MEV_HUES = hueTable(containerMaterialHue);

/**
 * Dual-energy material colouring: hue from the low/high attenuation ratio (organic orange, mixed green,
 * metal blue), lightness from the windowed high-energy image, colour fading to white where almost nothing
 * attenuates (the ratio is noise there).
 */
export function paintMaterial(high: Uint16Array, low: Uint16Array, lut: Uint8Array, tables: MaterialTables, out: Uint8ClampedArray): void {
  const { attHigh, attLow, hues } = tables;
  for (let i = 0; i < high.length; i++) {
    const ah = attHigh[high[i]!]!;
    const al = attLow[low[i]!]!;
    const light = lut[high[i]!]! / 255;
    const sat = Math.min(1, Math.max(0, (ah - 0.05) / 0.3));
    const k = ah > 0.05 ? Math.min(RATIO_STEPS - 1, Math.round(((al / ah) / RATIO_MAX) * (RATIO_STEPS - 1))) : 0;
    for (let c = 0; c < 3; c++) {
      const hue = ah > 0.05 ? hues[3 * k + c]! : 255;
      out[4 * i + c] = (255 + (hue - 255) * sat) * light;
    }
    out[4 * i + 3] = 255;
  }
}

/** Unsharp mask (3×3 box blur) in place on RGBA; borders use the nearest pixel. */
export function enhanceEdges(rgba: Uint8ClampedArray, width: number, height: number, amount: number): void {
  if (amount <= 0) return;
  const src = new Uint8ClampedArray(rgba);
  const row = width * 4;
  for (let y = 0; y < height; y++) {
    const up = (y > 0 ? y - 1 : 0) * row;
    const mid = y * row;
    const down = (y < height - 1 ? y + 1 : y) * row;
    for (let x = 0; x < width; x++) {
      const l = (x > 0 ? x - 1 : 0) * 4;
      const m = x * 4;
      const r = (x < width - 1 ? x + 1 : x) * 4;
      for (let c = 0; c < 3; c++) {
        const sum =
          src[up + l + c]! + src[up + m + c]! + src[up + r + c]! +
          src[mid + l + c]! + src[mid + m + c]! + src[mid + r + c]! +
          src[down + l + c]! + src[down + m + c]! + src[down + r + c]!;
        const v = src[mid + m + c]!;
        rgba[mid + m + c] = v + amount * (v - sum / 9);
      }
    }
  }
}
