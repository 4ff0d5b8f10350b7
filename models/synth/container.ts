// One synthetic container scan: structure (end walls, corner posts, corrugated sides, rails, floor and
// cross-members, chassis and wheels), cargo of one or more categories, planted threats; then the detector
// and the grey rendering with randomised windowing. Pure function of (rng, options).
import { CARGO_CATEGORIES, CONTAINER_THREATS, type CargoCategory, type ContainerThreat } from '../../domain/categories.js';
import { renderContainerGrey } from '../runtime/render.js';
import type { Rendering } from '../runtime/types.js';
import { PAINTERS, REEFER, type Slot } from './cargo.js';
import { Canvas, detect, randomDetector } from './physics.js';
import type { Rng } from './prng.js';
import { falseWall, plant, type Planted, type Visibility } from './threats.js';

export interface ContainerOptions {
  /** Millimetres per pixel (H986 exports are ~4–6; training sets use 12–20). */
  mmpp: number;
  /** Probability that a scan carries planted threats. */
  threatRate: number;
  /** Restrict cargo to these categories (default all). */
  categories?: readonly CargoCategory[];
  /** Threats planted in a scan that carries any, [min, max] (default 1–3, mostly 1). Training sets rich in rare
   * classes use more: each scan is still one container, the threats at least 1.2 m or 0.6 m apart. */
  threatsPerScan?: readonly [number, number];
  /** Planted threat classes (default all, equally likely). */
  threatClasses?: readonly ContainerThreat[];
  /**
   * Probability that a container without chilled goods (dry cargo, or empty) is a reefer (default 0.05; with chilled
   * goods 0.85). Training sets raise it so that a reefer's machinery end is seen on other loads than frozen food:
   * empty reefers are repositioned through ports in numbers.
   */
  reeferRate?: number;
}

export interface ContainerSample {
  width: number;
  height: number;
  high: Uint16Array;
  low: Uint16Array;
  rendering: Rendering;
  categories: CargoCategory[];
  threats: Planted[];
  meta: { lengthFt: 20 | 40; reefer: boolean; chassis: boolean; mmpp: number };
}

const LOADED = CARGO_CATEGORIES.filter((c): c is Exclude<CargoCategory, 'empty'> => c !== 'empty');
const MIN_SEGMENT_CM: Partial<Record<CargoCategory, number>> = { vehicles: 420, 'iron-steel': 250, sugar: 240, 'stone-ceramics-glass': 260 };

interface MassRegion { x0: number; y0: number; w: number; h: number; data: Float32Array; }

/** A copy of the canvas's total mass (every material) over a rectangle, clipped to the canvas. */
function massRegion(cv: Canvas, x0: number, y0: number, x1: number, y1: number): MassRegion {
  const xa = Math.max(0, Math.floor(x0)), ya = Math.max(0, Math.floor(y0));
  const w = Math.max(0, Math.min(cv.width, Math.ceil(x1)) - xa), h = Math.max(0, Math.min(cv.height, Math.ceil(y1)) - ya);
  const data = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const row = (ya + y) * cv.width + xa;
    for (let x = 0; x < w; x++) data[y * w + x] = cv.maps.organic[row + x]! + cv.maps.mixed[row + x]! + cv.maps.metal[row + x]!;
  }
  return { x0: xa, y0: ya, w, h, data };
}

/** The canvas's total mass (every material) over the columns [x0, x1), whole height. */
function columnsMass(cv: Canvas, x0: number, x1: number): number {
  return massRegion(cv, x0, 0, x1, cv.height).data.reduce((sum, v) => sum + v, 0);
}

/** The same region of the canvas again, after something was drawn into it. */
function massAfter(cv: Canvas, before: MassRegion): MassRegion {
  return massRegion(cv, before.x0, before.y0, before.x0 + before.w, before.y0 + before.h);
}

