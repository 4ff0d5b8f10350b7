// One synthetic parcel scan (top-down projection at kV energies): a carton with packing, everyday and
// prohibited items (PARCEL_ITEMS) with a box each and the count per label, rendered in pseudo-colour.
import { PARCEL_ITEMS, PARCEL_PROHIBITED, PARCEL_RESTRICTED, type ParcelItem } from '../../domain/categories.js';
import { renderPseudoColour } from '../runtime/render.js';
import type { Rendering } from '../runtime/types.js';
import { Canvas, detect, place, randomDetector } from './physics.js';
import type { Rng } from './prng.js';

export interface ParcelOptions { mmpp: number; /** Probability of at least one prohibited/restricted item. */ threatRate: number; }

export interface ParcelSample {
  width: number;
  height: number;
  high: Uint16Array;
  low: Uint16Array;
  rendering: Rendering;
  items: Array<{ label: ParcelItem; box: [number, number, number, number] }>;
  counts: Partial<Record<ParcelItem, number>>;
}

type Pts = Array<[number, number]>;
const EVERYDAY = PARCEL_ITEMS.filter((i) => !PARCEL_PROHIBITED.includes(i) && !PARCEL_RESTRICTED.includes(i));
const FLAGGED = [...PARCEL_PROHIBITED, ...PARCEL_RESTRICTED];

/** Item outlines (cm, centred) with their material layers; returns the shapes to draw. */
interface Layer { cls: 'organic' | 'mixed' | 'metal'; pts: Pts; mass: number; }

function rectPts(w: number, h: number, dx = 0, dy = 0): Pts {
  return [[dx - w / 2, dy - h / 2], [dx + w / 2, dy - h / 2], [dx + w / 2, dy + h / 2], [dx - w / 2, dy + h / 2]];
}
function ellipsePts(rx: number, ry: number, dx = 0, dy = 0, n = 16): Pts {
  return Array.from({ length: n }, (_, i): [number, number] => [dx + rx * Math.cos((2 * Math.PI * i) / n), dy + ry * Math.sin((2 * Math.PI * i) / n)]);
}

