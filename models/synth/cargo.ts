// Cargo painters: each CARGO_CATEGORIES kind drawn as projected mass in a region of the container
// (side view, beam across the 235 cm interior width), with the shapes reviewers know: carton rows, bags,
// piles, drums, rings, rolls, coils, crates, car bodies.
import type { CargoCategory } from '../../domain/categories.js';
import type { Canvas } from './physics.js';
import type { Rng } from './prng.js';

/** Interior slot to fill, in pixels: x from x0 to x1, floor top at yFloor, ceiling at yCeil (< yFloor). */
export interface Slot { x0: number; x1: number; yFloor: number; yCeil: number; }

/** Interior width along the beam, cm. */
const DEPTH = 235;

type Painter = (cv: Canvas, r: Rng, s: Slot) => void;

/** Rows of boxes of size (wCm × hCm) stacked from the floor up to `topCm`, each given mass `mass(r)`. */
function stack(cv: Canvas, r: Rng, s: Slot, wCm: number, hCm: number, topCm: number, draw: (x0: number, y0: number, x1: number, y1: number) => void): void {
  const w = cv.px(wCm), h = cv.px(hCm);
  const top = Math.max(s.yCeil, s.yFloor - cv.px(topCm));
  for (let y1 = s.yFloor; y1 - h >= top - 0.5 * h; y1 -= h) {
    const shift = r.bool(0.5) ? r.uniform(0, w * 0.5) : 0;
    for (let x0 = s.x0 + shift; x0 + w <= s.x1 + 0.01; x0 += w) draw(x0, Math.max(top, y1 - h), x0 + w, y1);
  }
}

function cartons(cv: Canvas, r: Rng, s: Slot, wCm: number, hCm: number, topCm: number, density: number, cls: 'organic' | 'mixed' = 'organic'): void {
  const gap = cv.px(r.uniform(0.3, 1.2));
  stack(cv, r, s, wCm * r.uniform(0.9, 1.1), hCm * r.uniform(0.9, 1.1), topCm, (x0, y0, x1, y1) => {
    const m = DEPTH * density * r.uniform(0.85, 1.15);
    cv.rect(cls, x0 + gap, y0 + gap, x1 - gap, y1 - gap, m);
    cv.rect('organic', x0, y0, x1, y1, DEPTH * 0.02); // cardboard
  });
}

function pallets(cv: Canvas, r: Rng, s: Slot, palletCm: number): number {
  const h = cv.px(14);
  for (let x = s.x0; x + cv.px(palletCm) <= s.x1 + 0.01; x += cv.px(palletCm + r.uniform(0, 5))) {
    cv.rect('organic', x, s.yFloor - h, x + cv.px(palletCm), s.yFloor - h + cv.px(2.2), DEPTH * 0.55);
    for (const f of [0, 0.45, 0.9]) cv.rect('organic', x + cv.px(palletCm * f), s.yFloor - h, x + cv.px(palletCm * f + 10), s.yFloor, DEPTH * 0.55);
  }
  return h;
}

const bulkGrain: Painter = (cv, r, s) => {
  if (r.bool(0.5)) {
    // loose in a liner bag: a pile with an uneven top, nearly full height
    const top = s.yFloor - (s.yFloor - s.yCeil) * r.uniform(0.7, 0.97);
    const ph = r.uniform(0, 6), amp = cv.px(r.uniform(5, 25));
    cv.field('organic', s.x0, s.yCeil, s.x1, s.yFloor, (x, y) => {
      const t = top + amp * Math.sin(x / cv.px(80) + ph);
      return y > t ? DEPTH * 0.75 : 0;
    });
    cv.texture('organic', s.x0, s.yCeil, s.x1, s.yFloor, r, 0.12);
  } else {
    // 25–50 kg sacks: small rounded bags in rows
    const bw = cv.px(r.uniform(55, 90)), bh = cv.px(r.uniform(13, 20));
    for (let y = s.yFloor; y - bh > s.yCeil + (s.yFloor - s.yCeil) * r.uniform(0, 0.2); y -= bh) {
      const off = r.uniform(0, bw);
      for (let x = s.x0 - off; x < s.x1; x += bw) {
        const cx = x + bw / 2;
        if (cx < s.x0 || cx > s.x1) continue;
        cv.ellipsoid('organic', cx, y - bh / 2, bw / 2, bh / 1.6, DEPTH * 0.36, 0.75);
      }
    }
  }
};