/** An item's visibility over its box: the most it added to one pixel, and the mean of what was there before. */
function visibility(before: MassRegion, after: MassRegion, box: readonly [number, number, number, number]): Visibility {
  const xa = Math.max(0, Math.floor(box[0]) - before.x0), xb = Math.min(before.w, Math.ceil(box[2]) - before.x0);
  const ya = Math.max(0, Math.floor(box[1]) - before.y0), yb = Math.min(before.h, Math.ceil(box[3]) - before.y0);
  let peak = 0, sum = 0, n = 0;
  for (let y = ya; y < yb; y++) {
    for (let x = xa; x < xb; x++) {
      const k = y * before.w + x;
      peak = Math.max(peak, after.data[k]! - before.data[k]!);
      sum += before.data[k]!;
      n++;
    }
  }
  const r2 = (v: number) => Math.round(v * 100) / 100;
  return { itemGcm2: r2(peak), clutterGcm2: r2(n ? sum / n : 0) };
}

function structure(cv: Canvas, r: Rng, xL: number, xR: number, yTop: number, yBot: number, reefer: boolean): Slot {
  const c = (cm: number): number => cv.px(cm);
  // side walls (two, across the beam), corrugated: thickness varies with the corrugation pitch
  const pitch = c(r.uniform(26, 30)), ph = r.uniform(0, 6);
  cv.field('metal', xL, yTop, xR, yBot, (x) => 2 * 0.16 * 7.85 * (1 + 0.35 * Math.abs(Math.sin((Math.PI * x) / pitch + ph))));
  if (reefer) cv.rect('organic', xL, yTop, xR, yBot, 2 * 10 * 0.04); // foam insulation
  // end walls / doors seen edge-on: very dense bands; corner posts; door locking bars
  const endW = c(r.uniform(4, 7));
  cv.rect('metal', xL, yTop, xL + endW, yBot, r.uniform(70, 130));
  cv.rect('metal', xR - endW * 1.5, yTop, xR, yBot, r.uniform(90, 150));
  cv.rect('metal', xL, yTop, xL + c(15), yBot, 2 * 0.6 * 7.85);
  cv.rect('metal', xR - c(15), yTop, xR, yBot, 2 * 0.6 * 7.85);
  for (let k = 0; k < 4; k++) cv.rect('metal', xR - c(10 + k * 3), yTop, xR - c(9 + k * 3), yBot, 2 * 2.7 * 7.85 * 0.3);
  // roof edge-on, top and bottom side rails
  cv.rect('metal', xL, yTop, xR, yTop + c(r.uniform(2, 3.5)), r.uniform(90, 160));
  cv.rect('metal', xL, yTop, xR, yTop + c(12), 2 * 0.4 * 7.85);
  cv.rect('metal', xL, yBot - c(16), xR, yBot, 2 * 0.45 * 7.85);
  // floor: 28 mm boards across the beam (aluminium T-floor in reefers), cross-members beneath as C-sections
  const floorTop = yBot - c(16);
  if (reefer) cv.rect('mixed', xL, floorTop - c(8), xR, floorTop, 235 * 0.15 * 2.7);
  else cv.rect('organic', xL, floorTop - c(2.8), xR, floorTop, 235 * 0.7);
  const cmPitch = c(r.uniform(28, 35));
  for (let x = xL + c(20); x < xR - c(20); x += cmPitch) {
    cv.rect('metal', x, floorTop, x + Math.max(1, c(0.45)), yBot, 235 * 7.85 * 0.6);
    cv.rect('metal', x, floorTop, x + c(4.5), floorTop + Math.max(0.6, c(0.45)), 235 * 7.85 * 0.5);
    cv.rect('metal', x, yBot - Math.max(0.6, c(0.45)), x + c(4.5), yBot, 235 * 7.85 * 0.5);
  }
  const yCeil = yTop + c(12);
  if (reefer) {
    // refrigeration unit at the front end: machinery behind the front wall
    cv.rect('mixed', xL + endW, yTop + c(10), xL + endW + c(40), yBot - c(16), 235 * 0.25 * 2.7);
    for (let k = 0; k < 5; k++) cv.ellipsoid('metal', xL + endW + c(20), yTop + c(40 + k * 40), c(12), c(10), 20, 7.85);
  }
  return { x0: xL + endW + c(reefer ? 45 : 3), x1: xR - endW * 1.5 - c(3), yFloor: reefer ? floorTop - c(8) : floorTop - c(2.8), yCeil };
}