function itemLayers(r: Rng, label: ParcelItem): Layer[] {
  switch (label) {
    case 'clothes': {
      const w = r.uniform(22, 35), h = r.uniform(18, 30), t = r.uniform(3, 8);
      return [{ cls: 'organic', pts: rectPts(w, h), mass: t * 0.25 }, { cls: 'organic', pts: rectPts(w, 1.5, 0, r.uniform(-h / 4, h / 4)), mass: 1.5 },
        ...(r.bool(0.4) ? [{ cls: 'metal' as const, pts: rectPts(0.6, h * 0.8, w * 0.3), mass: 0.3 }] : [])];
    }
    case 'book': {
      const w = r.uniform(14, 22), h = r.uniform(20, 28);
      return [{ cls: 'organic', pts: rectPts(w, h), mass: r.uniform(1.5, 4) * 0.8 }, { cls: 'organic', pts: rectPts(1.2, h, -w / 2 + 0.6), mass: 1.5 }];
    }
    case 'shoes': {
      const l = r.uniform(24, 30), w = l * 0.36;
      return [{ cls: 'organic', pts: ellipsePts(w / 2, l / 2, -w * 0.6), mass: 6 * 0.45 }, { cls: 'organic', pts: ellipsePts(w / 2, l / 2, w * 0.6), mass: 6 * 0.45 },
        { cls: 'organic', pts: ellipsePts(w / 2.2, l / 6, -w * 0.6, l / 2.8), mass: 3 }, { cls: 'organic', pts: ellipsePts(w / 2.2, l / 6, w * 0.6, l / 2.8), mass: 3 }];
    }
    case 'cosmetics-bottle': {
      const d = r.uniform(3.5, 6), l = r.uniform(9, 15);
      return [{ cls: 'organic', pts: rectPts(d, l), mass: d * 0.8 * 1.0 }, { cls: r.bool(0.5) ? 'mixed' : 'metal', pts: rectPts(d * 0.7, l * 0.2, 0, -l * 0.58), mass: 0.6 }];
    }
    case 'phone':
      return [{ cls: 'mixed', pts: rectPts(7.2, 15), mass: 0.8 * 1.2 }, { cls: 'metal', pts: rectPts(5.5, 7, 0, 1.5), mass: 0.45 }, { cls: 'metal', pts: rectPts(5, 2.5, 0, -5), mass: 0.35 }];
    case 'laptop': {
      const w = r.uniform(30, 36), h = w * 0.68;
      return [{ cls: 'mixed', pts: rectPts(w, h), mass: 1.6 * 1.5 }, { cls: 'metal', pts: rectPts(w * 0.8, h * 0.25, 0, h * 0.3), mass: 0.5 },
        { cls: 'metal', pts: rectPts(w * 0.35, h * 0.3, -w * 0.2, -h * 0.12), mass: 0.3 }, { cls: 'metal', pts: rectPts(w, 0.8, 0, -h / 2 + 0.4), mass: 0.8 }];
    }
    case 'toy': {
      const s = r.uniform(8, 18);
      const pts: Pts = Array.from({ length: 9 }, (_, i): [number, number] => { const a = (2 * Math.PI * i) / 9, q = s * r.uniform(0.35, 0.6); return [q * Math.cos(a), q * Math.sin(a)]; });
      return [{ cls: 'organic', pts, mass: r.uniform(1.5, 4) * 0.9 }, ...(r.bool(0.5) ? [{ cls: 'metal' as const, pts: rectPts(1.4, 5), mass: 1.4 }] : [])];
    }
    case 'knife': {
      const l = r.uniform(0.8, 1.3);
      return [{ cls: 'metal', pts: [[-2 * l, -1.4], [12 * l, -1.6], [17 * l, 0], [12 * l, 1.2], [-2 * l, 1.2]], mass: 0.25 * 7.85 },
        { cls: 'organic', pts: rectPts(11 * l, 2.6, -8 * l), mass: 2.2 }];
    }
    case 'gun':
      return [{ cls: 'metal', pts: [[-10, -6], [10, -6], [10, -2], [0, -2], [-1, 7], [-6, 7], [-5, -2], [-10, -2]], mass: 2.5 * 7.85 * r.uniform(0.6, 1) }];
    case 'battery': {
      const cells = r.int(2, 4);
      return [{ cls: 'mixed', pts: rectPts(cells * 2 + 1.5, 14), mass: 0.5 }, ...Array.from({ length: cells }, (_, i) => ({ cls: 'metal' as const, pts: rectPts(1.8, 6.5, -cells + 1 + i * 2, 0), mass: 1.8 * 3.5 }))];
    }
    case 'lighter':
      return [{ cls: 'organic', pts: rectPts(2.4, 7.5), mass: 1.2 * 1.1 }, { cls: 'metal', pts: rectPts(2.2, 1.6, 0, -4.3), mass: 0.6 * 7.85 * 0.3 }];
    case 'aerosol': {
      const d = r.uniform(4.5, 6.5), l = r.uniform(14, 20);
      return [{ cls: 'metal', pts: rectPts(d, l), mass: 0.06 * 2 * 7.85 + 0.5 }, { cls: 'organic', pts: rectPts(d * 0.9, l * 0.95), mass: d * 0.6 }, { cls: 'mixed', pts: rectPts(d * 0.6, 2, 0, -l / 2 - 1), mass: 1 }];
    }
    case 'liquid': {
      const d = r.uniform(6.5, 9), l = r.uniform(20, 30), glass = r.bool(0.4);
      return [{ cls: 'organic', pts: [[-d / 2, -l / 2 + 4], [-1.3, -l / 2], [1.3, -l / 2], [d / 2, -l / 2 + 4], [d / 2, l / 2], [-d / 2, l / 2]], mass: d * 0.8 },
        ...(glass ? [{ cls: 'mixed' as const, pts: rectPts(d, l - 2, 0, 1), mass: 0.8 * 2.5 }] : [])];
    }
    case 'scissors': {
      const b = r.uniform(9, 14);
      return [{ cls: 'metal', pts: [[0, -0.5], [b, -0.2], [b, 0.3], [0, 0.8]], mass: 0.3 * 7.85 }, { cls: 'metal', pts: [[0, -0.8], [b * 0.95, -1.6], [b * 0.95, -1.1], [0, 0.4]], mass: 0.3 * 7.85 },
        { cls: 'metal', pts: ellipsePts(2.2, 1.6, -3, -1.8, 10), mass: 0.5 }, { cls: 'metal', pts: ellipsePts(2.2, 1.6, -3, 1.8, 10), mass: 0.5 }];
    }
    case 'ammunition': {
      const n = r.int(3, 12), rows = Math.ceil(n / 4);
      const layers: Layer[] = [{ cls: 'organic', pts: rectPts(5.2, rows * 1.3 + 0.6), mass: 0.3 },
        ...Array.from({ length: n }, (_, i): Layer => ({ cls: 'metal', pts: rectPts(1.0, 3.4, -1.8 + (i % 4) * 1.2, -((rows - 1) * 1.3) / 2 + Math.floor(i / 4) * 1.3), mass: 0.9 * 8.5 }))];
      return layers.map((l) => ({ ...l, pts: l.pts.map(([x, y]): [number, number] => [y * 2.2, x * 1.4]) }));
    }
  }
}

