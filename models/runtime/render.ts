// Renderings from raw dual-energy counts, shared by the pipeline's preprocess stage and the synthetic
// generator (so training and serving see identical pixels): container grey and parcel pseudo-colour.
import type { Rendering } from './types.js';

export interface GreyWindow {
  /** Counts through air; default full scale (2^bitDepth − 1). */
  air?: number;
  /** Attenuation ln(air/I) mapped to black; default 6. */
  aMax?: number;
  /** Attenuation mapped to white; default 0. */
  aMin?: number;
  /** Gamma on the normalised attenuation (< 1 darkens mid-tones, as vendor exports do); default 0.8. */
  gamma?: number;
}

export const DEFAULT_GREY_WINDOW: Required<Omit<GreyWindow, 'air'>> = { aMax: 6, aMin: 0, gamma: 0.8 };

function fullScale(bitDepth: number): number {
  if (!Number.isInteger(bitDepth) || bitDepth < 1 || bitDepth > 16) throw new Error(`bitDepth must be 1..16, got ${bitDepth}`);
  return 2 ** bitDepth - 1;
}

function checkSize(a: ArrayLike<number>, width: number, height: number, what: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`${what}: width and height must be positive integers (${width}×${height})`);
  }
  if (a.length !== width * height) throw new Error(`${what}: ${a.length} values for ${width}×${height} pixels`);
}

/**
 * Single-channel grey transmission rendering, dark = dense: grey = 255·(1 − v^gamma) with
 * v = clamp((ln(air/I) − aMin)/(aMax − aMin)). `low` is accepted for symmetry and ignored (the container
 * models read the high-energy image only). Data of 8 bits or fewer is taken to be a vendor's rendering
 * already (what H986 exports are) and is copied unchanged unless a window is given explicitly.
 */
export function renderContainerGrey(
  high: Uint16Array | Uint8Array,
  width: number,
  height: number,
  bitDepth: number,
  _low?: Uint16Array | Uint8Array,
  window: GreyWindow = {},
): Rendering {
  checkSize(high, width, height, 'renderContainerGrey');
  if (bitDepth <= 8 && Object.keys(window).length === 0) {
    const data = new Uint8Array(width * height);
    const scale = 255 / fullScale(bitDepth);
    for (let i = 0; i < data.length; i++) data[i] = Math.round(Math.min(fullScale(bitDepth), high[i] ?? 0) * scale);
    return { width, height, channels: 1, data };
  }
  const air = window.air ?? fullScale(bitDepth);
  const aMax = window.aMax ?? DEFAULT_GREY_WINDOW.aMax;
  const aMin = window.aMin ?? DEFAULT_GREY_WINDOW.aMin;
  const gamma = window.gamma ?? DEFAULT_GREY_WINDOW.gamma;
  const span = Math.max(1e-6, aMax - aMin);
  // 8-bit input has only 256 levels: a lookup table over values is exact and fast
  const levels = fullScale(bitDepth) + 1;
  const lut = new Uint8Array(levels);
  for (let v = 0; v < levels; v++) {
    const a = Math.log(air / Math.max(v, 0.5));
    const t = Math.min(1, Math.max(0, (a - aMin) / span));
    lut[v] = Math.round(255 * (1 - Math.pow(t, gamma)));
  }
  const data = new Uint8Array(width * height);
  const top = levels - 1;
  for (let i = 0; i < data.length; i++) data[i] = lut[Math.min(top, high[i] ?? 0)] ?? 0;
  return { width, height, channels: 1, data };
}

export interface PseudoColourOptions {
  /** Counts through air for high and low; default the 99.5th percentile of each channel (parcels are
   * surrounded by air on the belt). */
  airHigh?: number;
  airLow?: number;
  /** High-energy attenuation mapped to darkest; default 4. */
  aMax?: number;
}

// the conventional palette: organic orange, mixed green, metal blue
const ORGANIC: readonly [number, number, number] = [240, 150, 40];
const MIXED: readonly [number, number, number] = [70, 170, 60];
const METAL: readonly [number, number, number] = [40, 90, 220];

