// Geometry of getting a rendering into a model's input: area/bilinear resampling, letterbox (keep aspect,
// pad centred) or stretch, the CHW float tensor per the card's normalisation, and mapping boxes back.
import type { Rendering } from './types.js';

export interface Placement {
  /** Size of the resized image inside the input. */
  newW: number;
  newH: number;
  /** Left/top padding in input pixels. */
  padX: number;
  padY: number;
  /** Input pixels per source pixel, per axis. */
  sx: number;
  sy: number;
}

/** Where a w×h image lands in an outW×outH input. Letterbox keeps the aspect ratio and centres it. */
export function placement(w: number, h: number, outW: number, outH: number, mode: 'letterbox' | 'stretch'): Placement {
  if (mode === 'stretch') return { newW: outW, newH: outH, padX: 0, padY: 0, sx: outW / w, sy: outH / h };
  const s = Math.min(outW / w, outH / h);
  const newW = Math.max(1, Math.min(outW, Math.round(w * s)));
  const newH = Math.max(1, Math.min(outH, Math.round(h * s)));
  const padX = Math.floor((outW - newW) / 2);
  const padY = Math.floor((outH - newH) / 2);
  return { newW, newH, padX, padY, sx: newW / w, sy: newH / h };
}

interface Tap { idx: Int32Array; wt: Float32Array; start: Int32Array; }

const tapCache = new Map<string, Tap>();

/**
 * Resampling taps from n source samples to m, memoised: the same few sizes recur for every scan (a
 * verifier's ~45 windows per container all have one side; each model's input is fixed).
 */
function taps(n: number, m: number): Tap {
  const key = `${n}:${m}`;
  let t = tapCache.get(key);
  if (!t) {
    t = computeTaps(n, m);
    if (tapCache.size >= 256) tapCache.delete(tapCache.keys().next().value!);
    tapCache.set(key, t);
  }
  return t;
}

/** Area average when shrinking, bilinear when enlarging. */
function computeTaps(n: number, m: number): Tap {
  const idx: number[] = [];
  const wt: number[] = [];
  const start = new Int32Array(m + 1);
  const ratio = n / m;
  for (let j = 0; j < m; j++) {
    start[j] = idx.length;
    if (ratio > 1) {
      const a = j * ratio, b = (j + 1) * ratio;
      for (let i = Math.floor(a); i < Math.min(n, Math.ceil(b)); i++) {
        const c = Math.min(b, i + 1) - Math.max(a, i);
        if (c > 1e-9) { idx.push(i); wt.push(c / ratio); }
      }
    } else {
      const src = Math.min(n - 1, Math.max(0, (j + 0.5) * ratio - 0.5));
      const i0 = Math.floor(src);
      const i1 = Math.min(n - 1, i0 + 1);
      const f = src - i0;
      idx.push(i0); wt.push(1 - f);
      if (f > 0) { idx.push(i1); wt.push(f); }
    }
  }
  start[m] = idx.length;
  return { idx: Int32Array.from(idx), wt: Float32Array.from(wt), start };
}

/**
 * The row buffer of `resize`, kept between calls (it is synchronous, so one per thread serves every call): a
 * verifier's window would otherwise allocate a ~130 kB float buffer, hundreds of times a container. It holds the
 * largest image resized so far (its rows × the output row).
 */
let midBuffer = new Float32Array(0);

/**
 * Resizes interleaved 8-bit pixels; exact and deterministic (no library in between). Separable: rows first
 * into a float32 buffer, then columns. Every output sample is the same sum, in tap order, as the plain
 * four-deep loop (so the bytes never change with the loop layout): the horizontal pass keeps one sum per
 * channel for the common channel counts; the vertical pass sums each sample's taps in a local float64, with a
 * loop per common tap count (1–3), reading rows in order. This runs for every image of every scan, and for
 * each of a verifier's windows (hundreds a container with a dense sweep): the row buffer is reused between
 * calls, and with `into` the result is written there (a view of it is returned) instead of a new buffer.
 */