export function parcelSample(r: Rng, o: ParcelOptions): ParcelSample {
  const cmPerPx = o.mmpp / 10;
  const bw = r.uniform(28, 60), bh = r.uniform(22, Math.min(bw, 45)), depth = r.uniform(12, 40);
  const margin = r.uniform(3, 10);
  const width = Math.round((bw + 2 * margin) / cmPerPx), height = Math.round((bh + 2 * margin) / cmPerPx);
  const cv = new Canvas(width, height, cmPerPx);
  const x0 = margin / cmPerPx, y0 = margin / cmPerPx, x1 = x0 + bw / cmPerPx, y1 = y0 + bh / cmPerPx;
  // carton: top and bottom flaps, walls seen edge-on, loose packing
  cv.rect('organic', x0, y0, x1, y1, 2 * 0.5 * 0.2);
  const wall = 0.5 / cmPerPx;
  for (const [a, b, c, d] of [[x0, y0, x1, y0 + wall], [x0, y1 - wall, x1, y1], [x0, y0, x0 + wall, y1], [x1 - wall, y0, x1, y1]] as const) cv.rect('organic', a, b, c, d, depth * 0.2);
  if (r.bool(0.6)) { cv.rect('organic', x0, y0, x1, y1, depth * 0.02); cv.texture('organic', x0, y0, x1, y1, r, 0.5); }

  const wanted: ParcelItem[] = [];
  const nKinds = r.weighted([1, 2, 3, 4], [0.3, 0.35, 0.25, 0.1]);
  for (let k = 0; k < nKinds; k++) {
    const label = r.pick(EVERYDAY);
    const n = r.weighted([1, 2, 3, 4], [0.5, 0.25, 0.15, 0.1]);
    for (let i = 0; i < n; i++) wanted.push(label);
  }
  if (r.bool(o.threatRate)) for (let k = r.weighted([1, 2], [0.75, 0.25]); k > 0; k--) {
    const label = r.pick(FLAGGED);
    for (let i = r.weighted([1, 2, 3], [0.7, 0.2, 0.1]); i > 0; i--) wanted.push(label);
  }
  const items: ParcelSample['items'] = [];
  for (const label of r.shuffle(wanted)) {
    const layers = itemLayers(r, label);
    for (let tries = 0; tries < 12; tries++) {
      const angle = r.uniform(-Math.PI, Math.PI);
      const cx = r.uniform(x0, x1), cy = r.uniform(y0, y1);
      const placed = layers.map((l) => ({ ...l, pts: place(l.pts, cx, cy, angle, 1 / cmPerPx) }));
      let bx0 = Infinity, by0 = Infinity, bx1 = -Infinity, by1 = -Infinity;
      for (const l of placed) for (const [x, y] of l.pts) { bx0 = Math.min(bx0, x); by0 = Math.min(by0, y); bx1 = Math.max(bx1, x); by1 = Math.max(by1, y); }
      if (bx0 < x0 + wall || by0 < y0 + wall || bx1 > x1 - wall || by1 > y1 - wall) continue;
      const area = (bx1 - bx0) * (by1 - by0);
      const clash = items.some(({ box }) => {
        const iw = Math.min(bx1, box[2]) - Math.max(bx0, box[0]), ih = Math.min(by1, box[3]) - Math.max(by0, box[1]);
        return iw > 0 && ih > 0 && (iw * ih) / Math.min(area, (box[2] - box[0]) * (box[3] - box[1])) > 0.2;
      });
      if (clash) continue;
      for (const l of placed) cv.polygon(l.cls, l.pts, l.mass);
      items.push({ label, box: [bx0 - 0.5, by0 - 0.5, bx1 + 0.5, by1 + 0.5] });
      break;
    }
  }
  const det = randomDetector(r);
  const { high, low } = detect(cv, 'kv', det, r);
  const rendering = renderPseudoColour(high, low, width, height, 16);
  const counts: Partial<Record<ParcelItem, number>> = {};
  for (const it of items) counts[it.label] = (counts[it.label] ?? 0) + 1;
  return { width, height, high, low, rendering, items, counts };
}