/** Hue for a low/high attenuation ratio R (kV regime: organic ≈ 1.3, light metals ≈ 2.2, iron ≈ 5). */
export function materialHue(ratio: number): [number, number, number] {
  const lerp = (a: readonly number[], b: readonly number[], t: number): [number, number, number] => [
    (a[0] ?? 0) + ((b[0] ?? 0) - (a[0] ?? 0)) * t,
    (a[1] ?? 0) + ((b[1] ?? 0) - (a[1] ?? 0)) * t,
    (a[2] ?? 0) + ((b[2] ?? 0) - (a[2] ?? 0)) * t,
  ];
  if (ratio <= 1.6) return [...ORGANIC];
  if (ratio <= 2.2) return lerp(ORGANIC, MIXED, (ratio - 1.6) / 0.6);
  if (ratio <= 2.8) return [...MIXED];
  if (ratio <= 3.8) return lerp(MIXED, METAL, (ratio - 2.8) / 1.0);
  return [...METAL];
}

const attenuationTables = new Map<string, Float64Array>();

/** max(0, ln(air / max(v, 0.5))) for every count v in [0, top]; air levels repeat, so tables are cached. */
function attenuationTable(air: number, top: number): Float64Array {
  const key = `${air}:${top}`;
  let t = attenuationTables.get(key);
  if (!t) {
    t = new Float64Array(top + 1);
    for (let v = 0; v <= top; v++) t[v] = Math.max(0, Math.log(air / Math.max(v, 0.5)));
    if (attenuationTables.size >= 32) attenuationTables.delete(attenuationTables.keys().next().value!);
    attenuationTables.set(key, t);
  }
  return t;
}

/** materialHue without allocating: writes the hue into `out`. */
function materialHueInto(ratio: number, out: number[]): void {
  let a: readonly number[] = ORGANIC, b: readonly number[] = ORGANIC, t = 0;
  if (ratio <= 1.6) a = b = ORGANIC;
  else if (ratio <= 2.2) { a = ORGANIC; b = MIXED; t = (ratio - 1.6) / 0.6; }
  else if (ratio <= 2.8) a = b = MIXED;
  else if (ratio <= 3.8) { a = MIXED; b = METAL; t = (ratio - 2.8) / 1.0; }
  else a = b = METAL;
  for (let c = 0; c < 3; c++) out[c] = a[c]! + (b[c]! - a[c]!) * t;
}

/** The q-quantile of integer values in [0, top], by histogram. */
export function percentile(a: Uint16Array | Uint8Array, top: number, q: number): number {
  const hist = new Uint32Array(top + 1);
  for (let i = 0; i < a.length; i++) { const v = Math.min(top, a[i] ?? 0); hist[v] = (hist[v] ?? 0) + 1; }
  const target = q * a.length;
  let acc = 0;
  for (let v = 0; v <= top; v++) {
    acc += hist[v] ?? 0;
    if (acc >= target) return v;
  }
  return top;
}

/**
 * Dual-energy → 8-bit RGB pseudo-colour: hue from the ratio ln(airLow/low) / ln(airHigh/high), lightness
 * from the high-energy attenuation (air white, thin pale, thick dark).
 */
export function renderPseudoColour(
  high: Uint16Array | Uint8Array,
  low: Uint16Array | Uint8Array,
  width: number,
  height: number,
  bitDepth: number,
  opts: PseudoColourOptions = {},
): Rendering {
  checkSize(high, width, height, 'renderPseudoColour(high)');
  checkSize(low, width, height, 'renderPseudoColour(low)');
  const fs = fullScale(bitDepth);
  const airH = opts.airHigh ?? Math.max(1, percentile(high, fs, 0.995));
  const airL = opts.airLow ?? Math.max(1, percentile(low, fs, 0.995));
  const aMax = opts.aMax ?? 4;
  // Per-value lookup tables (the same Math.log values, computed once per level instead of per pixel) and
  // the hue inlined without allocation: this loop runs for every pixel of every parcel.
  const logH = attenuationTable(airH, fs);
  const logL = airL === airH ? logH : attenuationTable(airL, fs);
  const data = new Uint8Array(width * height * 3);
  const hue = [0, 0, 0];
  for (let i = 0; i < width * height; i++) {
    const ah = logH[Math.min(fs, high[i] ?? 0)]!;
    const al = logL[Math.min(fs, low[i] ?? 0)]!;
    const d = Math.min(1, ah / aMax);
    // the ratio is noise where almost nothing attenuates: fade to white there
    if (ah > 0.05) materialHueInto(al / ah, hue);
    else hue[0] = hue[1] = hue[2] = 255;
    const sat = Math.min(1, Math.max(0, (ah - 0.05) / 0.3));
    const light = 1 - 0.85 * Math.pow(d, 0.7);
    for (let c = 0; c < 3; c++) {
      const base = 255 + (hue[c]! - 255) * sat;
      data[i * 3 + c] = Math.max(0, Math.min(255, Math.round(base * light)));
    }
  }
  return { width, height, channels: 3, data };
}