function chassis(cv: Canvas, r: Rng, xL: number, xR: number, yBot: number, lengthFt: number): void {
  const c = (cm: number): number => cv.px(cm);
  cv.rect('metal', xL + c(20), yBot + c(2), xR - c(10), yBot + c(32), 2 * 0.8 * 7.85);
  cv.rect('metal', xL + c(20), yBot + c(2), xR - c(10), yBot + c(4), 235 * 7.85 * 0.08);
  cv.rect('metal', xL + c(20), yBot + c(30), xR - c(10), yBot + c(32), 235 * 7.85 * 0.08);
  const axles = lengthFt === 40 ? r.int(2, 3) : r.int(1, 2);
  const wr = c(r.uniform(48, 54));
  for (let a = 0; a < axles; a++) {
    const cx = xR - c(150 + a * 135), cy = yBot + c(38) + wr * 0.9;
    cv.ring('organic', cx, cy, wr, wr * 0.62, 4 * 28 * 1.15);
    cv.ring('metal', cx, cy, wr * 0.62, wr * 0.25, 4 * 0.8 * 7.85);
    cv.ring('metal', cx, cy, wr * 0.25, 0, 2 * 30 * 7.85);
  }
  // landing legs near the front
  cv.rect('metal', xL + c(230), yBot + c(30), xL + c(240), yBot + c(110), 2 * 1.5 * 7.85);
}