export function resize(img: Rendering, newW: number, newH: number, into?: Uint8Array): Rendering {
  const { width: w, height: h, channels: ch, data } = img;
  const size = newW * newH * ch;
  if (into && into.length < size) throw new Error(`resize: buffer of ${into.length} bytes for ${newW}×${newH}×${ch}`);
  if (newW === w && newH === h) {
    if (!into) return { width: w, height: h, channels: ch, data: data.slice() };
    into.set(data.subarray(0, size));
    return { width: w, height: h, channels: ch, data: into.subarray(0, size) };
  }
  const tx = taps(w, newW), ty = taps(h, newH);
  const src = data instanceof Uint8Array && data.constructor === Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.length);
  const rowLen = newW * ch;
  if (midBuffer.length < rowLen * h) midBuffer = new Float32Array(rowLen * h);
  const mid = midBuffer;
  horizontal(src, mid, w, h, ch, newW, tx);
  // Vertical pass: per output sample, its source rows' values added in tap order (one local sum, no
  // accumulator row: 2 or 3 taps are the usual case, each with its own loop).
  const out = into ? into.subarray(0, size) : new Uint8Array(size);
  const ys = ty.start, yw = ty.wt, yi = ty.idx;
  for (let i = 0; i < newH; i++) {
    const k0 = ys[i]!, n = ys[i + 1]! - k0, base = i * rowLen;
    if (n === 0) { out.fill(0, base, base + rowLen); continue; } // no source row (not for n, m ≥ 1): the sum is 0
    const w0 = yw[k0]!, o0 = yi[k0]! * rowLen;
    if (n === 1) {
      for (let x = 0; x < rowLen; x++) out[base + x] = clampByte(mid[o0 + x]! * w0);
    } else if (n === 2) {
      const w1 = yw[k0 + 1]!, o1 = yi[k0 + 1]! * rowLen;
      for (let x = 0; x < rowLen; x++) out[base + x] = clampByte(mid[o0 + x]! * w0 + mid[o1 + x]! * w1);
    } else if (n === 3) {
      const w1 = yw[k0 + 1]!, o1 = yi[k0 + 1]! * rowLen, w2 = yw[k0 + 2]!, o2 = yi[k0 + 2]! * rowLen;
      for (let x = 0; x < rowLen; x++) out[base + x] = clampByte(mid[o0 + x]! * w0 + mid[o1 + x]! * w1 + mid[o2 + x]! * w2);
    } else {
      for (let x = 0; x < rowLen; x++) {
        let acc = mid[o0 + x]! * w0;
        for (let k = k0 + 1; k < k0 + n; k++) acc += mid[yi[k]! * rowLen + x]! * yw[k]!;
        out[base + x] = clampByte(acc);
      }
    }
  }
  return { width: newW, height: newH, channels: ch, data: out };
}

/** A resampled value as a byte: rounded half up, clamped to 0–255. */
function clampByte(v: number): number {
  return Math.max(0, Math.min(255, Math.round(v)));
}

/** The horizontal pass of `resize`: one float32 sum per output sample, its taps in order. */
function horizontal(src: Uint8Array, mid: Float32Array, w: number, h: number, ch: number, newW: number, tx: Tap): void {
  const xs = tx.start, xw = tx.wt;
  // source offsets of the taps in samples (index × channels)
  const xo = new Int32Array(tx.idx.length);
  for (let k = 0; k < xo.length; k++) xo[k] = tx.idx[k]! * ch;
  for (let y = 0; y < h; y++) {
    const row = y * w * ch;
    let o = y * newW * ch;
    if (ch === 1) {
      for (let j = 0; j < newW; j++) {
        let s = 0;
        for (let k = xs[j]!, k1 = xs[j + 1]!; k < k1; k++) s += src[row + xo[k]!]! * xw[k]!;
        mid[o++] = s;
      }
    } else if (ch === 2) {
      for (let j = 0; j < newW; j++) {
        const k0 = xs[j]!, k1 = xs[j + 1]!;
        if (k1 - k0 === 2) {
          // the usual case of a verifier's window (slightly shrunk): two taps, the same sums written out
          const p = row + xo[k0]!, q = row + xo[k0 + 1]!, w0 = xw[k0]!, w1 = xw[k0 + 1]!;
          mid[o++] = src[p]! * w0 + src[q]! * w1; mid[o++] = src[p + 1]! * w0 + src[q + 1]! * w1;
          continue;
        }
        let s0 = 0, s1 = 0;
        for (let k = k0; k < k1; k++) {
          const p = row + xo[k]!, wk = xw[k]!;
          s0 += src[p]! * wk; s1 += src[p + 1]! * wk;
        }
        mid[o++] = s0; mid[o++] = s1;
      }
    } else if (ch === 3) {
      for (let j = 0; j < newW; j++) {
        let s0 = 0, s1 = 0, s2 = 0;
        for (let k = xs[j]!, k1 = xs[j + 1]!; k < k1; k++) {
          const p = row + xo[k]!, wk = xw[k]!;
          s0 += src[p]! * wk; s1 += src[p + 1]! * wk; s2 += src[p + 2]! * wk;
        }
        mid[o++] = s0; mid[o++] = s1; mid[o++] = s2;
      }
    } else {
      for (let j = 0; j < newW; j++) {
        for (let c = 0; c < ch; c++) {
          let s = 0;
          for (let k = xs[j]!, k1 = xs[j + 1]!; k < k1; k++) s += src[row + xo[k]! + c]! * xw[k]!;
          mid[o++] = s;
        }
      }
    }
  }
}

