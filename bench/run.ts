// `npm run bench [-- --only raw,preprocess,prepare,pipeline,latency,scaleout,memory,assessment,cpu] [--memory-scans N] [--memory-kind container] [--cpu-kind container] [--pipeline-kinds container]
// [--cpu-scans N] [--compare <git ref> [--pairs 3]] [--assessment-kinds container,parcel]`:
// the benchmark suite. Each section writes bench/results/<section>.json; ratios are measured side by side
// in the same run (pipeline throughput against raw ONNX Runtime on the same models, same machine).
import { parseArgs } from 'node:util';
import { cardModalities, loadRegistry } from '../models/runtime/registry.js';
import type { SynthKind } from '../models/synth/index.js';
import { startCluster } from './cluster.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RESULTS_DIR, round, summary, writeResult } from './common.js';
import { BENCH_MMPP, imagesPerScan, openLoop, saturate, scanPool, waitForVerdicts, push } from './load.js';
import { preprocessBench } from './preprocess.js';
import { prepareBench } from './prepare.js';
import { assessmentBench } from './assessment.js';
import { bestPerModel, latticeRawRates, rawLimits } from './raw.js';
import { cpuBench } from './cpu.js';
import { compareCpu } from './compare.js';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    'memory-scans': { type: 'string', default: '2000' },
    'latency-seconds': { type: 'string', default: '20' },
    registry: { type: 'string', default: 'models/registry' },
    'cpu-prof': { type: 'string' },
    'cpu-kind': { type: 'string', default: 'parcel' },
    // scans measured at saturation by `cpu` (default 240 parcels / 40 containers): more averages out a noisy machine
    'cpu-scans': { type: 'string' },
    // `cpu` beside the same benchmark of an earlier commit, in alternating pairs (bench/compare.ts)
    compare: { type: 'string' },
    pairs: { type: 'string', default: '3' },
    'memory-kind': { type: 'string', default: 'parcel' },
    // the assessment's streams: containers always, parcels unless left out (a change to container models alone)
    'assessment-kinds': { type: 'string', default: 'container,parcel' },
    // `pipeline` and `latency`: the kinds of scan measured (both by default; a change to container models alone)
    'pipeline-kinds': { type: 'string', default: 'parcel,container' },
  },
});
/** A `--<flag>` that names one kind of scan (parcel or container). */
function oneKind(flag: string, v: string | undefined): SynthKind {
  if (v !== 'parcel' && v !== 'container') throw new Error(`--${flag} is parcel or container`);
  return v;
}

function pipelineKinds(v: string): SynthKind[] {
  const kinds = [...new Set(v.split(','))];
  if (kinds.length === 0 || kinds.some((k) => k !== 'container' && k !== 'parcel')) throw new Error(`--pipeline-kinds: parcel, container or both (got ${v})`);
  return (['parcel', 'container'] as const).filter((k) => kinds.includes(k));
}

function assessmentKinds(v: string): SynthKind[] {
  const kinds = v.split(',');
  const bad = kinds.filter((k) => k !== 'container' && k !== 'parcel');
  if (bad.length || !kinds.includes('container')) throw new Error(`--assessment-kinds: container, or container,parcel (got ${v})`);
  return kinds as SynthKind[];
}
const sections = new Set((values.only ?? 'raw,preprocess,prepare,pipeline,latency,scaleout,memory,assessment').split(','));
const MODALITY: Record<SynthKind, string> = { parcel: 'parcel-ct', container: 'container-xray' };
const SAT_SCANS: Record<SynthKind, number> = { parcel: 240, container: 40 };