const sugar: Painter = (cv, r, s) => {
  // 1 t jumbo bags, one or two tiers, loops on top
  const bw = cv.px(r.uniform(95, 115)), bh = cv.px(r.uniform(100, 125));
  const tiers = s.yFloor - s.yCeil > 2.1 * bh && r.bool(0.5) ? 2 : 1;
  for (let t = 0; t < tiers; t++) {
    for (let x = s.x0; x + bw <= s.x1 + 1; x += bw * r.uniform(1.0, 1.05)) {
      const cy = s.yFloor - bh * (t + 0.5);
      cv.field('organic', x, cy - bh / 2, x + bw, cy + bh / 2, (px, py) => {
        const u = (px - x - bw / 2) / (bw / 2), v = (py - cy) / (bh / 2);
        const q = 1 - Math.pow(Math.abs(u), 4) - Math.pow(Math.abs(v), 4);
        return q > 0 ? DEPTH * 0.85 * 0.9 * Math.pow(q, 0.25) : 0;
      });
      cv.rect('organic', x + bw * 0.2, cy - bh / 2 - cv.px(12), x + bw * 0.26, cy - bh / 2, DEPTH * 0.05);
      cv.rect('organic', x + bw * 0.74, cy - bh / 2 - cv.px(12), x + bw * 0.8, cy - bh / 2, DEPTH * 0.05);
    }
  }
};

const frozenCartons: Painter = (cv, r, s) => {
  cartons(cv, r, s, r.uniform(35, 60), r.uniform(15, 25), r.uniform(180, 225), r.uniform(0.55, 0.75));
};

const fruitVeg: Painter = (cv, r, s) => {
  const ph = pallets(cv, r, s, 120);
  const sub = { ...s, yFloor: s.yFloor - ph };
  const cw = r.uniform(40, 60), chh = r.uniform(20, 30);
  const fr = cv.px(r.uniform(3, 6));
  stack(cv, r, sub, cw, chh, r.uniform(170, 215), (x0, y0, x1, y1) => {
    cv.rect('organic', x0, y0, x1, y1, DEPTH * 0.03);
    for (let i = 0; i < ((x1 - x0) * (y1 - y0)) / (fr * fr * 2.5); i++) {
      cv.ellipsoid('organic', r.uniform(x0 + fr, x1 - fr), r.uniform(y0 + fr, y1 - fr), fr, fr, DEPTH * 0.09, 0.9);
    }
  });
};

const liquids: Painter = (cv, r, s) => {
  const kind = r.pick(['drums', 'ibc', 'bottles'] as const);
  if (kind === 'drums') {
    const d = cv.px(58), h = cv.px(88);
    const tiers = s.yFloor - s.yCeil > 2.2 * h ? r.int(1, 2) : 1;
    const fill = r.uniform(0.85, 0.98);
    for (let t = 0; t < tiers; t++) {
      for (let x = s.x0; x + d <= s.x1 + 1; x += d * 1.02) {
        const y1 = s.yFloor - t * h * 1.03, y0 = y1 - h;
        // 4 drums across the beam: chord profile, liquid up to the fill level, steel hoops and chimes
        cv.cylinder('organic', x + d / 2, y0 + h * (1 - fill), y1, d / 2, 4 * 1.0);
        cv.cylinder('metal', x + d / 2, y0, y1, d / 2, 4 * 0.012);
        for (const f of [0.02, 0.33, 0.66, 0.98]) cv.rect('metal', x, y0 + h * f - 1, x + d, y0 + h * f + 1, 4 * 0.4);
      }
    }
  } else if (kind === 'ibc') {
    const w = cv.px(120), h = cv.px(116);
    for (let x = s.x0; x + w <= s.x1 + 1; x += w * 1.02) {
      const y0 = s.yFloor - h;
      cv.rect('organic', x + 2, y0 + h * r.uniform(0.05, 0.3), x + w - 2, s.yFloor - cv.px(15), 2 * 100 * 1.0);
      for (let k = 0; k <= 6; k++) cv.rect('metal', x + (w * k) / 6 - 0.7, y0, x + (w * k) / 6 + 0.7, s.yFloor, 2 * 1.5);
      for (let k = 0; k <= 4; k++) cv.rect('metal', x, y0 + (h * k) / 4 - 0.7, x + w, y0 + (h * k) / 4 + 0.7, 2 * 4);
    }
  } else {
    const bw = cv.px(r.uniform(6, 10)), bh = cv.px(r.uniform(22, 32));
    stack(cv, r, s, 40, 34, r.uniform(150, 220), (x0, y0, x1, y1) => {
      cv.rect('organic', x0, y0, x1, y1, DEPTH * 0.03);
      const glass = r.bool(0.6);
      for (let x = x0 + 1; x + bw < x1; x += bw * 1.1) {
        cv.cylinder('organic', x + bw / 2, y1 - bh, y1 - 1, bw / 2, 6 * 0.9);
        if (glass) cv.cylinder('mixed', x + bw / 2, y1 - bh, y1 - 1, bw / 2, 6 * 0.08);
      }
    });
  }
};

