// Post-processing for grid detectors (`grid-logits`): output [N, C, GH, GW], one logit per class for every
// stride × stride cell of the input. Cells of a class at or over its threshold are joined into connected
// regions (8-neighbourhood); each region becomes one detection whose box covers its cells and whose score
// is its strongest cell. Localisation is to the cell (e.g. 16 px = 26 cm at 16 mm per pixel).
import type { RawDetection } from './yolo.js';
import { sigmoid } from './yolo.js';

export function decodeGrid(data: Float32Array, dims: readonly number[], n: number, thresholds: readonly number[], stride: number): RawDetection[] {
  if (dims.length !== 4) throw new Error(`grid output must be rank 4 [N, C, GH, GW], got [${dims.join(', ')}]`);
  const [, classes, gh, gw] = dims as [number, number, number, number];
  if (thresholds.length !== classes) throw new Error(`${thresholds.length} thresholds for ${classes} classes`);
  const cells = gh * gw;
  const out: RawDetection[] = [];
  const seen = new Uint8Array(cells);
  const stack: number[] = [];
  for (let c = 0; c < classes; c++) {
    const base = (n * classes + c) * cells;
    const thr = thresholds[c] as number;
    // compare in logit space: sigmoid is monotone, so only region cells pay for exp()
    const logitThr = Math.log(thr / (1 - thr));
    seen.fill(0);
    for (let i = 0; i < cells; i++) {
      if (seen[i] || (data[base + i] as number) < logitThr) continue;
      let x0 = gw, y0 = gh, x1 = -1, y1 = -1, best = -Infinity;
      seen[i] = 1;
      stack.push(i);
      while (stack.length) {
        const k = stack.pop() as number;
        const gy = Math.floor(k / gw), gx = k - gy * gw;
        const v = data[base + k] as number;
        if (v > best) best = v;
        if (gx < x0) x0 = gx;
        if (gx > x1) x1 = gx;
        if (gy < y0) y0 = gy;
        if (gy > y1) y1 = gy;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const ny = gy + dy, nx = gx + dx;
            if (ny < 0 || ny >= gh || nx < 0 || nx >= gw) continue;
            const nk = ny * gw + nx;
            if (seen[nk] || (data[base + nk] as number) < logitThr) continue;
            seen[nk] = 1;
            stack.push(nk);
          }
        }
      }
      out.push({ cls: c, score: sigmoid(best), box: [x0 * stride, y0 * stride, (x1 + 1) * stride, (y1 + 1) * stride] });
    }
  }
  return out.sort((a, b) => b.score - a.score);
}
