// Benchmark 1, the physical limit: onnxruntime-node alone on each committed model, batch 1, 8 and 32,
// with the session options TRAINING.md found best here (and intra-op threads 1 vs 2 for comparison).
import * as ort from 'onnxruntime-node';
import { latticeCanvas, latticeScale } from '../models/runtime/lattice.js';
import { placement } from '../models/runtime/letterbox.js';
import { cardModalities, loadRegistry, readsDeep, readsMaterial } from '../models/runtime/registry.js';
import type { Rendering } from '../models/runtime/types.js';
import { round } from './common.js';

export interface RawResult {
  model: string;
  modality: string;
  input: number[];
  threads: number;
  batch: number;
  imagesPerSecond: number;
  msPerBatch: number;
}

/** The session options TRAINING.md found best on this CPU, with `threads` intra-op threads. */
const sessionOptions = (threads: number): ort.InferenceSession.SessionOptions => ({ intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' });

async function timeModel(bytes: Uint8Array, inputName: string, shape: number[], batch: number, threads: number, seconds: number): Promise<{ ips: number; ms: number }> {
  const session = await ort.InferenceSession.create(bytes, sessionOptions(threads));
  const [, c, h, w] = shape as [number, number, number, number];
  const data = new Float32Array(batch * c * h * w).map((_, i) => ((i * 2654435761) % 1000) / 1000);
  const feeds = { [inputName]: new ort.Tensor('float32', data, [batch, c, h, w]) };
  for (let i = 0; i < 3; i++) await session.run(feeds);
  let runs = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000 || runs < 5) {
    await session.run(feeds);
    runs++;
  }
  const ms = (performance.now() - t0) / runs;
  await session.release();
  return { ips: (batch * 1000) / ms, ms };
}

export async function rawLimits(registryDir: string, opts: { seconds?: number } = {}): Promise<RawResult[]> {
  const out: RawResult[] = [];
  for (const m of await loadRegistry(registryDir)) {
    if (m.card.output.layout === 'window-map') continue; // a canvas a scan, timed on the pool's scans (latticeRawRates)
    const shape = m.card.input.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
    for (const [batch, threads] of [[1, 2], [8, 2], [32, 2], [8, 1]] as const) {
      const probe = await ort.InferenceSession.create(m.bytes);
      const inputName = probe.inputNames[0]!;
      await probe.release();
      const r = await timeModel(m.bytes, inputName, shape, batch, threads, opts.seconds ?? 2);
      out.push({ model: m.card.name, modality: m.card.modality, input: shape.slice(1), threads, batch, imagesPerSecond: round(r.ips, 1), msPerBatch: round(r.ms, 2) });
      console.log(`raw  ${m.card.name.padEnd(28)} batch ${String(batch).padStart(2)} threads ${threads}: ${round(r.ips, 1)} images/s`);
    }
  }
  return out;
}

/** The best images/s each model reached at 2 threads: the limit the pipeline is compared with. */
export function bestPerModel(results: readonly RawResult[]): Record<string, { modality: string; imagesPerSecond: number; batch: number }> {
  const best: Record<string, { modality: string; imagesPerSecond: number; batch: number }> = {};
  for (const r of results) {
    if (r.threads !== 2) continue;
    if (!best[r.model] || best[r.model]!.imagesPerSecond < r.imagesPerSecond) best[r.model] = { modality: r.modality, imagesPerSecond: r.imagesPerSecond, batch: r.batch };
  }
  return best;
}

/**
 * A lattice verifier (card layout `window-map`) runs once a scan on a canvas the scan's own size, so its raw limit
 * is measured on the pool's own canvases: ONNX Runtime alone (2 threads, the session options above) on each scan's
 * canvas as the runtime builds it, scans per second over the pool. Keyed by model name, as bestPerModel, with one
 * "image" a scan.
 */
export async function latticeRawRates(registryDir: string, modality: string, pool: ReadonlyArray<{ rendering: Rendering; material?: Rendering; deep?: Rendering }>, reps = 3): Promise<Record<string, { modality: string; imagesPerSecond: number; batch: number }>> {
  const out: Record<string, { modality: string; imagesPerSecond: number; batch: number }> = {};
  const models = await loadRegistry(registryDir);
  for (const m of models) {
    if (m.card.output.layout !== 'window-map' || !m.card.verifies || !(cardModalities(m.card) as string[]).includes(modality)) continue;
    // a dual-energy one runs on scans sent as a raw pair only (one that reads the deep plane, with that plane too)
    if ((readsMaterial(m.card) && pool.some((s) => !s.material)) || (readsDeep(m.card) && pool.some((s) => !s.deep))) continue;
    const grid = models.find((g) => g.card.name === m.card.verifies!.model)?.card;
    if (!grid) continue;
    const [, , gh, gw] = grid.input.shape as [unknown, number, number, number];
    const session = await ort.InferenceSession.create(m.bytes, sessionOptions(2));
    const canvases = pool.map((s) => {
      const p = placement(s.rendering.width, s.rendering.height, gw, gh, 'letterbox');
      return latticeCanvas(m.card, s.rendering, s.material, latticeScale(m.card, p.sx), s.deep);
    });
    const run = (c: (typeof canvases)[number]) => session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', c.tensor, c.dims) });
    await run(canvases[0]!);
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) for (const c of canvases) await run(c);
    const seconds = (performance.now() - t0) / 1000 / (reps * canvases.length);
    await session.release();
    out[m.card.name] = { modality: m.card.modality, imagesPerSecond: round(1 / seconds, 2), batch: 1 };
    console.log(`raw  ${m.card.name.padEnd(28)} lattice, one canvas a scan: ${round(1 / seconds, 2)} scans/s`);
  }
  return out;
}