export function containerSample(r: Rng, o: ContainerOptions): ContainerSample {
  const cmPerPx = o.mmpp / 10;
  const lengthFt = r.bool(0.6) ? 40 : 20;
  const lengthCm = lengthFt === 40 ? 1219.2 : 605.8;
  const hc = r.bool(0.4);
  const heightCm = hc ? 289.6 : 259.1;
  const hasChassis = r.bool(0.7);
  const mT = r.uniform(0, 30), mL = r.uniform(0, 25), mR = r.uniform(0, 25);
  const below = hasChassis ? r.uniform(135, 150) : r.uniform(0, 20);
  const width = Math.round((mL + lengthCm + mR) / cmPerPx);
  const height = Math.round((mT + heightCm + below) / cmPerPx);
  const cv = new Canvas(width, height, cmPerPx);
  const xL = mL / cmPerPx, xR = xL + lengthCm / cmPerPx, yTop = mT / cmPerPx, yBot = yTop + heightCm / cmPerPx;

  // cargo plan first: it decides whether the container is a reefer
  const pool = (o.categories ?? CARGO_CATEGORIES).filter((c) => c !== 'empty') as Array<Exclude<CargoCategory, 'empty'>>;
  const allowEmpty = !o.categories || o.categories.includes('empty');
  const empty = pool.length === 0 || (allowEmpty && r.bool(0.1));
  const kinds: Array<Exclude<CargoCategory, 'empty'>> = [];
  if (!empty) {
    const nKinds = lengthFt === 40 ? r.weighted([1, 2, 3], [0.65, 0.25, 0.1]) : r.weighted([1, 2], [0.8, 0.2]);
    for (const k of r.shuffle([...pool])) if (kinds.length < nKinds) kinds.push(k);
  }
  const reefer = kinds.some((k) => REEFER.has(k)) ? r.bool(0.85) : r.bool(o.reeferRate ?? 0.05);
  const slot = structure(cv, r, xL, xR, yTop, yBot, reefer);
  if (hasChassis) chassis(cv, r, xL, xR, yBot, lengthFt);

  const categories: CargoCategory[] = [];
  if (kinds.length > 0) {
    const interior = slot.x1 - slot.x0;
    const weights = kinds.map((k) => (MIN_SEGMENT_CM[k] ?? 200) / cmPerPx);
    const need = weights.reduce((a, b) => a + b, 0);
    // fill from the front; a single kind may be a partial load
    const used = kinds.length === 1 ? Math.max(weights[0] ?? 0, interior * (r.bool(0.7) ? r.uniform(0.85, 1) : r.uniform(0.35, 0.85))) : interior;
    const scale = Math.max(1, used / need);
    let x = slot.x0;
    for (let i = 0; i < kinds.length; i++) {
      const k = kinds[i] as Exclude<CargoCategory, 'empty'>;
      const len = i === kinds.length - 1 ? Math.min(slot.x1, slot.x0 + used) - x : (weights[i] ?? 0) * scale * r.uniform(0.85, 1.15);
      const seg: Slot = { ...slot, x0: x, x1: Math.min(slot.x1, x + len) };
      if (seg.x1 - seg.x0 > 10 / cmPerPx) {
        // a kind is labelled only when its painter drew something: a car longer than its segment is not drawn, and
        // a container declared with a car that the image does not show is not a clean scan
        const before = columnsMass(cv, seg.x0, seg.x1);
        PAINTERS[k](cv, r, seg);
        if (columnsMass(cv, seg.x0, seg.x1) > before) categories.push(k);
      }
      x = seg.x1 + r.uniform(0, 20) / cmPerPx;
    }
  }
  if (categories.length === 0) categories.push('empty');

  const threats: Planted[] = [];
  if (r.bool(o.threatRate)) {
    // the default draws stay as they were (same seed, same scans)
    const n = o.threatsPerScan ? r.int(o.threatsPerScan[0], o.threatsPerScan[1]) : r.weighted([1, 2, 3], [0.6, 0.3, 0.1]);
    for (let t = 0; t < n; t++) {
      const label: ContainerThreat = r.pick(o.threatClasses ?? CONTAINER_THREATS);
      if (label === 'hidden-compartment') {
        if (threats.some((p) => p.label === 'hidden-compartment')) continue;
        const left = r.bool(0.5);
        threats.push(falseWall(cv, r, slot, left, left ? slot.x0 : slot.x1));
        continue;
      }
      for (let tries = 0; tries < 10; tries++) {
        const cx = r.uniform(slot.x0 + 60 / cmPerPx, slot.x1 - 60 / cmPerPx);
        const cy = r.uniform(slot.yCeil + 40 / cmPerPx, slot.yFloor - 25 / cmPerPx);
        const clash = threats.some((p) => Math.abs((p.box[0] + p.box[2]) / 2 - cx) < 120 / cmPerPx && Math.abs((p.box[1] + p.box[3]) / 2 - cy) < 60 / cmPerPx);
        if (clash) continue;
        // the mass already there around the spot, to tell afterwards how much the item stands out (labels only:
        // no draw of the generator's, so the scans are the same with or without it)
        const before = massRegion(cv, cx - 130 / cmPerPx, cy - 80 / cmPerPx, cx + 130 / cmPerPx, cy + 80 / cmPerPx);
        const items = plant(cv, r, label, cx, cy);
        const after = massAfter(cv, before);
        threats.push(...items.map((p) => ({ ...p, visibility: visibility(before, after, p.box) })));
        break;
      }
    }
  }

  const det = randomDetector(r);
  const { high, low } = detect(cv, 'mev', det, r);
  const rendering = renderContainerGrey(high, width, height, 16, low, {
    aMax: r.uniform(3, 6.5),
    aMin: r.uniform(-0.05, 0.3),
    gamma: r.uniform(0.4, 1.1),
  });
  const clipped = threats.map((t) => ({
    ...t,
    box: [Math.max(0, t.box[0]), Math.max(0, t.box[1]), Math.min(width, t.box[2]), Math.min(height, t.box[3])] as [number, number, number, number],
  }));
  return { width, height, high, low, rendering, categories, threats: clipped, meta: { lengthFt, reefer, chassis: hasChassis, mmpp: o.mmpp } };
}
