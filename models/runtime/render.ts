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
  const lut = greyTable(fullScale(bitDepth), air, aMax, aMin, gamma);
  const data = new Uint8Array(width * height);
  const top = lut.length - 1;
  if (top >= maxValueOf(high)) for (let i = 0; i < data.length; i++) data[i] = lut[high[i]!]!;
  else for (let i = 0; i < data.length; i++) data[i] = lut[Math.min(top, high[i]!)]!;
  return { width, height, channels: 1, data };
}

/**
 * The deep window: attenuation 2–9 mapped linearly (gamma 1) to white–black, over the scan's own air level (its
 * 99.5th percentile, as the material channel takes it). A vendor-style window ends at an attenuation of 3–6.5, past
 * which a loaded container is black; behind 150–200 g/cm² of cargo a pistol or a blade still takes 0.2–0.8 off
 * ln(counts), well over the noise once averaged over its pixels, and this window keeps it (models/README.md,
 * "The deep plane").
 */
export const DEEP_WINDOW = { aMin: 2, aMax: 9, gamma: 1 } as const;

/** The deep plane of a raw high-energy image (DEEP_WINDOW), read by a dual-energy verifier whose card asks for it. */
export function renderContainerDeep(high: Uint16Array | Uint8Array, width: number, height: number, bitDepth: number): Rendering {
  checkSize(high, width, height, 'renderContainerDeep');
  const air = Math.max(1, percentile(high, fullScale(bitDepth), 0.995));
  return renderContainerGrey(high, width, height, bitDepth, undefined, { air, ...DEEP_WINDOW });
}

const greyTables = new Map<string, Uint8Array>();

/**
 * The grey level of every count in [0, top]: a lookup table over values is exact and fast. Tables are kept for
 * the windows that recur (the default window of one bit depth is every container's); the deep plane's air level is
 * each scan's own, so its table is built for every scan, and is built by runs (greyTableRuns).
 */
function greyTable(top: number, air: number, aMax: number, aMin: number, gamma: number): Uint8Array {
  const key = `${top}:${air}:${aMax}:${aMin}:${gamma}`;
  let lut = greyTables.get(key);
  if (!lut) {
    lut = greyTableRuns(top, greyLevel(air, aMax, aMin, gamma));
    if (greyTables.size >= 8) greyTables.delete(greyTables.keys().next().value!);
    greyTables.set(key, lut);
  }
  return lut;
}

/** The grey level of one count under a window: 255·(1 − clamp((ln(air/v) − aMin)/(aMax − aMin))^gamma). */
export function greyLevel(air: number, aMax: number, aMin: number, gamma: number): (v: number) => number {
  const span = Math.max(1e-6, aMax - aMin);
  return (v) => {
    const a = Math.log(air / Math.max(v, 0.5));
    const t = Math.min(1, Math.max(0, (a - aMin) / span));
    return Math.round(255 * (1 - Math.pow(t, gamma)));
  };
}

/**
 * The table of a level function that only ever steps one way with the count (more counts, less attenuation, a
 * lighter grey), so each level is one run of counts: built run by run, each run's end found by bisection, at most 256
 * runs of ~16 evaluations instead of one for each of 65,536 counts (16-bit data: 0.37 ms against 1.98 ms a table,
 * the mean over 5,958 deep-plane air levels, 2026-12-05, each table equal to the direct one). The same entries as
 * evaluating every count (test/unit/render-resize-golden.test.ts compares them).
 */
export function greyTableRuns(top: number, level: (v: number) => number): Uint8Array {
  const lut = new Uint8Array(top + 1);
  for (let v = 0; v <= top; ) {
    const g = level(v);
    let lo = v; // the last count known to give g
    let hi = top;
    if (level(hi) === g) lo = hi;
    else {
      while (hi - lo > 1) {
        const mid = (lo + hi) >>> 1;
        if (level(mid) === g) lo = mid;
        else hi = mid;
      }
    }
    lut.fill(g, v, lo + 1);
    v = lo + 1;
  }
  return lut;
}

