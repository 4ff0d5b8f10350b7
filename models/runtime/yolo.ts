// Post-processing for detectors in the Ultralytics YOLOv8/11 export layout: output [N, 4 + C, A] with
// centre-x, centre-y, width, height in input pixels then C class scores; decode, threshold, class-wise NMS.
import type { Box } from '../../domain/verdict.js';

export interface RawDetection { cls: number; score: number; box: Box; }

/**
 * Decodes image `n` of a [N, 4 + C, A] tensor: for each anchor the best class; kept if its score reaches
 * that class's threshold. Boxes come back as [x1, y1, x2, y2] in input pixels.
 */
export function decodeYolo(data: Float32Array, dims: readonly number[], n: number, thresholds: readonly number[]): RawDetection[] {
  if (dims.length !== 3) throw new Error(`YOLO output must be rank 3 [N, 4+C, A], got [${dims.join(', ')}]`);
  const rows = dims[1] as number, anchors = dims[2] as number;
  const classes = rows - 4;
  if (classes < 1) throw new Error(`YOLO output has ${rows} rows: needs 4 box rows and at least one class`);
  if (thresholds.length !== classes) throw new Error(`${thresholds.length} thresholds for ${classes} classes`);
  const base = n * rows * anchors;
  const out: RawDetection[] = [];
  for (let a = 0; a < anchors; a++) {
    let best = -1, bestScore = -Infinity;
    for (let c = 0; c < classes; c++) {
      const s = data[base + (4 + c) * anchors + a] as number;
      if (s > bestScore) { bestScore = s; best = c; }
    }
    if (best < 0 || bestScore < (thresholds[best] as number)) continue;
    const cx = data[base + a] as number, cy = data[base + anchors + a] as number;
    const w = data[base + 2 * anchors + a] as number, h = data[base + 3 * anchors + a] as number;
    out.push({ cls: best, score: bestScore, box: [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2] });
  }
  return out;
}

export function iou(a: Box, b: Box): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

/** Greedy NMS within each class: highest score first, drop same-class boxes overlapping above `iouThr`. */
export function nms<T extends { cls: number; score: number; box: Box }>(dets: readonly T[], iouThr: number, maxDetections = 300): T[] {
  const sorted = [...dets].sort((p, q) => q.score - p.score || p.cls - q.cls);
  const kept: T[] = [];
  for (const d of sorted) {
    if (kept.length >= maxDetections) break;
    if (kept.some((k) => k.cls === d.cls && iou(k.box, d.box) > iouThr)) continue;
    kept.push(d);
  }
  return kept;
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export function softmax(xs: readonly number[]): number[] {
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const s = e.reduce((p, q) => p + q, 0);
  return e.map((v) => v / s);
}