const tyres: Painter = (cv, r, s) => {
  const ro = cv.px(r.uniform(30, 55)), ri = ro * r.uniform(0.55, 0.7);
  const rows = Math.max(1, Math.floor((s.yFloor - s.yCeil) / (2 * ro * 0.8)));
  for (let row = 0; row < rows; row++) {
    const cy = s.yFloor - ro - row * ro * 1.6;
    for (let x = s.x0 + ro + r.uniform(0, ro); x + ro <= s.x1; x += ro * r.uniform(0.9, 1.3)) {
      // several tyres stand across the beam at slightly different offsets: rings with steel belts
      const n = r.int(2, 5);
      const dx = r.uniform(-0.1, 0.1) * ro;
      cv.ring('organic', x + dx, cy, ro, ri, n * 22 * 1.15);
      cv.ring('metal', x + dx, cy, ro * 0.97, ro * 0.9, n * 0.6);
      cv.ring('metal', x + dx, cy, ri * 1.08, ri, n * 1.5);
    }
  }
};

const paperRolls: Painter = (cv, r, s) => {
  const d = cv.px(r.uniform(90, 150)), h = Math.min(s.yFloor - s.yCeil, cv.px(r.uniform(100, 250)));
  const tiers = s.yFloor - s.yCeil > 2.05 * h ? 2 : 1;
  for (let t = 0; t < tiers; t++) {
    for (let x = s.x0; x + d <= s.x1 + 1; x += d * r.uniform(1.0, 1.08)) {
      const y1 = s.yFloor - t * h, cx = x + d / 2;
      const rc = cv.px(7.6);
      cv.field('organic', x, y1 - h, x + d, y1, (px) => {
        const u = px - cx;
        const full = 2 * Math.sqrt(Math.max(0, (d / 2) ** 2 - u * u));
        const core = 2 * Math.sqrt(Math.max(0, rc * rc - u * u));
        return (full - core) * cv.cmPerPx * 0.75 * 1.6;
      });
    }
  }
};

const textiles: Painter = (cv, r, s) => {
  cartons(cv, r, s, r.uniform(50, 70), r.uniform(30, 45), r.uniform(200, 240), r.uniform(0.15, 0.3));
  cv.texture('organic', s.x0, s.yCeil, s.x1, s.yFloor, r, 0.2);
};

const woodFurniture: Painter = (cv, r, s) => {
  if (r.bool(0.5)) {
    // sawn timber packs: boards with sticker gaps, horizontal layers
    const packW = cv.px(r.uniform(200, 500)), packH = cv.px(r.uniform(90, 120));
    const board = cv.px(r.uniform(2.5, 5)), gap = cv.px(r.uniform(0.5, 2.5));
    for (let x = s.x0; x < s.x1 - cv.px(50); x += packW + cv.px(5)) {
      for (let yb = s.yFloor; yb - packH >= s.yCeil; yb -= packH + cv.px(10)) {
        for (let y = yb - board; y > yb - packH; y -= board + gap) cv.rect('organic', x, y, Math.min(s.x1, x + packW), y + board, DEPTH * 0.9 * 0.55);
        cv.rect('organic', x, yb - cv.px(10), Math.min(s.x1, x + packW), yb, DEPTH * 0.2);
      }
    }
  } else {
    // furniture: frames, panels and legs in light cartons, a few metal fittings
    stack(cv, r, s, r.uniform(80, 160), r.uniform(60, 110), r.uniform(160, 230), (x0, y0, x1, y1) => {
      cv.rect('organic', x0, y0, x1, y1, DEPTH * 0.02);
      const t = cv.px(r.uniform(3, 6));
      cv.rect('organic', x0 + t, y0 + t, x1 - t, y0 + 2 * t, DEPTH * 0.3);
      cv.rect('organic', x0 + t, y0 + t, x0 + 2 * t, y1 - t, DEPTH * 0.3);
      cv.rect('organic', x1 - 2 * t, y0 + t, x1 - t, y1 - t, DEPTH * 0.3);
      cv.rect('organic', x0 + t, (y0 + y1) / 2, x1 - t, (y0 + y1) / 2 + t, DEPTH * 0.2);
      cv.rect('metal', x0 + 2 * t, y0 + 2 * t, x0 + 2 * t + 1.5, y0 + 2 * t + 1.5, 10);
    });
  }
};