/** The largest value an array of this type can hold (so a lookup needs no clamp when its table reaches it). */
function maxValueOf(a: Uint16Array | Uint8Array): number {
  return a instanceof Uint8Array ? 255 : 65535;
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

const lerp = (a: readonly number[], b: readonly number[], t: number): [number, number, number] => [
  (a[0] ?? 0) + ((b[0] ?? 0) - (a[0] ?? 0)) * t,
  (a[1] ?? 0) + ((b[1] ?? 0) - (a[1] ?? 0)) * t,
  (a[2] ?? 0) + ((b[2] ?? 0) - (a[2] ?? 0)) * t,
];

/** Hue for a low/high attenuation ratio R (kV regime: organic ≈ 1.3, light metals ≈ 2.2, iron ≈ 5). */
export function materialHue(ratio: number): [number, number, number] {
  if (ratio <= 1.6) return [...ORGANIC];
  if (ratio <= 2.2) return lerp(ORGANIC, MIXED, (ratio - 1.6) / 0.6);
  if (ratio <= 2.8) return [...MIXED];
  if (ratio <= 3.8) return lerp(MIXED, METAL, (ratio - 2.8) / 1.0);
  return [...METAL];
}

/**
 * Hue for a container's low/high attenuation ratio at MeV (linac, ~6 / ~3 MeV), where the ratio falls with Z
 * (pair production): organic ≈ 1.43, light metals ≈ 1.36, iron ≈ 1.23 (NIST XCOM, as the generator's physics).
 * Same palette as materialHue: organic orange, mixed green, metal blue. A kV palette on MeV data paints
 * everything orange (every MeV ratio is under 1.6).
 */
export function containerMaterialHue(ratio: number): [number, number, number] {
  if (ratio >= 1.4) return [...ORGANIC];
  if (ratio >= 1.34) return lerp(ORGANIC, MIXED, (1.4 - ratio) / 0.06);
  if (ratio >= 1.3) return [...MIXED];
  if (ratio >= 1.25) return lerp(MIXED, METAL, (1.3 - ratio) / 0.05);
  return [...METAL];
}

/**
 * A function of the count, memoised per count over [0, 65535] for one key (an air level, a window) and filled
 * lazily: a parcel of ~40,000 pixels uses a fraction of 65,536 levels, and a scan's air level is its own, so a
 * table rarely serves two scans. One table per use is kept and reused from scan to scan: a new key starts a
 * new generation (an entry counts as filled only when its stamp is the current generation), so a scan neither
 * allocates nor clears 65,536 entries (a fresh pair of tables was 1 MB of garbage a parcel).
 */
class LevelMemo {
  readonly values = new Float64Array(65536);
  private readonly stamps = new Uint32Array(65536);
  private key = '';
  private gen = 0;
  /** Starts `key`'s table (what it holds already when the key is the last one's). */
  use(key: string): this {
    if (key !== this.key) {
      this.key = key;
      if (++this.gen === 2 ** 32) {
        this.stamps.fill(0);
        this.gen = 1;
      }
    }
    return this;
  }
  /** Whether count v is filled for the current key; `set` fills it. */
  has(v: number): boolean {
    return this.stamps[v] === this.gen;
  }
  set(v: number, value: number): number {
    this.stamps[v] = this.gen;
    return (this.values[v] = value);
  }
}

/**
 * The memos the renderers fill, one per use (a renderer runs to completion, so one set serves every call). The
 * pseudo-colour's saturation is filled with its lightness, under the lightness memo's stamps.
 */
const memo = { high: new LevelMemo(), low: new LevelMemo(), light: new LevelMemo() };
const saturation = new Float64Array(65536);

/** The attenuation memo of one air level: max(0, ln(air / max(v, 0.5))) per count v, read through `attenuation`. */
function attenuationTable(which: 'high' | 'low', air: number, top: number): LevelMemo {
  if (top > 65535) throw new Error(`counts up to ${top} exceed 16 bits`);
  return memo[which].use(`${air}:${top}`);
}

/** The table's value for count v (v in [0, top]), computed on first use. */
function attenuation(t: LevelMemo, air: number, v: number): number {
  return t.has(v) ? t.values[v]! : t.set(v, Math.max(0, Math.log(air / Math.max(v, 0.5))));
}

let histogram = new Uint32Array(0);

/** The q-quantile of integer values in [0, top], by histogram. */
export function percentile(a: Uint16Array | Uint8Array, top: number, q: number): number {
  // One histogram reused (zeroed) rather than 256 KiB allocated twice per 16-bit parcel.
  if (histogram.length < top + 1) histogram = new Uint32Array(top + 1);
  const hist = histogram.subarray(0, top + 1).fill(0);
  if (top >= maxValueOf(a)) for (let i = 0; i < a.length; i++) hist[a[i]!]!++;
  else for (let i = 0; i < a.length; i++) hist[Math.min(top, a[i]!)]!++;
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
  // the hue inlined without allocation: this loop runs for every pixel of every parcel. Lightness and
  // saturation depend on the high-energy level only, so they are memoised per level too (filled on first
  // use, kept with the air level): the same doubles as computing them per pixel, without a Math.pow each.
  const logH = attenuationTable('high', airH, fs);
  const logL = airL === airH ? logH : attenuationTable('low', airL, fs);
  const shadeKey = `${airH}:${fs}:${aMax}`;
  const light = memo.light.use(shadeKey);
  const data = new Uint8Array(width * height * 3);
  const n = width * height;
  const [o0, o1, o2] = ORGANIC, [x0, x1, x2] = MIXED, [m0, m1, m2] = METAL;
  for (let i = 0; i < n; i++) {
    const vh = Math.min(fs, high[i] ?? 0);
    const ah = attenuation(logH, airH, vh);
    let lightness: number;
    if (light.has(vh)) lightness = light.values[vh]!;
    else {
      const d = Math.min(1, ah / aMax);
      lightness = light.set(vh, 1 - 0.85 * Math.pow(d, 0.7));
      saturation[vh] = Math.min(1, Math.max(0, (ah - 0.05) / 0.3));
    }
    const sat = saturation[vh]!;
    // the ratio is noise where almost nothing attenuates: fade to white there. Otherwise materialHue,
    // inlined (the same arithmetic: a + (b − a)·t per channel).
    let h0 = 255, h1 = 255, h2 = 255;
    if (ah > 0.05) {
      const ratio = attenuation(logL, airL, Math.min(fs, low[i] ?? 0)) / ah;
      if (ratio <= 1.6) { h0 = o0; h1 = o1; h2 = o2; }
      else if (ratio <= 2.2) { const t = (ratio - 1.6) / 0.6; h0 = o0 + (x0 - o0) * t; h1 = o1 + (x1 - o1) * t; h2 = o2 + (x2 - o2) * t; }
      else if (ratio <= 2.8) { h0 = x0; h1 = x1; h2 = x2; }
      else if (ratio <= 3.8) { const t = (ratio - 2.8) / 1.0; h0 = x0 + (m0 - x0) * t; h1 = x1 + (m1 - x1) * t; h2 = x2 + (m2 - x2) * t; }
      else { h0 = m0; h1 = m1; h2 = m2; }
    }
    const o = i * 3;
    data[o] = Math.max(0, Math.min(255, Math.round((255 + (h0 - 255) * sat) * lightness)));
    data[o + 1] = Math.max(0, Math.min(255, Math.round((255 + (h1 - 255) * sat) * lightness)));
    data[o + 2] = Math.max(0, Math.min(255, Math.round((255 + (h2 - 255) * sat) * lightness)));
  }
  return { width, height, channels: 3, data };
}

/** Low/high attenuation ratios mapped to 0..255 by renderContainerMaterial. */
export const CONTAINER_MATERIAL_SCALE = { ratioMin: 1.0, ratioMax: 1.6, minAttenuation: 0.15 } as const;

/**
 * Container material channel from the raw dual-energy pair (MeV linac, ~6 / ~3 MeV): per pixel the ratio
 * R = ln(airLow/low) / ln(airHigh/high), which falls with atomic number (organic ≈ 1.43, light metals ≈ 1.36,
 * iron ≈ 1.23 in the generator's physics, from NIST XCOM), mapped linearly from [1.0, 1.6] onto 0..255 (bright
 * = organic). Where the high-energy attenuation is under 0.15 the ratio is noise, and the pixel is 0. Air is
 * each channel's 99.5th percentile (a scan has air above the roof and under the floor; the detectors are
 * flat-field normalised to an air level below full scale). The threat verifier reads it beside the grey
 * rendering when a gateway sends the raw pair: an organic carton among machinery looks like its neighbours
 * in grey but not here.
 */
export function renderContainerMaterial(
  high: Uint16Array | Uint8Array,
  low: Uint16Array | Uint8Array,
  width: number,
  height: number,
  bitDepth: number,
): Rendering {
  checkSize(high, width, height, 'renderContainerMaterial(high)');
  checkSize(low, width, height, 'renderContainerMaterial(low)');
  const fs = fullScale(bitDepth);
  const airH = Math.max(1, percentile(high, fs, 0.995)), airL = Math.max(1, percentile(low, fs, 0.995));
  // A container has ~1.5 million pixels over most of the 16-bit levels: both tables filled outright (~1 ms) and
  // read without a per-pixel "filled yet?" check; the same values as `attenuation` gives
  const logH = fullAttenuation(materialTables.high, airH, fs), logL = fullAttenuation(materialTables.low, airL, fs);
  const { ratioMin, ratioMax, minAttenuation } = CONTAINER_MATERIAL_SCALE;
  const k = 255 / (ratioMax - ratioMin);
  const data = new Uint8Array(width * height);
  const exact = fs >= maxValueOf(high) && fs >= maxValueOf(low); // every value is a table index: no clamp
  for (let i = 0; i < data.length; i++) {
    const ah = logH[exact ? high[i]! : Math.min(fs, high[i]!)]!;
    if (ah < minAttenuation) continue;
    const v = (logL[exact ? low[i]! : Math.min(fs, low[i]!)]! / ah - ratioMin) * k;
    data[i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
  }
  return { width, height, channels: 1, data };
}

/** renderContainerMaterial's tables, kept with the air level and top they were filled for. */
const materialTables = { high: { values: new Float64Array(65536), key: '' }, low: { values: new Float64Array(65536), key: '' } };

/** max(0, ln(air / max(v, 0.5))) for every count v in [0, top], filled unless the table already holds it. */
function fullAttenuation(t: { values: Float64Array; key: string }, air: number, top: number): Float64Array {
  if (top > 65535) throw new Error(`counts up to ${top} exceed 16 bits`);
  const key = `${air}:${top}`;
  if (t.key !== key) {
    for (let v = 0; v <= top; v++) t.values[v] = Math.max(0, Math.log(air / Math.max(v, 0.5)));
    t.key = key;
  }
  return t.values;
}
