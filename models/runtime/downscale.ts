// One shared downscale of a large rendering before every model's own letterbox (issue 8). A full-size
// container rendering (a 40 ft box at 4 mm/px is ~3,000 × 750 px; a raw 16-bit export can be 6,000 × 2,048)
// is resized by each model to a few hundred pixels, and an embedder's tiles are cropped and resized again:
// four to seven passes over the whole image per scan. When twice the largest size any model needs is at most
// 70 % of the rendering's, the rendering is first area-averaged once to that size, and each model (and each
// tile) resizes that instead. Area averages of area averages: every input pixel still averages the
// same patch of the scan, up to the intermediate image's 8-bit rounding and pixel boundaries (the benchmark
// reports how far the outputs move). Boxes and tile positions are mapped back to the rendering's pixels.
import { resize } from './letterbox.js';
import { embeddingTiles } from './tiles.js';
import type { ModelCard, ModelOutput, Rendering } from './types.js';

/**
 * The scale (≤ 1) of the shared downscale: twice the largest scale any model's preprocessing applies to this
 * rendering (its letterbox or stretch, and an embedder's tiles on a long container), capped at 1.
 */
export function sharedScale(cards: readonly ModelCard[], width: number, height: number, tiled: boolean): number {
  let need = 0;
  for (const c of cards) {
    const [, , h, w] = c.input.shape as [unknown, number, number, number];
    need = Math.max(need, c.input.resize === 'stretch' ? Math.max(w / width, h / height) : Math.min(w / width, h / height));
    const tile = tiled && c.output.layout === 'embedding' ? embeddingTiles(width, height)[0] : undefined;
    if (tile) need = Math.max(need, Math.min(w / tile.width, h / height)); // every tile has the same size
  }
  return need > 0 ? Math.min(1, 2 * need) : 1;
}

/** Downscale only when it shrinks each side to this share or less (one extra pass must save several). */
export const MAX_SHARED_SCALE = 0.7;

export interface Shared {
  rendering: Rendering;
  /** Rendering pixels per shared-image pixel, per axis (1: the rendering itself, untouched). */
  sx: number;
  sy: number;
}

/** The shared image for these models, or the rendering itself when a downscale would save too little. */
export function sharedDownscale(r: Rendering, cards: readonly ModelCard[], tiled: boolean): Shared {
  const f = sharedScale(cards, r.width, r.height, tiled);
  if (f > MAX_SHARED_SCALE) return { rendering: r, sx: 1, sy: 1 };
  const w = Math.max(1, Math.round(r.width * f));
  const h = Math.max(1, Math.round(r.height * f));
  return { rendering: resize(r, w, h), sx: r.width / w, sy: r.height / h };
}

/** Maps an output computed on the shared image back to the rendering's pixels (boxes, tile columns). */
export function toRenderingPixels(o: ModelOutput, s: Shared, width: number, height: number): ModelOutput {
  if (s.sx === 1 && s.sy === 1) return o;
  const x = (v: number) => Math.min(width, v * s.sx);
  const y = (v: number) => Math.min(height, v * s.sy);
  return {
    ...o,
    ...(o.detections && { detections: o.detections.map((d) => ({ ...d, box: [x(d.box[0]), y(d.box[1]), x(d.box[2]), y(d.box[3])] as typeof d.box })) }),
    // whole columns: the right edge of the last tile lands exactly on the rendering's right edge
    ...(o.tiles && {
      tiles: o.tiles.map((t) => {
        const x0 = Math.round(t.x * s.sx);
        return { ...t, x: x0, width: Math.min(width, Math.round((t.x + t.width) * s.sx)) - x0 };
      }),
    }),
  };
}
