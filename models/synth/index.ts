// Public surface of the synthetic generator: sample by (kind, seed, index), YOLO label lines, and
// writing a sample's files (16-bit raw pair, 8-bit rendering, YOLO txt, JSON meta) with sharp.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { CARGO_CATEGORIES, CONTAINER_THREATS, PARCEL_ITEMS, type CargoCategory, type ContainerThreat } from '../../domain/categories.js';
import { letterbox } from '../runtime/letterbox.js';
import { renderContainerDeep, renderContainerMaterial } from '../runtime/render.js';
import type { Rendering } from '../runtime/types.js';
import { containerSample } from './container.js';
import { parcelSample } from './parcel.js';
import { Rng } from './prng.js';
import type { Visibility } from './threats.js';

// 1.1.0: a container's cargo kind is labelled only when its painter drew something (1.0.0 also labelled a kind whose
// segment was too short for it, e.g. `vehicles` for a container with no car in it); pixels and boxes as 1.0.0.
export const GENERATOR_VERSION = 'tidewatch-synth/1.1.0';
export type SynthKind = 'container' | 'parcel';
export { Rng } from './prng.js';
export { containerSample, type ContainerSample } from './container.js';
export { parcelSample, type ParcelSample } from './parcel.js';

export interface SampleOptions {
  fullSize?: boolean;
  mmpp?: number;
  threatRate?: number;
  /** Containers only: threats per scan that carries any, and which classes (see ContainerOptions). */
  threatsPerScan?: readonly [number, number];
  threatClasses?: readonly ContainerThreat[];
  /** Containers only: cargo drawn from these categories (default all; see ContainerOptions). */
  categories?: readonly CargoCategory[];
  /** Containers only: share of containers without chilled goods drawn as reefers (see ContainerOptions). */
  reeferRate?: number;
}

export interface Sample {
  id: string;
  kind: SynthKind;
  width: number;
  height: number;
  high: Uint16Array;
  low: Uint16Array;
  rendering: Rendering;
  /** Containers: each planted threat's visibility too (models/synth/threats.ts), for evaluation by it. */
  boxes: Array<{ label: string; box: [number, number, number, number]; visibility?: Visibility }>;
  categories?: string[];
  counts?: Record<string, number>;
  /** Containers: how the box itself was drawn (20 or 40 ft, a reefer's machinery end and insulation, on a chassis). */
  container?: { lengthFt: 20 | 40; reefer: boolean; chassis: boolean };
}

export const DETECT_LABELS: Record<SynthKind, readonly string[]> = { container: CONTAINER_THREATS, parcel: PARCEL_ITEMS };
export const CLASSIFY_LABELS: readonly string[] = CARGO_CATEGORIES;

export function defaultMmpp(kind: SynthKind, fullSize: boolean): number {
  if (kind === 'container') return fullSize ? 4 : 16;
  return fullSize ? 1 : 2.5;
}

/** Sample `index` of `seed`: independent of every other index, byte-identical on every run. */
export function makeSample(kind: SynthKind, seed: number, index: number, o: SampleOptions = {}): Sample {
  const r = Rng.forSample(seed, index);
  const mmpp = o.mmpp ?? defaultMmpp(kind, o.fullSize ?? false);
  const id = `${kind}-${seed}-${String(index).padStart(6, '0')}`;
  if (kind === 'container') {
    const s = containerSample(r, {
      mmpp,
      threatRate: o.threatRate ?? 0.5,
      ...(o.threatsPerScan ? { threatsPerScan: o.threatsPerScan } : {}),
      ...(o.threatClasses ? { threatClasses: o.threatClasses } : {}),
      ...(o.categories ? { categories: o.categories } : {}),
      ...(o.reeferRate !== undefined ? { reeferRate: o.reeferRate } : {}),
    });
    const container = { lengthFt: s.meta.lengthFt, reefer: s.meta.reefer, chassis: s.meta.chassis };
    return { id, kind, width: s.width, height: s.height, high: s.high, low: s.low, rendering: s.rendering, boxes: s.threats, categories: s.categories, container };
  }
  const s = parcelSample(r, { mmpp, threatRate: o.threatRate ?? 0.35 });
  return { id, kind, width: s.width, height: s.height, high: s.high, low: s.low, rendering: s.rendering, boxes: s.items, counts: s.counts as Record<string, number> };
}

