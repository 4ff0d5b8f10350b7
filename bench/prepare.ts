// Benchmark: the infer stage's model call on a full-size container rendering, with the shared downscale
// (models/runtime/downscale.ts, the default) and without it (every model and every embedder tile resizes the
// full rendering itself), interleaved in one run on the same images and the same models. Two sizes: a 40 ft
// box at 4 mm/px as a scanner's 8-bit export (~3,000 px long), and the same scaled up to 6,000 × 2,048 (the
// size of a raw 16-bit export rendered by the pipeline). Also how far the outputs move: the embedder's
// cosine, the classifier's largest score change, the threat grid's largest change of a label's best score.
import { dot } from '../models/knn/index.js';
import { createModelRuntime } from '../models/runtime/index.js';
import { resize } from '../models/runtime/letterbox.js';
import type { ModelOutput, Rendering } from '../models/runtime/types.js';
import { containerSample } from '../models/synth/container.js';
import { Rng } from '../models/synth/prng.js';
import { round, summary } from './common.js';

function fortyFoot(): Rendering {
  for (let i = 0; ; i++) {
    const s = containerSample(Rng.forSample(4242, i), { mmpp: 4, threatRate: 0.5 });
    if (s.meta.lengthFt === 40) return s.rendering;
  }
}

function drift(a: ModelOutput[], b: ModelOutput[]) {
  const by = (os: ModelOutput[], task: string) => os.find((o) => o.task === task);
  const ea = by(a, 'embed'), eb = by(b, 'embed');
  const ca = by(a, 'classify'), cb = by(b, 'classify');
  const best = (o: ModelOutput | undefined) => {
    const m = new Map<string, number>();
    for (const d of o?.detections ?? []) m.set(d.label, Math.max(m.get(d.label) ?? 0, d.score));
    return m;
  };
  const ga = best(by(a, 'detect')), gb = best(by(b, 'detect'));
  const labels = new Set([...ga.keys(), ...gb.keys()]);
  return {
    embedCosine: ea?.embedding && eb?.embedding ? round(dot(ea.embedding, eb.embedding), 5) : null,
    tileCosineMin: ea?.tiles && eb?.tiles ? round(Math.min(...ea.tiles.map((t, i) => dot(t.embedding, eb.tiles![i]?.embedding ?? t.embedding))), 5) : null,
    classifierMaxDelta: ca?.scores && cb?.scores ? round(Math.max(...Object.keys(cb.scores).map((l) => Math.abs(ca.scores![l]! - cb.scores![l]!))), 5) : null,
    threatBestScoreMaxDelta: labels.size ? round(Math.max(...[...labels].map((l) => Math.abs((ga.get(l) ?? 0) - (gb.get(l) ?? 0)))), 4) : 0,
  };
}

export async function prepareBench(registryDir: string, runs = 8) {
  const base = fortyFoot();
  const images: Array<[string, Rendering]> = [
    [`40 ft at 4 mm/px (${base.width} × ${base.height})`, base],
    ['40 ft at 6000 × 2048 (raw export size)', resize(base, 6000, 2048)],
  ];
  const [shared, plain] = await Promise.all([
    createModelRuntime({ registryDir, intraOpNumThreads: 2 }),
    createModelRuntime({ registryDir, intraOpNumThreads: 2, sharedDownscale: false }),
  ]);
  const results: Record<string, unknown> = {};
  try {
    for (const [name, r] of images) {
      const t = { shared: [] as number[], plain: [] as number[] };
      let a: ModelOutput[] = [], b: ModelOutput[] = [];
      await shared.infer('container-xray', r); // warm both
      await plain.infer('container-xray', r);
      for (let i = 0; i < runs; i++) {
        for (const [k, rt] of (i % 2 ? [['plain', plain], ['shared', shared]] : [['shared', shared], ['plain', plain]]) as Array<['shared' | 'plain', typeof shared]>) {
          const t0 = performance.now();
          const out = await rt.infer('container-xray', r);
          t[k].push(performance.now() - t0);
          if (k === 'shared') a = out;
          else b = out;
        }
      }
      const s = summary(t.shared), p = summary(t.plain);
      results[name] = { msPerScan: { shared: s, plain: p }, speedup: round(p.p50 / s.p50, 2), outputDrift: drift(a, b) };
      console.log(`prepare ${name}: shared ${s.p50} ms, plain ${p.p50} ms (×${round(p.p50 / s.p50, 2)}) ${JSON.stringify(drift(a, b))}`);
    }
  } finally {
    await Promise.all([shared.close(), plain.close()]);
  }
  return { what: 'runtime.infer on one container rendering: preprocessing of every container model (and embedder tiles) plus the model runs, p50 of interleaved runs', runs, results };
}
