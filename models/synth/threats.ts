// Concealments planted in container cargo (CONTAINER_THREATS): each painter draws the item's projected
// mass at a given place and returns its pixel box, so the label is exactly where the mass went.
import type { ContainerThreat } from '../../domain/categories.js';
import { place, type Canvas } from './physics.js';
import type { Rng } from './prng.js';
import type { Slot } from './cargo.js';

/**
 * How visible a planted item is, measured on the canvas where it was planted (g/cm², all materials together):
 * `itemGcm2`, the most the item adds along one ray (a knife edge-on: its blade's width in steel × 7.85);
 * `clutterGcm2`, the mean of what the container and its cargo already put over the item's box. A 1 cm blade
 * (7.9 g/cm²) over 100 g/cm² of machinery changes the transmission by a few per cent, within the noise.
 */
export interface Visibility { itemGcm2: number; clutterGcm2: number; }

export interface Planted { label: ContainerThreat; box: [number, number, number, number]; visibility?: Visibility; }

type Pts = Array<[number, number]>;

function bbox(pts: Pts, pad = 0.5): [number, number, number, number] {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const [x, y] of pts) { x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y); }
  return [x0 - pad, y0 - pad, x1 + pad, y1 + pad];
}

// outlines in cm, centred on the origin
const PISTOL: Pts = [[-10, -6], [10, -6], [10, -2], [0, -2], [-1, 7], [-6, 7], [-5, -2], [-10, -2]];
const RIFLE: Pts = [[-48, -3], [30, -3], [30, -1.5], [48, -1.5], [48, 1], [30, 1], [28, 4], [8, 4], [4, 12], [0, 12], [0, 4], [-20, 4], [-48, 9], [-48, -3]];
const KNIFE: Pts = [[-14, -1.5], [6, -1.8], [16, 0], [6, 1.2], [-14, 1.2]];

/** Draws one threat of `label` centred at (cx, cy) and returns its boxes (a bundle gives one per item). */
export function plant(cv: Canvas, r: Rng, label: ContainerThreat, cx: number, cy: number): Planted[] {
  const k = 1 / cv.cmPerPx;
  const out: Planted[] = [];
  const poly = (cls: 'organic' | 'mixed' | 'metal', shape: Pts, angle: number, mass: number, scale = 1): void => {
    const pts = place(shape, cx, cy, angle, k * scale);
    cv.polygon(cls, pts, mass);
    out.push({ label, box: bbox(pts) });
  };
  const block = (cls: 'organic' | 'mixed' | 'metal', wCm: number, hCm: number, mass: number, grid: number, gridMass: number): void => {
    const w = wCm * k, h = hCm * k;
    const x0 = cx - w / 2, y0 = cy - h / 2;
    cv.rect(cls, x0, y0, x0 + w, y0 + h, mass);
    for (let gx = x0 + grid * k; gx < x0 + w - 0.5; gx += grid * k) cv.rect(cls, gx - 0.5, y0, gx + 0.5, y0 + h, gridMass);
    out.push({ label, box: [x0 - 0.5, y0 - 0.5, x0 + w + 0.5, y0 + h + 0.5] });
  };
  switch (label) {
    case 'firearm': {
      const rifle = r.bool(0.5);
      // steel thickness along the beam, cm × 7.85 (frames are partly hollow)
      poly('metal', rifle ? RIFLE : PISTOL, r.uniform(-0.6, 0.6), r.uniform(2, 4) * 7.85, r.uniform(0.85, 1.15));
      break;
    }
    case 'knife': {
      const pack = r.bool(0.5);
      // a blade edge-on to the beam shows its width in steel; a pack of blades adds them up
      const mass = pack ? r.int(10, 40) * 0.3 * 7.85 : r.uniform(0.6, 3) * 7.85;
      poly('metal', KNIFE, r.uniform(-Math.PI, Math.PI), mass, r.uniform(0.9, 1.6));
      break;
    }
    case 'ammunition':
      block('metal', r.uniform(25, 45), r.uniform(15, 30), r.uniform(4, 8) * 7.85 * 0.6, 2, 5);
      break;
    case 'cigarettes':
      block('organic', r.uniform(50, 120), r.uniform(40, 90), r.uniform(50, 120) * 0.35, 5, 2);
      cv.rect('mixed', cx - 20 * k, cy - 1, cx + 20 * k, cy + 1, 3);
      break;
    case 'drugs': {
      const nx = r.int(2, 5), ny = r.int(2, 5), bw = 30 * k, bh = 6 * k;
      for (let i = 0; i < nx; i++) for (let j = 0; j < ny; j++) {
        const x0 = cx - (nx * bw) / 2 + i * bw, y0 = cy - (ny * bh) / 2 + j * bh;
        cv.rect('organic', x0 + 0.5, y0 + 0.5, x0 + bw - 0.5, y0 + bh - 0.5, r.uniform(40, 80) * 1.2);
      }
      out.push({ label, box: [cx - (nx * bw) / 2 - 0.5, cy - (ny * bh) / 2 - 0.5, cx + (nx * bw) / 2 + 0.5, cy + (ny * bh) / 2 + 0.5] });
      break;
    }
    case 'currency':
      block('organic', r.uniform(30, 60), r.uniform(20, 45), r.uniform(40, 80) * 0.9, 15.5, 8);
      break;
    case 'ivory': {
      const len = r.uniform(100, 180), th = r.uniform(8, 15);
      const pts: Pts = [];
      for (let i = 0; i <= 10; i++) { const t = i / 10; pts.push([(t - 0.5) * len, -Math.sin(t * Math.PI) * len * 0.18 - th * (1 - t) / 2]); }
      for (let i = 10; i >= 0; i--) { const t = i / 10; pts.push([(t - 0.5) * len, -Math.sin(t * Math.PI) * len * 0.18 + th * (1 - t) / 2 + 1]); }
      poly('mixed', pts, r.uniform(-0.5, 0.5), r.uniform(8, 14) * 1.9);
      break;
    }
    case 'hidden-compartment':
      throw new Error('hidden-compartment is planted by the container builder (it needs the end wall)');
  }
  return out;
}

/** A false end wall `depthCm` in front of the real one, with packed goods in the gap. */
export function falseWall(cv: Canvas, r: Rng, s: Slot, atLeft: boolean, endX: number): Planted {
  const d = cv.px(r.uniform(40, 140));
  const wx = atLeft ? endX + d : endX - d;
  cv.rect('metal', wx - cv.px(2), s.yCeil, wx + cv.px(2), s.yFloor, r.uniform(60, 110));
  const [a, b] = atLeft ? [endX, wx] : [wx, endX];
  if (r.bool(0.7)) cv.rect(r.pick(['organic', 'metal'] as const), a + 2, s.yFloor - (s.yFloor - s.yCeil) * r.uniform(0.3, 0.9), b - 2, s.yFloor, r.uniform(20, 80));
  return { label: 'hidden-compartment', box: [a, s.yCeil, b, s.yFloor] };
}
