// Load generation for the pipeline benchmarks: closed-loop saturation and open-loop fixed-rate pushes;
// push→verdict latency is taken from the database clock (verdicts.created_at) minus the push's start.
import { createModelRuntime, renderContainerDeep, renderContainerMaterial } from '../models/runtime/index.js';
import type { Rendering } from '../models/runtime/types.js';
import { makeSample, png16Of, type SynthKind } from '../models/synth/index.js';
import type { Cluster } from './cluster.js';

export interface ScanInput {
  kind: SynthKind;
  high: Buffer;
  low: Buffer;
  /** The generator's own rendering of the pair (what the pipeline renders from it), for counting model work. */
  rendering: Rendering;
  /** Containers: the pair's material channel, which the pipeline renders too (the raw pair's verifier reads it). */
  material?: Rendering;
  /** Containers: the pair's deep plane, which the pipeline renders while a verifier that reads it is loaded. */
  deep?: Rendering;
}

/**
 * Millimetres per pixel of the pushed scans: containers as a scanner exports them (4-6 mm/px), so the threat
 * verifier's second look at full resolution is part of the work measured; parcels at the generator's default.
 */
export const BENCH_MMPP: Record<SynthKind, number | undefined> = { container: 6, parcel: undefined };

/** A small pool of distinct synthetic scans; pushes cycle through them under new scan ids. */
export async function scanPool(kind: SynthKind, n: number, seed = 777): Promise<ScanInput[]> {
  const out: ScanInput[] = [];
  const mmpp = BENCH_MMPP[kind];
  for (let i = 0; i < n; i++) {
    const s = makeSample(kind, seed, i, mmpp ? { mmpp } : {});
    const planes =
      kind === 'container'
        ? { material: renderContainerMaterial(s.high, s.low, s.width, s.height, 16), deep: renderContainerDeep(s.high, s.width, s.height, 16) }
        : {};
    out.push({ kind, high: await png16Of(s.high, s.width, s.height), low: await png16Of(s.low, s.width, s.height), rendering: s.rendering, ...planes });
  }
  return out;
}

/**
 * Images each model runs per scan of the pool, counted from the runtime's batches: a classifier runs once,
 * the embedder once per tile, the threat verifier once per proposal window. The raw limit per scan weighs
 * each model's raw images/s by these.
 */
export async function imagesPerScan(registryDir: string, pool: readonly ScanInput[]): Promise<Record<string, number>> {
  const counted: Record<string, number> = {};
  const runtime = await createModelRuntime({ registryDir, onBatch: (model, size) => void (counted[model] = (counted[model] ?? 0) + size) });
  try {
    // the planes the pipeline would give: infer picks the verifier that reads them (a deep one only with the deep plane)
    for (const scan of pool) await runtime.infer(scan.kind === 'container' ? 'container-xray' : 'parcel-ct', scan.rendering, { material: scan.material, deep: scan.deep });
  } finally {
    await runtime.close();
  }
  return Object.fromEntries(Object.entries(counted).map(([m, n]) => [m, n / pool.length]));
}

export async function push(cluster: Cluster, scanId: string, scan: ScanInput): Promise<number> {
  const metadata =
    scan.kind === 'container'
      ? { scanId, scannerId: 'BENCH-H986', modality: 'container-xray', containerNo: 'CSQU3054383', capturedAt: new Date().toISOString() }
      : { scanId, scannerId: 'BENCH-CT', modality: 'parcel-ct', waybill: `BW${scanId.replace(/[^A-Za-z0-9]/g, '').slice(-30)}`, capturedAt: new Date().toISOString() };
  const form = new FormData();
  form.append('metadata', JSON.stringify(metadata));
  form.append('high', new Blob([new Uint8Array(scan.high)]));
  form.append('low', new Blob([new Uint8Array(scan.low)]));
  const res = await fetch(`${cluster.url}/v1/scans`, { method: 'POST', body: form, headers: { authorization: `Bearer ${cluster.key}` } });
  await res.arrayBuffer();
  return res.status;
}

/** Waits until every scan id has its machine verdict; returns verdict times (epoch ms) by scan id. */
export async function waitForVerdicts(cluster: Cluster, ids: readonly string[], timeoutMs = 600_000): Promise<Map<string, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await cluster.db.db.query<{ scan_id: string; t: string }>(
      `SELECT scan_id, (extract(epoch from created_at) * 1000)::text AS t FROM verdicts WHERE source = 'machine' AND scan_id = ANY($1)`,
      [ids],
    );
    if (r.rows.length >= ids.length || Date.now() > deadline) return new Map(r.rows.map((x) => [x.scan_id, Number(x.t)]));
    await new Promise((res) => setTimeout(res, 250));
  }
}

/** Pushes `n` scans keeping `inFlight` pushes open; returns verdicts per second from first push to last verdict. */
export async function saturate(cluster: Cluster, pool: readonly ScanInput[], n: number, inFlight: number, tag: string) {
  const ids = Array.from({ length: n }, (_, i) => `${tag}-${i}`);
  const t0 = Date.now();
  let next = 0;
  const statuses: number[] = [];
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < n) {
        const i = next++;
        statuses.push(await push(cluster, ids[i]!, pool[i % pool.length]!));
      }
    }),
  );
  const verdicts = await waitForVerdicts(cluster, ids);
  const end = Math.max(...verdicts.values());
  return { scans: n, accepted: statuses.filter((s) => s === 202).length, verdicts: verdicts.size, seconds: (end - t0) / 1000, scansPerSecond: verdicts.size / ((end - t0) / 1000) };
}

/** Open loop: one push every 1/rate s for `seconds`, whatever the system's state; push→verdict latencies in ms. */
export async function openLoop(cluster: Cluster, pool: readonly ScanInput[], rate: number, seconds: number, tag: string) {
  const n = Math.max(1, Math.round(rate * seconds));
  const started = new Map<string, number>();
  const pushes: Array<Promise<number>> = [];
  const t0 = Date.now();
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const id = `${tag}-${i}`;
    started.set(id, Date.now());
    pushes.push(push(cluster, id, pool[i % pool.length]!));
  }
  await Promise.all(pushes);
  const verdicts = await waitForVerdicts(cluster, [...started.keys()]);
  return [...started].filter(([id]) => verdicts.has(id)).map(([id, t]) => verdicts.get(id)! - t);
}