async function main() {
  const cards = (await loadRegistry(values.registry)).map((m) => m.card);
  const raw = sections.has('raw') || sections.has('pipeline') ? await rawLimits(values.registry) : [];
  const best = bestPerModel(raw);
  if (sections.has('raw')) console.log(`→ ${await writeResult('raw', { results: raw, best })}`);
  if (sections.has('preprocess')) console.log(`→ ${await writeResult('preprocess', await preprocessBench())}`);
  if (sections.has('prepare')) console.log(`→ ${await writeResult('prepare', await prepareBench(values.registry))}`);

  const saturation: Partial<Record<SynthKind, number>> = {};
  if (sections.has('pipeline') || sections.has('latency')) {
    const pipeline: Record<string, unknown> = {};
    const latency: Record<string, unknown> = {};
    for (const kind of pipelineKinds(values['pipeline-kinds']!)) {
      const models = cards.filter((c) => (cardModalities(c) as string[]).includes(MODALITY[kind])).map((c) => c.name);
      const pool = await scanPool(kind, 16);
      // The raw limit per scan: the time each model needs at its raw rate for the images it runs per scan
      // (once for a classifier, per tile, per proposal window), summed over the modality's models.
      const perScan = await imagesPerScan(values.registry, pool);
      Object.assign(best, await latticeRawRates(values.registry, MODALITY[kind], pool));
      const perScanRaw = models.length && models.every((m) => best[m]) ? 1 / models.reduce((s, m) => s + (perScan[m] ?? 0) / best[m]!.imagesPerSecond, 0) : null;
      const cluster = await startCluster({ workers: 1, env: { WORKER_CONCURRENCY: '8' } });
      try {
        await saturate(cluster, pool, 10, 4, `${kind}-warm`);
        const sat = await saturate(cluster, pool, SAT_SCANS[kind], 16, `${kind}-sat`);
        saturation[kind] = sat.scansPerSecond;
        pipeline[kind] = {
          models,
          renderingMmPerPixel: BENCH_MMPP[kind] ?? 'generator default',
          imagesPerScan: Object.fromEntries(Object.entries(perScan).map(([m, n]) => [m, round(n, 2)])),
          rawLimitScansPerSecond: perScanRaw === null ? null : round(perScanRaw, 1),
          pipelineScansPerSecond: round(sat.scansPerSecond, 2),
          ratioToRaw: perScanRaw === null ? null : round(sat.scansPerSecond / perScanRaw, 3),
          ...sat,
        };
        console.log(`pipeline ${kind}: ${round(sat.scansPerSecond, 2)} scans/s (raw limit ${perScanRaw === null ? 'n/a' : round(perScanRaw, 1)})`);
        if (sections.has('pipeline')) {
          // Side by side: the same saturation with the model sessions on the worker's event loop.
          const onLoop = await startCluster({ workers: 1, env: { WORKER_CONCURRENCY: '8', INFER_OFF_THREAD: 'false' } });
          try {
            await saturate(onLoop, pool, 10, 4, `${kind}-loop-warm`);
            const s2 = await saturate(onLoop, pool, SAT_SCANS[kind], 16, `${kind}-loop-sat`);
            (pipeline[kind] as Record<string, unknown>).inferenceOnEventLoop = {
              pipelineScansPerSecond: round(s2.scansPerSecond, 2),
              ratioToRaw: perScanRaw === null ? null : round(s2.scansPerSecond / perScanRaw, 3),
            };
            console.log(`pipeline ${kind}, inference on the event loop: ${round(s2.scansPerSecond, 2)} scans/s`);
          } finally {
            await onLoop.close();
          }
        }
        if (sections.has('latency')) {
          for (const load of [0.5, 0.9]) {
            const ms = await openLoop(cluster, pool, sat.scansPerSecond * load, Number(values['latency-seconds']), `${kind}-lat${load}`);
            latency[`${kind}@${load * 100}%`] = { rate: round(sat.scansPerSecond * load, 2), pushToVerdictMs: summary(ms) };
            console.log(`latency ${kind} @${load * 100}%: ${JSON.stringify(summary(ms))}`);
          }
        }
      } finally {
        await cluster.close();
      }
    }
    if (sections.has('pipeline')) console.log(`→ ${await writeResult('pipeline', { saturation: pipeline })}`);
    if (sections.has('latency')) console.log(`→ ${await writeResult('latency', { targets: { 'parcel p99 @50%': '≤ 1000 ms', 'container p99 @50%': '≤ 3000 ms' }, results: latency })}`);
  }

  if (sections.has('scaleout')) {
    // parcels (small scans, the database and queue weigh most) and containers (the models weigh most), each
    // with one and then two worker processes
    const out: Record<string, Record<string, unknown>> = {};
    for (const kind of ['parcel', 'container'] as const) {
      const pool = await scanPool(kind, 16);
      out[kind] = {};
      for (const workers of [1, 2]) {
        const cluster = await startCluster({ workers, env: { WORKER_CONCURRENCY: '8' } });
        try {
          await saturate(cluster, pool, 10, 4, `so-${kind}-warm`);
          const sat = await saturate(cluster, pool, SAT_SCANS[kind], 16, `so-${kind}-${workers}`);
          out[kind][`${workers} worker${workers > 1 ? 's' : ''}`] = { ...sat, scansPerSecond: round(sat.scansPerSecond, 2) };
          console.log(`scale-out ${kind}, ${workers} worker(s): ${round(sat.scansPerSecond, 2)} scans/s`);
        } finally {
          await cluster.close();
        }
      }
    }
    console.log(`→ ${await writeResult('scaleout', { ...out, note: 'on a 2-core machine a second worker process competes with the first for the same cores' })}`);
  }

  if (sections.has('memory')) {
    const total = Number(values['memory-scans']);
    const kind = oneKind('memory-kind', values['memory-kind']);
    const cluster = await startCluster({ workers: 1, env: { WORKER_CONCURRENCY: '8' } });
    const samples: Array<{ scans: number; apiMiB: number; workerMiB: number }> = [];
    try {
      const pool = await scanPool(kind, 16);
      const step = Math.max(kind === 'parcel' ? 100 : 20, Math.round(total / 20));
      for (let done = 0; done < total; done += step) {
        const ids = Array.from({ length: Math.min(step, total - done) }, (_, i) => `mem-${done + i}`);
        let next = 0;
        await Promise.all(Array.from({ length: 16 }, async () => {
          while (next < ids.length) {
            const i = next++;
            await push(cluster, ids[i]!, pool[(done + i) % pool.length]!);
          }
        }));
        await waitForVerdicts(cluster, ids);
        const rss = cluster.rss();
        samples.push({ scans: done + ids.length, apiMiB: round(rss.apiMiB, 1), workerMiB: round(rss.workersMiB[0]!, 1) });
        console.log(`memory after ${done + ids.length} scans: api ${round(rss.apiMiB, 0)} MiB, worker ${round(rss.workersMiB[0]!, 0)} MiB`);
      }
    } finally {
      await cluster.close();
    }
    const half = samples.slice(Math.floor(samples.length / 2));
    const growth = (k: 'apiMiB' | 'workerMiB') => round(Math.max(...half.map((s) => s[k])) - half[0]![k], 1);
    console.log(`→ ${await writeResult(kind === 'parcel' ? 'memory' : 'memory-container', { kind, scans: total, samples, secondHalfGrowthMiB: { api: growth('apiMiB'), worker: growth('workerMiB') }, bound: 'second-half growth ≤ 50 MiB per process' })}`);
  }
  if (sections.has('cpu')) {
    const kind = oneKind('cpu-kind', values['cpu-kind']);
    const cpuScans = values['cpu-scans'] === undefined ? undefined : Number(values['cpu-scans']);
    if (cpuScans !== undefined && !(Number.isInteger(cpuScans) && cpuScans >= 16)) throw new Error(`--cpu-scans: a whole number of at least 16 (got ${values['cpu-scans']})`);
    if (values.compare) {
      const pairs = Number(values.pairs);
      if (!(Number.isInteger(pairs) && pairs >= 1)) throw new Error(`--pairs: a whole number of at least 1 (got ${values.pairs})`);
      const result = await compareCpu({ ref: values.compare, pairs, kind, ...(cpuScans !== undefined && { scans: cpuScans }) });
      console.log(`cpu compare: medians ${JSON.stringify(result.median)}; ratio ${JSON.stringify(result.ratio)}`);
      console.log(`→ ${await writeResult(kind === 'parcel' ? 'cpu-compare' : 'cpu-container-compare', result)}`);
    } else {
      const result = await cpuBench({ kind, ...(cpuScans !== undefined && { scans: cpuScans }), ...(values['cpu-prof'] && { cpuProfDir: values['cpu-prof'] }) });
      console.log(`→ ${await writeResult(kind === 'parcel' ? 'cpu' : 'cpu-container', result)}`);
    }
  }
  if (sections.has('assessment')) {
    const kinds = assessmentKinds(values['assessment-kinds']);
    const result = await assessmentBench(values.registry, kinds);
    if (!kinds.includes('parcel')) {
      // parcels left out: the last run's parcel results stay in the file, marked with when they were measured
      // (a run that itself carried them over keeps their own time, not its own)
      const prev = await readFile(join(RESULTS_DIR, 'assessment.json'), 'utf8').then((t) => JSON.parse(t) as { at?: string; results?: { parcel?: { measuredAt?: string } } }, () => null);
      if (prev?.results?.parcel) result.results.parcel = { ...prev.results.parcel, measuredAt: prev.results.parcel.measuredAt ?? prev.at };
    }
    console.log(`→ ${await writeResult('assessment', result)}`);
  }
  if (saturation.parcel) console.log(`saturation: ${JSON.stringify(saturation)}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
