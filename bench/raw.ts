// Benchmark 1, the physical limit: onnxruntime-node alone on each committed model, batch 1, 8 and 32,
// with the session options TRAINING.md found best here (and intra-op threads 1 vs 2 for comparison).
import * as ort from 'onnxruntime-node';
import { loadRegistry } from '../models/runtime/registry.js';
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

async function timeModel(bytes: Uint8Array, inputName: string, shape: number[], batch: number, threads: number, seconds: number): Promise<{ ips: number; ms: number }> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' });
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