/** YOLO lines `class cx cy w h` normalised to a width×height image. */
export function yoloLines(boxes: Sample['boxes'], labels: readonly string[], width: number, height: number): string {
  return boxes
    .map(({ label, box }) => {
      const c = labels.indexOf(label);
      if (c < 0) throw new Error(`label ${label} is not in the label list`);
      const f = (v: number): string => v.toFixed(6);
      return `${c} ${f((box[0] + box[2]) / 2 / width)} ${f((box[1] + box[3]) / 2 / height)} ${f((box[2] - box[0]) / width)} ${f((box[3] - box[1]) / height)}`;
    })
    .join('\n');
}

export function pngOf(img: Rendering): Promise<Buffer> {
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), { raw: { width: img.width, height: img.height, channels: img.channels } })
    .png({ compressionLevel: 6 })
    .toBuffer();
}

export function png16Of(a: Uint16Array, width: number, height: number): Promise<Buffer> {
  // A Uint16Array, not a Buffer: sharp reads a Buffer as 8-bit samples, which garbled every raw pair.
  return sharp(a, { raw: { width, height, channels: 1, premultiplied: false } })
    .toColourspace('grey16')
    .png({ compressionLevel: 6 })
    .toBuffer();
}

export interface WriteOptions {
  raw: boolean;
  input?: { width: number; height: number };
  /** Containers: also write `material/<id>.png`, the material channel of the raw pair (renderContainerMaterial), at the rendering's size; not with `input`. */
  material?: boolean;
  /** Containers: also write `deep/<id>.png`, the raw high-energy image in the deep window (renderContainerDeep); not with `input`. */
  deep?: boolean;
}

/** Writes one sample under `dir`; with `input`, the rendering and labels are letterboxed to the model size. */
export async function writeSample(dir: string, s: Sample, o: WriteOptions): Promise<void> {
  let img = s.rendering;
  let boxes = s.boxes;
  if (o.input) {
    const pad = 255; // air is white in both renderings
    const lb = letterbox(img, o.input.width, o.input.height, 'letterbox', pad);
    img = lb.image;
    const p = lb.place;
    boxes = boxes.map((b) => ({ ...b, box: [b.box[0] * p.sx + p.padX, b.box[1] * p.sy + p.padY, b.box[2] * p.sx + p.padX, b.box[3] * p.sy + p.padY] }));
  }
  const material = o.material === true && s.kind === 'container';
  const deep = o.deep === true && s.kind === 'container';
  if ((material || deep) && o.input) throw new Error('material and deep planes are written at the rendering\'s size: not with --input');
  await Promise.all(['images', 'labels', 'meta', ...(o.raw ? ['raw'] : []), ...(material ? ['material'] : []), ...(deep ? ['deep'] : [])].map((d) => mkdir(join(dir, d), { recursive: true })));
  const meta = { id: s.id, kind: s.kind, width: img.width, height: img.height, sourceWidth: s.width, sourceHeight: s.height, boxes, categories: s.categories, counts: s.counts, container: s.container };
  const jobs: Array<Promise<unknown>> = [
    pngOf(img).then((b) => writeFile(join(dir, 'images', `${s.id}.png`), b)),
    writeFile(join(dir, 'labels', `${s.id}.txt`), yoloLines(boxes, DETECT_LABELS[s.kind], img.width, img.height) + '\n'),
    writeFile(join(dir, 'meta', `${s.id}.json`), JSON.stringify(meta) + '\n'),
  ];
  if (material) jobs.push(pngOf(renderContainerMaterial(s.high, s.low, s.width, s.height, 16)).then((b) => writeFile(join(dir, 'material', `${s.id}.png`), b)));
  if (deep) jobs.push(pngOf(renderContainerDeep(s.high, s.width, s.height, 16)).then((b) => writeFile(join(dir, 'deep', `${s.id}.png`), b)));
  if (o.raw) {
    jobs.push(png16Of(s.high, s.width, s.height).then((b) => writeFile(join(dir, 'raw', `${s.id}_high.png`), b)));
    jobs.push(png16Of(s.low, s.width, s.height).then((b) => writeFile(join(dir, 'raw', `${s.id}_low.png`), b)));
  }
  await Promise.all(jobs);
}