const stone: Painter = (cv, r, s) => {
  if (r.bool(0.5)) {
    // slabs on A-frames: tilted dense plates
    const fw = cv.px(r.uniform(200, 300)), sh = Math.min(s.yFloor - s.yCeil, cv.px(r.uniform(150, 200)));
    for (let x = s.x0; x + fw <= s.x1 + 1; x += fw + cv.px(20)) {
      const lean = cv.px(r.uniform(10, 25));
      cv.polygon('mixed', [[x, s.yFloor], [x + fw, s.yFloor], [x + fw - lean, s.yFloor - sh], [x + lean, s.yFloor - sh]], r.uniform(20, 40) * 2 * 2.7);
      cv.polygon('metal', [[x + fw / 2 - 2, s.yFloor], [x + fw / 2 + 2, s.yFloor], [x + fw / 2 + 1, s.yFloor - sh - 3], [x + fw / 2 - 1, s.yFloor - sh - 3]], 40);
    }
  } else {
    // crates of tiles or glass sheets: dense boxes on pallets, low stacks (weight limit)
    const ph = pallets(cv, r, s, 110);
    cartons(cv, r, { ...s, yFloor: s.yFloor - ph }, r.uniform(100, 120), r.uniform(40, 70), r.uniform(60, 130), r.uniform(0.35, 0.6), 'mixed');
  }
};

const ironSteel: Painter = (cv, r, s) => {
  const kind = r.pick(['coils', 'bars', 'plates'] as const);
  if (kind === 'coils') {
    // few coils on cradles in the middle of the floor: massive annuli with the eye along the beam
    const ro = cv.px(r.uniform(50, 90)), ri = ro * r.uniform(0.3, 0.45);
    const n = Math.max(1, Math.min(r.int(1, 4), Math.floor((s.x1 - s.x0) / (2.4 * ro))));
    const span = (s.x1 - s.x0) / n;
    for (let i = 0; i < n; i++) {
      const cx = s.x0 + span * (i + 0.5), cy = s.yFloor - cv.px(15) - ro;
      cv.ring('metal', cx, cy, ro, ri, r.uniform(90, 150) * 7.85 * 0.95);
      cv.rect('organic', cx - ro, s.yFloor - cv.px(15), cx + ro, s.yFloor, DEPTH * 0.4);
    }
  } else if (kind === 'bars') {
    const bh = cv.px(r.uniform(3, 12)), layers = r.int(3, 10);
    for (let k = 0; k < layers; k++) {
      const y = s.yFloor - cv.px(8) - k * bh * 1.15;
      cv.rect('metal', s.x0 + r.uniform(0, 10), y - bh, s.x1 - r.uniform(0, 10), y, r.uniform(0.1, 0.3) * DEPTH * 7.85 * 0.3);
      if (k % 3 === 0) cv.rect('organic', s.x0, y, s.x1, y + cv.px(8), DEPTH * 0.1);
    }
  } else {
    const th = cv.px(r.uniform(15, 40));
    cv.rect('metal', s.x0 + 5, s.yFloor - th - cv.px(10), s.x1 - 5, s.yFloor - cv.px(10), r.uniform(8, 20) * 7.85);
    for (let x = s.x0 + 10; x < s.x1; x += cv.px(100)) cv.rect('organic', x, s.yFloor - cv.px(10), x + cv.px(10), s.yFloor, DEPTH * 0.5);
  }
};