/** Converts grey ↔ RGB so a rendering matches the channels a model expects. */
export function toChannels(img: Rendering, channels: 1 | 3): Rendering {
  if (img.channels === channels) return img;
  const n = img.width * img.height;
  const out = new Uint8Array(n * channels);
  if (channels === 3) {
    for (let i = 0; i < n; i++) { const v = img.data[i] as number; out[i * 3] = v; out[i * 3 + 1] = v; out[i * 3 + 2] = v; }
  } else {
    for (let i = 0; i < n; i++) {
      out[i] = Math.round(0.299 * (img.data[i * 3] as number) + 0.587 * (img.data[i * 3 + 1] as number) + 0.114 * (img.data[i * 3 + 2] as number));
    }
  }
  return { width: img.width, height: img.height, channels, data: out };
}

/**
 * Letterboxes (or stretches) into outW×outH with `padValue` around the image. `into`: where the image goes
 * when it fills the input (a stretch), so a caller that reads it at once allocates nothing per image.
 */
export function letterbox(img: Rendering, outW: number, outH: number, mode: 'letterbox' | 'stretch' = 'letterbox', padValue = 114, into?: Uint8Array): { image: Rendering; place: Placement } {
  const place = placement(img.width, img.height, outW, outH, mode);
  // nothing to pad: the resized image is the input (written into `into` when given)
  if (place.newW === outW && place.newH === outH) return { image: resize(img, outW, outH, into), place };
  const r = resize(img, place.newW, place.newH);
  const ch = img.channels;
  const data = new Uint8Array(outW * outH * ch).fill(padValue);
  for (let y = 0; y < place.newH; y++) {
    const src = r.data.subarray(y * place.newW * ch, (y + 1) * place.newW * ch);
    data.set(src, ((y + place.padY) * outW + place.padX) * ch);
  }
  return { image: { width: outW, height: outH, channels: ch, data }, place };
}

/** Interleaved 8-bit → planar CHW float: value = (pixel/255 − mean[c]) / std[c], written at `offset`. */
export function toTensor(img: Rendering, mean: readonly number[], std: readonly number[], out?: Float32Array, offset = 0): Float32Array {
  const n = img.width * img.height;
  const ch = img.channels;
  const t = out ?? new Float32Array(n * ch);
  const lut = new Float64Array(256);
  const data = img.data;
  for (let c = 0; c < ch; c++) {
    const m = mean[c] ?? mean[0] ?? 0;
    const s = std[c] ?? std[0] ?? 1;
    // 256 levels: the same expression per level instead of per pixel
    for (let v = 0; v < 256; v++) lut[v] = (v / 255 - m) / s;
    const base = offset + c * n;
    for (let i = 0, j = c; i < n; i++, j += ch) t[base + i] = lut[data[j]!]!;
  }
  return t;
}

/** Maps a box [x1,y1,x2,y2] from input pixels back to source pixels, clipped to the source. */
export function unplaceBox(b: readonly [number, number, number, number], p: Placement, srcW: number, srcH: number): [number, number, number, number] {
  const cx = (v: number): number => Math.max(0, Math.min(srcW, (v - p.padX) / p.sx));
  const cy = (v: number): number => Math.max(0, Math.min(srcH, (v - p.padY) / p.sy));
  return [cx(b[0]), cy(b[1]), cx(b[2]), cy(b[3])];
}