const machinery: Painter = (cv, r, s) => {
  if (r.bool(0.5)) {
    // crated machines: dense irregular parts inside a timber crate
    let x = s.x0;
    while (x < s.x1 - cv.px(80)) {
      const w = Math.min(s.x1 - x, cv.px(r.uniform(100, 250))), h = Math.min(s.yFloor - s.yCeil - 2, cv.px(r.uniform(100, 220)));
      const y1 = s.yFloor;
      cv.rect('organic', x, y1 - h, x + w, y1, 2 * 2.5 * 0.6);
      cv.rect('organic', x, y1 - cv.px(12), x + w, y1, DEPTH * 0.3);
      for (let k = 0; k < r.int(3, 9); k++) {
        const pw = r.uniform(0.15, 0.6) * w, phh = r.uniform(0.15, 0.6) * h;
        const px0 = r.uniform(x + 4, x + w - pw - 4), py0 = r.uniform(y1 - h + 4, y1 - phh - cv.px(12));
        if (r.bool(0.5)) cv.rect('metal', px0, py0, px0 + pw, py0 + phh, r.uniform(5, 60));
        else cv.ellipsoid(r.bool(0.7) ? 'metal' : 'mixed', px0 + pw / 2, py0 + phh / 2, pw / 2, phh / 2, r.uniform(5, 30), 7.85);
        if (r.bool(0.5)) cv.rect('metal', px0, py0 + phh / 2 - 1, px0 + pw * 1.3, py0 + phh / 2 + 1, r.uniform(20, 60));
      }
      x += w + cv.px(r.uniform(5, 30));
    }
  } else {
    // electronics in cartons: many small mixed/metal components in a regular grid
    stack(cv, r, s, r.uniform(40, 70), r.uniform(30, 50), r.uniform(170, 230), (x0, y0, x1, y1) => {
      cv.rect('organic', x0, y0, x1, y1, DEPTH * 0.06);
      const n = r.int(2, 4);
      for (let i = 0; i < n; i++) {
        const yy = y0 + ((i + 0.5) * (y1 - y0)) / n;
        cv.rect('mixed', x0 + 2, yy - 1.5, x1 - 2, yy + 1.5, DEPTH * 0.12);
        cv.rect('metal', x0 + (x1 - x0) * 0.3, yy - 1, x0 + (x1 - x0) * 0.45, yy + 1, DEPTH * 0.05);
      }
    });
  }
};

const vehicles: Painter = (cv, r, s) => {
  const len = cv.px(r.uniform(380, 480)), h = cv.px(r.uniform(140, 175));
  for (let x = s.x0 + cv.px(10); x + len <= s.x1; x += len + cv.px(r.uniform(20, 60))) {
    const yb = s.yFloor - cv.px(18);
    const wr = cv.px(32);
    const body: Array<[number, number]> = [
      [x, yb - wr * 0.6], [x + len * 0.02, yb - h * 0.55], [x + len * 0.28, yb - h * 0.62], [x + len * 0.38, yb - h],
      [x + len * 0.75, yb - h * 0.98], [x + len * 0.92, yb - h * 0.6], [x + len, yb - h * 0.5], [x + len, yb - wr * 0.6],
    ];
    cv.polygon('metal', body, 2 * 0.08 * 7.85 * 3);
    cv.polygon('mixed', [[x + len * 0.4, yb - h * 0.95], [x + len * 0.72, yb - h * 0.94], [x + len * 0.82, yb - h * 0.62], [x + len * 0.33, yb - h * 0.62]], 2 * 0.5 * 2.5);
    cv.rect('metal', x + len * 0.05, yb - h * 0.55, x + len * 0.25, yb - wr * 0.8, 60 * 7.85 * 0.4);
    cv.rect('organic', x + len * 0.42, yb - h * 0.6, x + len * 0.7, yb - wr, 150 * 0.15);
    for (const f of [0.16, 0.8]) {
      const cx = x + len * f, cy = yb - wr + cv.px(18);
      cv.ring('organic', cx, cy, wr, wr * 0.65, 2 * 20 * 1.15);
      cv.ring('metal', cx, cy, wr * 0.65, wr * 0.2, 2 * 0.6 * 7.85);
      cv.ring('metal', cx, cy, wr * 0.2, 0, 2 * 5 * 7.85);
    }
    cv.rect('metal', x + len * 0.1, yb - cv.px(12), x + len * 0.9, yb - cv.px(6), 2 * 0.5 * 7.85);
  }
};

export const PAINTERS: Record<Exclude<CargoCategory, 'empty'>, Painter> = {
  'bulk-grain': bulkGrain,
  sugar,
  'frozen-cartons': frozenCartons,
  'fruit-veg': fruitVeg,
  liquids,
  tyres,
  'paper-rolls': paperRolls,
  'textiles-cartons': textiles,
  'wood-furniture': woodFurniture,
  'stone-ceramics-glass': stone,
  'iron-steel': ironSteel,
  'machinery-electronics': machinery,
  vehicles,
};

/** Categories that need refrigerated containers (reefer unit at the front end, foam-lined walls). */
export const REEFER: ReadonlySet<CargoCategory> = new Set<CargoCategory>(['frozen-cartons', 'fruit-veg']);
